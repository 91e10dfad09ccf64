"""The owner sets up the website chat widget on /integrations, in Chromium."""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.e2e

OWNER = "owner@sunrise-bakery.example"
AGENT = "agent@sunrise-bakery.example"
KEY = re.compile(r'data-bizbot-key="(wk_[\w-]+)"')
SAVED = re.compile(r"^(Widget settings saved\.|Website chat widget created: .*)$")


def open_integrations(page: Page, app_url: str) -> None:
    page.goto(app_url + "/integrations")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fintegrations"))
    page.get_by_label("Email").fill(OWNER)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/integrations/?$"))
    expect(page.get_by_role("heading", name="Integrations", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Website chat widget")).to_be_visible()


def reload(page: Page) -> None:
    page.reload()
    expect(page.get_by_role("heading", name="Website chat widget")).to_be_visible()


def save(page: Page) -> None:
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text(SAVED)).to_be_visible()


def widget_key(page: Page) -> str:
    snippet = page.get_by_label("Embed snippet")
    expect(snippet).to_contain_text(KEY)
    return KEY.search(snippet.inner_text()).group(1)


def test_owner_customises_the_widget_and_rotates_its_key(page: Page, app_url: str):
    title = f"Sunrise chat {secrets.token_hex(2)}"
    origin = f"https://shop-{secrets.token_hex(3)}.example.com"
    open_integrations(page, app_url)
    origins = page.get_by_label("Allowed origins")
    # Whether or not the demo already has a widget, add one origin to what is listed.
    kept = origins.input_value().strip()
    old_title = page.get_by_label("Title", exact=True).input_value()
    old_colour = page.get_by_label("Colour", exact=True).input_value()

    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Colour", exact=True).fill("#AA3300")
    origins.fill(f"{kept}\n{origin}/" if kept else f"{origin}/")
    expect(page.get_by_label("Pick a colour")).to_have_value("#aa3300")
    expect(page.get_by_label("Preview of the chat widget")).to_contain_text(title)
    save(page)
    first_key = widget_key(page)

    reload(page)
    expect(page.get_by_label("Title", exact=True)).to_have_value(title)
    expect(page.get_by_label("Colour", exact=True)).to_have_value("#aa3300")
    listed = page.get_by_label("Allowed origins").input_value().splitlines()
    assert origin in listed  # stored without the trailing slash
    assert f"{origin}/" not in listed
    if kept:
        assert all(line.strip() in listed for line in kept.splitlines() if line.strip())
    assert widget_key(page) == first_key

    page.get_by_role("button", name="Rotate key").click()
    confirm = page.get_by_role("alertdialog")
    expect(confirm).to_contain_text("stops working")
    confirm.get_by_role("button", name="Rotate key").click()
    expect(
        page.get_by_text("New key created: replace the snippet on your site now.")
    ).to_be_visible()
    expect(page.get_by_label("Embed snippet")).not_to_contain_text(first_key)
    new_key = widget_key(page)
    assert new_key != first_key

    reload(page)
    assert widget_key(page) == new_key
    expect(page.get_by_label("Title", exact=True)).to_have_value(title)

    # Leave the demo widget looking as the widget's own tests expect (they check its title).
    page.get_by_label("Title", exact=True).fill(old_title)
    page.get_by_label("Colour", exact=True).fill(old_colour)
    save(page)


def test_an_invalid_origin_is_shown_under_the_field_and_nothing_is_saved(page: Page, app_url: str):
    open_integrations(page, app_url)
    origins = page.get_by_label("Allowed origins")
    before = origins.input_value()

    origins.fill("shop.example.com")
    page.get_by_role("button", name="Save", exact=True).click()
    error = page.locator("#field-origins-error")
    expect(error).to_contain_text("'shop.example.com' is not an origin")
    expect(error).to_contain_text("scheme://host[:port]")
    expect(origins).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text(SAVED)).to_have_count(0)

    origins.fill("https://x.com/path")
    expect(error).to_have_count(0)  # typing clears the old error
    page.get_by_role("button", name="Save", exact=True).click()
    expect(error).to_contain_text("'https://x.com/path' is not an origin")

    reload(page)
    expect(page.get_by_label("Allowed origins")).to_have_value(before)


def test_owner_generates_requires_and_removes_an_identity_secret(page: Page, app_url: str):
    open_integrations(page, app_url)
    origins = page.get_by_label("Allowed origins")
    if not origins.input_value().strip():
        origins.fill("http://localhost:*")
    save(page)  # the widget exists from here on
    require = page.get_by_role("switch", name="Require verified visitors")

    if page.get_by_role("button", name="Remove secret").count():
        page.get_by_role("button", name="Replace secret").click()
        page.get_by_role("alertdialog").get_by_role("button", name="Replace secret").click()
    else:
        expect(require).to_be_disabled()
        page.get_by_role("button", name="Generate secret").click()
    dialog = page.get_by_role("dialog", name="Your identity secret")
    expect(dialog).to_contain_text("will not show it again")
    secret = dialog.get_by_label("Identity secret", exact=True).inner_text().strip()
    assert len(secret) >= 40
    dialog.get_by_role("button", name="Done").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_text(secret)).to_have_count(0)
    expect(page.get_by_text("Secret set")).to_be_visible()

    require.click()
    expect(require).to_be_checked()
    save(page)
    reload(page)
    expect(require).to_be_checked()
    expect(page.get_by_text("Secret set")).to_be_visible()
    expect(page.get_by_text(secret)).to_have_count(0)

    page.get_by_role("button", name="Remove secret").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Remove secret").click()
    expect(page.get_by_text("Identity secret removed")).to_be_visible()
    expect(page.get_by_text("No secret", exact=True)).to_be_visible()
    expect(require).not_to_be_checked()
    expect(require).to_be_disabled()
    reload(page)
    expect(require).not_to_be_checked()


def test_an_agent_cannot_open_integrations(page: Page, app_url: str):
    page.goto(app_url + "/login")
    page.get_by_label("Email").fill(AGENT)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    nav = page.get_by_role("navigation", name="Sections")
    expect(nav.get_by_role("link", name="Integrations")).to_have_count(0)
    page.goto(app_url + "/integrations")
    expect(page.get_by_text("Integrations is not available to your role")).to_be_visible()
    expect(page.get_by_role("heading", name="Website chat widget")).to_have_count(0)
    expect(page.get_by_text("data-bizbot-key")).to_have_count(0)
