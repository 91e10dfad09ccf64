"""Settings → Webhooks and Settings → Privacy in Chromium, on the app as `make run` starts it."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

from tests.backend.outgoing.receiver import Receiver, verify
from tests.e2e.conftest import App

pytestmark = pytest.mark.e2e

PASSWORD = "juniper lantern 42 cobalt"


def _sign_in_to(page: Page, app: App, app_url: str, email: str, path: str) -> None:
    app.cli("user", "create", "--email", email, "--password", PASSWORD, "--name", "Owner",
            "--business-name", f"Shop of {email}")  # fmt: skip
    page.goto(app_url + path)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_owner_adds_an_endpoint_and_a_signed_test_event_arrives(page: Page, app: App, app_url):
    with Receiver() as receiver:
        _sign_in_to(page, app, app_url, "hooks@shop.example", "/settings/webhooks")
        expect(page.get_by_role("heading", name="Webhooks", level=1)).to_be_visible()
        page.get_by_label("URL").fill(receiver.url + "/bizbot")
        page.get_by_label("lead.created").check()
        page.get_by_role("button", name="Add endpoint").click()
        shown = page.get_by_label("Signing secret")
        expect(shown).to_contain_text("whsec_")
        secret = shown.inner_text().strip()

        row = page.get_by_role("row").filter(has_text="lead.created")
        expect(row).to_contain_text("lead.created")
        row.get_by_role("button", name="Send test").click()
        assert receiver.answered.wait(60), "the worker did not deliver the test event"
        [got] = receiver.received
        assert verify(secret, got.headers, got.body)
        assert got.json["type"] == "webhook.test"

        delivery = page.get_by_role("row").filter(has_text="webhook.test")
        for _ in range(30):  # the worker records the answer just after the receiver sent it
            page.get_by_role("button", name="Refresh").click()
            try:
                expect(delivery).to_contain_text("succeeded", timeout=1000)
                break
            except AssertionError:
                continue
        expect(delivery).to_contain_text("succeeded")
        delivery.get_by_role("button", name="Attempts").click()
        expect(page.get_by_role("row").filter(has_text='{"ok":true}')).to_have_count(1)
        # The secret was shown once: after a reload only its hint is left.
        page.reload()
        expect(row).to_contain_text(receiver.url + "/bizbot")
        expect(row).to_contain_text("whsec_")
        expect(page.get_by_label("Signing secret")).to_have_count(0)


def test_owner_exports_then_erases_a_customer(page: Page, app: App, app_url):
    _sign_in_to(page, app, app_url, "privacy@shop.example", "/settings/privacy")
    expect(page.get_by_role("heading", name="Privacy", level=1)).to_be_visible()
    expect(page.get_by_text("What BizBot stores")).to_be_visible()
    app.python(
        "from backend.core.db import session_scope\n"
        "from backend.models import Business, Contact, Conversation, Membership, Message, User\n"
        "from sqlmodel import select\n"
        "with session_scope() as s:\n"
        "    user = s.exec(select(User).where(User.email == 'privacy@shop.example')).one()\n"
        "    bid = s.exec(select(Membership.business_id)"
        ".where(Membership.user_id == user.id)).first()\n"
        "    c = Contact(business_id=bid, name='Zawadi Otieno', email='zawadi@example.com')\n"
        "    s.add(c); s.flush()\n"
        "    conv = Conversation(business_id=bid, contact_id=c.id); s.add(conv); s.flush()\n"
        "    s.add(Message(business_id=bid, conversation_id=conv.id, text='Call me at 0712'))\n"
    )
    page.get_by_label("Search contacts").fill("zawadi")
    page.get_by_role("button", name="Search").click()
    row = page.get_by_role("row").filter(has_text="Zawadi Otieno")
    expect(row).to_be_visible()
    with page.expect_download() as download:
        row.get_by_role("button", name="Export (JSON download)").click()
    data = json.loads(download.value.path().read_text(encoding="utf-8"))
    assert data["contact"]["email"] == "zawadi@example.com"
    assert data["conversations"][0]["messages"][0]["text"] == "Call me at 0712"

    row.get_by_role("button", name="Erase").click()
    page.get_by_label("Type ERASE to confirm").fill("erase")
    page.get_by_role("button", name="Erase contact").click()
    expect(page.get_by_role("alert")).to_contain_text("Type ERASE")
    page.get_by_label("Type ERASE to confirm").fill("ERASE")
    page.get_by_role("button", name="Erase contact").click()
    expect(page.get_by_text(re.compile(r"Contact \d+ erased: 1 messages redacted"))).to_be_visible()
    page.get_by_label("Search contacts").fill("zawadi")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("row").filter(has_text="Zawadi")).to_have_count(0)
