"""The owner writes a WhatsApp template, submits it, and sees Meta's approval, in Chromium."""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import DEMO_PASSWORD, App

# One fake Graph server for the whole e2e session: the app was (or will be) started with its
# address by tests/e2e/test_integrations.py, which sets GRAPH_API_BASE_URL at import.
from tests.e2e.test_integrations import GRAPH, OWNER, WA_PHONE, WA_TOKEN

pytestmark = pytest.mark.e2e

WABA_ID = "102290129340398"


def ensure_whatsapp(app: App) -> None:
    """The demo business has a WhatsApp number on the fake Graph (connected here if not yet)."""
    business_id = app.cli("demo", "seed")["business_id"]
    app.python(
        "from sqlmodel import select\n"
        "from backend.core.db import session_scope\n"
        "from backend.models.channels import ChannelIntegration\n"
        "from backend.channels.service import create_integration\n"
        "with session_scope() as s:\n"
        f"    found = s.exec(select(ChannelIntegration).where(ChannelIntegration.business_id == "
        f"{business_id}, ChannelIntegration.kind == 'whatsapp', "
        "ChannelIntegration.is_enabled.is_(True))).first()\n"
        "    if found is None:\n"
        f"        create_integration(s, business_id={business_id}, kind='whatsapp', "
        f"name='WhatsApp', credentials={{'phone_number_id': '{WA_PHONE}', "
        f"'waba_id': '{WABA_ID}', 'access_token': '{WA_TOKEN}', 'app_secret': 'e2e-secret', "
        "'verify_token': 'e2e-verify-token-0123456789'})\n"
    )


def test_owner_creates_submits_and_sees_a_template_approved(page: Page, app: App):
    ensure_whatsapp(app)
    name = f"bread_ready_{secrets.token_hex(3)}"
    page.goto(app.url + "/templates")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Ftemplates"))
    page.get_by_label("Email").fill(OWNER)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Message templates")).to_be_visible()

    page.get_by_role("button", name="New template").click()
    page.get_by_label("Name", exact=True).fill("Bread Ready!")
    page.get_by_label("Body", exact=True).fill("Hi {{1}}, your bread is ready at {{3}}.")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Use only lowercase letters, digits and underscores")).to_be_visible()
    expect(page.get_by_text("Number the variables consecutively")).to_be_visible()

    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Body", exact=True).fill("Hi {{1}}, your bread is ready at {{2}}.")
    page.get_by_label("Example for {{1}}").fill("Amina")
    page.get_by_label("Example for {{2}}").fill("the Kilimani shop")
    preview = page.locator(".template-preview")
    expect(preview).to_contain_text("Hi Amina, your bread is ready at the Kilimani shop.")
    page.get_by_role("button", name="Save draft").click()

    card = page.get_by_test_id("template-card").filter(has_text=name)
    expect(card.get_by_text("Draft", exact=True)).to_be_visible()
    card.get_by_role("button", name="Submit to Meta").click()
    expect(card.get_by_text("In review", exact=True)).to_be_visible()
    submitted = GRAPH.template_named(name, "en_US")
    assert submitted["components"] == [
        {"type": "BODY", "text": "Hi {{1}}, your bread is ready at {{2}}.",
         "example": {"body_text": [["Amina", "the Kilimani shop"]]}},
    ]  # fmt: skip

    GRAPH.review_template(name, "en_US", status="APPROVED")
    page.get_by_role("button", name="Sync now").click()
    expect(card.get_by_text("Approved", exact=True)).to_be_visible()
    page.reload()
    expect(
        page.get_by_test_id("template-card").filter(has_text=name).get_by_text("Approved")
    ).to_be_visible()
