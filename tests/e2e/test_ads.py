"""The owner writes ads for a catalogue product on /ads, saves one, and gets its link and QR."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import App

pytestmark = pytest.mark.e2e

OWNER = "owner@kilima-bakes.example"
PASSWORD = "sesame harbour violet 17"
WHATSAPP_DIGITS = "254700111222"


@pytest.fixture
def bakery(app: App) -> None:
    """A new business with the demo catalogue and a tested WhatsApp number."""
    app.cli("user", "create", "--email", OWNER, "--name", "Kilima Owner", "--password",
            PASSWORD, "--business-name", "Kilima Bakes")  # fmt: skip
    app.python(
        "from backend.auth import repository\n"
        "from backend.channels.service import create_integration\n"
        "from backend.commerce.demo import seed_demo_products\n"
        "from backend.core.db import session_scope\n"
        "from backend.tenants.repository import list_memberships_of_user\n"
        "with session_scope() as s:\n"
        f"    user = repository.find_user_by_login_email(s, email={OWNER!r})\n"
        "    business_id = list_memberships_of_user(s, user_id=user.id)[0].business_id\n"
        "    seed_demo_products(s, business_id=business_id)\n"
        "    create_integration(s, business_id=business_id, kind='whatsapp', name='WhatsApp',\n"
        "                       credentials={'phone_number_id': '1'},\n"
        "                       config={'display_name': 'Kilima Bakes (+254 700 111 222)'})\n"
    )


def test_owner_generates_saves_and_gets_a_wa_me_link_and_qr(page: Page, app: App, bakery):
    page.goto(app.url + "/ads")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fads"))
    page.get_by_label("Email").fill(OWNER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/ads/?$"))
    expect(page.get_by_role("heading", name="Write ads")).to_be_visible()

    page.get_by_role("combobox", name="Product").click()
    page.get_by_role("option", name="Sourdough loaf · 6.50 USD").click()
    page.get_by_role("button", name="Generate").click()

    variants = page.get_by_test_id("ad-variant")
    expect(variants).to_have_count(3)
    expect(variants.first).to_contain_text("Sourdough loaf")
    headline = variants.first.locator(".ad-headline").inner_text()

    variants.first.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved. Its link and QR code are in Saved ads below.")).to_be_visible()
    expect(variants).to_have_count(2)

    saved = page.get_by_test_id("ad-asset")
    expect(saved).to_have_count(1)
    expect(saved).to_contain_text(headline)
    expect(saved).to_contain_text("Draft")
    expect(saved).to_contain_text("0 conversations started")
    link = saved.locator(".ad-link")
    expect(link).to_have_text(re.compile(rf"^https://wa\.me/{WHATSAPP_DIGITS}\?text=Hi.*AD\w{{4}}"))
    expect(saved.get_by_role("img", name=re.compile(r"QR code of ad AD\w{4}"))).to_be_visible()
    download = saved.get_by_role("link", name="QR code (PNG)")
    expect(download).to_have_attribute("href", re.compile(r"^data:image/png;base64,"))
    expect(download).to_have_attribute("download", re.compile(r"^bizbot-ad-AD\w{4}\.png$"))

    saved.get_by_role("button", name="Mark ready").click()
    expect(saved).to_contain_text("Ready")
