"""The owner changes the AI rules on /ai-rules and tries them in the chat box, in Chromium."""

from __future__ import annotations

import json
import re
import secrets

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import DEMO_PASSWORD, App

pytestmark = pytest.mark.e2e

OWNER = "owner@sunrise-bakery.example"
AGENT = "agent@sunrise-bakery.example"
# The first try loads the embedding model in the app's process.
ANSWERED_WITHIN_MS = 90_000


def log_in_to_ai_rules(page: Page, app_url: str, email: str) -> None:
    page.goto(app_url + "/ai-rules")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fai-rules"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/ai-rules/?$"))
    expect(page.get_by_role("heading", name="AI Rules", level=1)).to_be_visible()


def test_owner_adds_a_handoff_keyword_and_tries_it(page: Page, app_url: str, browser: Browser):
    log_in_to_ai_rules(page, app_url, OWNER)
    # The demo's saved rules are on the form.
    expect(page.get_by_label("Assistant's name")).to_have_value("Sunny")

    page.get_by_label("Handoff keywords", exact=True).fill("lawyer")
    page.get_by_role("button", name="Add handoff keywords").click()
    keywords = page.get_by_role("list", name="Current handoff keywords")
    expect(keywords).to_contain_text("lawyer")
    expect(page.get_by_text("Unsaved changes", exact=True)).to_be_visible()

    chat = page.get_by_label("Try-it chat")
    page.get_by_label("Message to try").fill("My lawyer will call you about the cake")
    page.get_by_role("button", name="Try with unsaved changes").click()
    expect(chat).to_contain_text(
        "Would hand over: handoff keyword 'lawyer'.", timeout=ANSWERED_WITHIN_MS
    )
    expect(chat).to_contain_text("with unsaved changes")

    page.get_by_role("button", name="Save rules").click()
    expect(page.get_by_text("AI rules saved.")).to_be_visible()
    expect(page.get_by_text("Unsaved changes", exact=True)).to_be_hidden()

    page.get_by_role("button", name="Reset chat").click()
    expect(chat).not_to_contain_text("lawyer")
    page.get_by_label("Message to try").fill("Which payment methods do you accept?")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(chat).to_contain_text("We accept cash, Visa and Mastercard", timeout=ANSWERED_WITHIN_MS)
    expect(chat).to_contain_text("Would answer")
    expect(chat.get_by_label("Sources")).to_contain_text("Which payment methods do you accept?")

    # Saved for real: a fresh load shows the new keyword.
    page.reload()
    expect(page.get_by_role("list", name="Current handoff keywords")).to_contain_text("lawyer")

    # An agent reads the same rules, locked, without the chat box.
    context = browser.new_context()
    try:
        agent = context.new_page()
        log_in_to_ai_rules(agent, app_url, AGENT)
        expect(agent.get_by_text("You can read these rules")).to_be_visible()
        expect(agent.get_by_role("list", name="Current handoff keywords")).to_contain_text("lawyer")
        expect(agent.get_by_label("Assistant's name")).to_be_disabled()
        expect(agent.get_by_role("button", name="Save rules")).to_have_count(0)
        expect(agent.get_by_label("Message to try")).to_have_count(0)
    finally:
        context.close()


SETTINGS_PASSWORD = "saffron kettle 71 meadow"
TWO_RANGES = "08:00-12:00, 14:00-18:00"


def _stored_hours(app: App, email: str) -> dict:
    return json.loads(
        app.python(
            "import json\n"
            "from backend.ai import rules_admin\n"
            "from backend.auth import repository\n"
            "from backend.auth.permissions import Actor\n"
            "from backend.core.db import session_scope\n"
            "from backend.tenants.repository import list_memberships_of_user\n"
            "with session_scope() as s:\n"
            f"    user = repository.find_user_by_login_email(s, email={email!r})\n"
            "    m = list_memberships_of_user(s, user_id=user.id)[0]\n"
            "    form = rules_admin.get_rules(s, actor=Actor(user.id, m.business_id, m.role))\n"
            "    print(json.dumps({'business_hours': form.business_hours,"
            " 'out_of_hours_message': form.out_of_hours_message}))\n"
        )
    )


def test_saving_the_ai_rules_keeps_every_range_set_on_settings(page: Page, app: App):
    email = f"owner-{secrets.token_hex(4)}@hours.example"
    app.cli("user", "create", "--email", email, "--password", SETTINGS_PASSWORD, "--name",
            "Neema", "--business-name", f"Duka {secrets.token_hex(3)}")  # fmt: skip
    page.goto(f"{app.url}/login?next=%2Fsettings")
    page.wait_for_load_state("networkidle")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(SETTINGS_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/settings/?$"))

    # Monday with a lunch break, set where the hours are edited.
    page.get_by_label("Monday", exact=True).check()
    page.get_by_label("Monday hours").fill(TWO_RANGES)
    page.get_by_label("Out-of-hours reply").fill("Closed now; back at 8.")
    page.get_by_role("button", name="Save hours").click()
    expect(page.get_by_text("Business hours saved.")).to_be_visible()
    both = {"days": {"mon": [["08:00", "12:00"], ["14:00", "18:00"]]}}
    assert _stored_hours(app, email)["business_hours"] == both

    # Saving only the tone on AI Rules leaves the hours and the reply as Settings saved them.
    page.goto(f"{app.url}/ai-rules")
    expect(page.get_by_role("heading", name="AI Rules", level=1)).to_be_visible()
    page.get_by_label("Tone").click()
    page.get_by_role("option", name="formal").click()
    page.get_by_role("button", name="Save rules").click()
    expect(page.get_by_text("AI rules saved.")).to_be_visible()
    assert _stored_hours(app, email) == {
        "business_hours": both,
        "out_of_hours_message": "Closed now; back at 8.",
    }

    # AI Rules shows the hours read-only, every range of the day, and where to change them.
    hours = page.get_by_role("region", name="Business hours")
    expect(hours).to_contain_text("Monday")
    expect(hours).to_contain_text(TWO_RANGES)
    expect(hours).to_contain_text("Closed now; back at 8.")
    expect(hours.get_by_role("textbox")).to_have_count(0)
    expect(hours.get_by_role("switch")).to_have_count(0)
    hours.get_by_role("link", name="Edit on Settings").click()
    expect(page).to_have_url(re.compile(r"/settings/?$"))
    expect(page.get_by_label("Monday hours")).to_have_value(TWO_RANGES)
