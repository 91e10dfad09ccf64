"""The owner sets up the website chat widget on /integrations, in Chromium."""

from __future__ import annotations

import json
import os
import re
import secrets
import time
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import Page, expect

from backend.channels import meta
from tests.e2e.conftest import DEMO_PASSWORD, App
from tests.fakes.graph_server import FakeGraph
from tests.fakes.telegram_server import FakeTelegram

pytestmark = pytest.mark.e2e

# The platforms the app talks to are local fakes; the app is started (lazily, once per test
# session) with these addresses, so they are set while the tests are collected.
GRAPH = FakeGraph().__enter__()
TELEGRAM = FakeTelegram().__enter__()
os.environ["GRAPH_API_BASE_URL"] = GRAPH.url
os.environ["GRAPH_API_VERSION"] = "23.0"
os.environ["TELEGRAM_API_BASE_URL"] = TELEGRAM.url
BOT_TOKEN = "7000001:AAE2e-test-token-for-sunrise"
TELEGRAM.add_bot(BOT_TOKEN, username="sunrise_e2e_bot", first_name="Sunrise Bakery")
WA_PHONE, WA_TOKEN = "106540352242922", "EAAGe2eWhatsAppToken"
GRAPH.add_phone(
    WA_PHONE, token=WA_TOKEN, verified_name="Sunrise Bakery", display_phone_number="+254 700 000002"
)
APP_SECRET = "e2e-app-secret-0123456789"
# The installation's Meta app: "Connect with Facebook" goes to the fake Graph server's login
# dialog, which approves at once and sends the browser back with a code.
META_APP_ID, META_APP_SECRET = "4242424242", "e2e-meta-app-secret-0123456789"
os.environ["META_APP_ID"] = META_APP_ID
os.environ["META_APP_SECRET"] = META_APP_SECRET
os.environ["META_OAUTH_DIALOG_URL"] = GRAPH.url
GRAPH.add_meta_app(META_APP_ID, META_APP_SECRET, redirect_uri=None)

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
    # .last: an earlier save's toast may still be on screen.
    expect(page.get_by_text(SAVED).last).to_be_visible()


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


# --- messaging channels ------------------------------------------------------------------------


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    request = urllib.request.Request(  # noqa: S310 (a local URL)
        url, data=body, method="POST", headers={"Content-Type": "application/json", **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:  # noqa: S310 (a local URL)
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _wait_for(predicate, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError("timed out waiting")


def test_owner_connects_a_telegram_bot_and_its_messages_arrive(page: Page, app: App):
    open_integrations(page, app.url)
    card = page.get_by_role("region", name="Telegram channel")
    if card.get_by_role("button", name="Disconnect").count():
        card.get_by_role("button", name="Disconnect").click()
        page.get_by_role("alertdialog").get_by_role("button", name="Disconnect").click()
        expect(card.get_by_text("Not connected", exact=True)).to_be_visible()
    card.get_by_label("Bot token").fill(BOT_TOKEN)
    card.get_by_role("button", name="Save and connect").click()
    expect(card.get_by_text("Connected", exact=True)).to_be_visible()
    expect(card).to_contain_text("Sunrise Bakery (@sunrise_e2e_bot)")
    expect(
        page.get_by_text("Telegram connected: Sunrise Bakery (@sunrise_e2e_bot).")
    ).to_be_visible()
    url_box = card.get_by_label("Webhook URL")
    expect(url_box).to_contain_text("/webhooks/telegram/")
    webhook_url = url_box.inner_text().strip()
    registered = TELEGRAM.webhook(BOT_TOKEN)
    assert registered["url"] == webhook_url
    expect(card.get_by_label("Bot token")).to_have_value("")  # the secret is never shown again
    expect(card.get_by_label("Bot token")).to_have_attribute(
        "placeholder", "Saved: leave empty to keep it"
    )

    reload(page)
    expect(card.get_by_text("Connected", exact=True)).to_be_visible()

    # A customer writes to the bot: Telegram calls the webhook with the secret it was given.
    text = f"Do you have croissants today? {secrets.token_hex(3)}"
    update = {
        "update_id": int(time.time()),
        "message": {
            "message_id": 5,
            "date": int(time.time()),
            "text": text,
            "from": {"id": 55501, "is_bot": False, "first_name": "Amina"},
            "chat": {"id": 55501, "type": "private", "first_name": "Amina"},
        },
    }
    body = json.dumps(update).encode()
    wrong = _post(webhook_url, body, {"X-Telegram-Bot-Api-Secret-Token": "wrong"})
    assert wrong[0] == 403
    secret = registered["secret_token"]
    status, answer = _post(webhook_url, body, {"X-Telegram-Bot-Api-Secret-Token": secret})
    assert (status, answer) == (200, {"received": 1, "new": 1})
    assert _post(webhook_url, body, {"X-Telegram-Bot-Api-Secret-Token": secret})[1]["new"] == 0
    business_id = app.cli("demo", "seed")["business_id"]
    _wait_for(lambda: any(c.params.get("chat_id") == "55501" for c in TELEGRAM.sent()))
    listed = app.python(
        "import json; from backend.conversations import service; "
        "from backend.core.db import session_scope\n"
        f"with session_scope() as s: print(json.dumps(service.latest_messages(s, "
        f"business_id={business_id}, limit=10), default=str))"
    )
    texts = [m["text"] for m in json.loads(listed) if m["direction"] == "inbound"]
    assert texts.count(text) == 1

    card.get_by_role("button", name="Disconnect").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Disconnect").click()
    expect(page.get_by_text("Telegram disconnected.")).to_be_visible()
    expect(card.get_by_text("Not connected", exact=True)).to_be_visible()
    assert TELEGRAM.webhook(BOT_TOKEN) == {}
    assert _post(webhook_url, body, {"X-Telegram-Bot-Api-Secret-Token": secret})[0] == 410


def test_a_wrong_whatsapp_token_shows_metas_own_error_then_connects(page: Page, app: App):
    open_integrations(page, app.url)
    card = page.get_by_role("region", name="WhatsApp channel")
    card.get_by_label("Phone number ID").fill("+254 700 000002")
    card.get_by_label("WhatsApp Business Account ID").fill("102290129340398")
    card.get_by_label("Access token").fill("EAAGexpired")
    card.get_by_label("App secret").fill(APP_SECRET)
    card.get_by_role("button", name="Save and connect").click()
    error = page.locator("#whatsapp-phone_number_id-error")
    expect(error).to_contain_text("digits only")
    expect(card.get_by_label("Phone number ID")).to_have_attribute("aria-invalid", "true")

    card.get_by_label("Phone number ID").fill(WA_PHONE)
    card.get_by_role("button", name="Save and connect").click()
    alert = card.get_by_role("alert")
    expect(alert).to_contain_text(
        "Invalid OAuth access token - Cannot parse access token (code 190)"
    )
    expect(card.get_by_text("Not working", exact=True)).to_be_visible()

    card.get_by_label("Access token").fill(WA_TOKEN)
    card.get_by_role("button", name="Save and connect").click()
    expect(card.get_by_text("Connected", exact=True)).to_be_visible()
    expect(card).to_contain_text("Sunrise Bakery (+254 700 000002)")
    expect(card.get_by_role("alert")).to_have_count(0)
    webhook_url = card.get_by_label("Webhook URL").inner_text().strip()
    verify_token = card.get_by_label("Verify token", exact=True).inner_text().strip()
    assert len(verify_token) >= 20

    # Meta's handshake on the URL shown, with the token shown, and a signed delivery.
    challenge = urllib.request.urlopen(  # noqa: S310 (a local URL)
        f"{webhook_url}?hub.mode=subscribe&hub.verify_token={verify_token}&hub.challenge=4242",
        timeout=30,
    ).read()
    assert challenge == b"4242"
    body = json.dumps({"object": "whatsapp_business_account", "entry": []}).encode()
    assert _post(webhook_url, body, {"X-Hub-Signature-256": meta.sign(body, APP_SECRET)}) == (
        200,
        {"received": 0, "new": 0},
    )
    assert _post(webhook_url, body, {})[0] == 401


def test_owner_connects_messenger_with_facebook(page: Page, app: App):
    GRAPH.state.redirect_uri = f"{app.url}/api/integrations/meta/callback"
    page_token = "EAAe2ePageTokenFromFacebookLogin"
    GRAPH.add_page("1357913579", token=page_token, name="Sunrise Bakery Page")
    GRAPH.add_login(
        "e2e-login",
        pages=[{"id": "1357913579", "name": "Sunrise Bakery Page", "access_token": page_token}],
    )
    open_integrations(page, app.url)
    card = page.get_by_role("region", name="Messenger channel")

    GRAPH.state.next_code = None  # the owner cancels on Facebook
    card.get_by_role("button", name="Connect with Facebook").click()
    result = page.get_by_test_id("meta-result")
    expect(result).to_contain_text("Facebook Login was not completed: Permissions error")

    GRAPH.state.next_code = "e2e-login"  # this time they approve
    card = page.get_by_role("region", name="Messenger channel")
    card.get_by_role("button", name="Connect with Facebook").click()
    expect(page.get_by_test_id("meta-result")).to_contain_text(
        "Messenger connected: Sunrise Bakery Page."
    )
    card = page.get_by_role("region", name="Messenger channel")
    expect(card.get_by_text("Connected", exact=True)).to_be_visible()
    expect(card.get_by_label("Facebook Page ID")).to_have_value("1357913579")
    expect(card.get_by_label("Webhook URL")).to_contain_text("/webhooks/messenger/")
