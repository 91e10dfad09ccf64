"""A new business works through the getting-started checklist on the real pages, in Chromium."""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import Page, expect

from tests.fakes.stripe_server import FakeStripe

pytestmark = pytest.mark.e2e

PASSWORD = "lantern orchard pebble 58"
# The first FAQ and the first try load the embedding model in the app's processes.
EMBEDDED_WITHIN_MS = 90_000
READY = re.compile(r"Ready · \d+ chunks?")


def sign_up(page: Page, app_url: str, business: str) -> str:
    email = f"owner-{secrets.token_hex(4)}@onboarding.example"
    page.goto(app_url + "/signup")
    page.get_by_label("Business name").fill(business)
    page.get_by_label("Your name").fill("Neema")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/onboarding"))
    return email


def nudge(page: Page):
    return page.get_by_role("link", name=re.compile(r"^Setup \d.7"))


def open_checklist(page: Page, app_url: str, done: int) -> None:
    """The checklist page, showing `done` of 7, and the header nudge agreeing."""
    page.goto(app_url + "/onboarding")
    expect(page.get_by_role("heading", name="Onboarding", level=1)).to_be_visible()
    expect(page.get_by_text(f"{done} of 7 steps done")).to_be_visible()
    if done < 7:
        expect(nudge(page)).to_contain_text(f"Setup {done}/7")


def step(page: Page, title: str):
    return page.get_by_label(title, exact=True)


def test_a_new_business_completes_every_step_and_the_nudge_goes(page: Page, app_url: str):
    sign_up(page, app_url, "Neema's Naturals")
    open_checklist(page, app_url, 0)
    profile = step(page, "Complete your business profile")
    # The first step not done is the one with the (solid) button; done steps say so.
    expect(profile.get_by_role("link", name="Open settings")).to_be_visible()
    expect(step(page, "Add knowledge")).not_to_contain_text("Done")

    # 1. The business profile, saved on /settings.
    profile.get_by_role("link", name="Open settings").click()
    expect(page).to_have_url(re.compile(r"/settings"))
    page.get_by_role("textbox", name="Business name", exact=True).fill("Neema's Naturals Ltd")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_role("status").filter(has_text="Business profile saved.")).to_be_visible()
    open_checklist(page, app_url, 1)
    expect(step(page, "Complete your business profile")).to_contain_text("Done")

    # 2. Knowledge: an FAQ, once the worker has embedded it.
    page.goto(app_url + "/knowledge")
    page.get_by_role("button", name="Add FAQ").first.click()
    dialog = page.get_by_role("dialog", name="Add an FAQ")
    dialog.get_by_label("Question").fill("Do you sell shea butter?")
    dialog.get_by_label("Answer").fill("Yes: raw shea butter in 250 g and 500 g jars.")
    dialog.get_by_role("button", name="Add FAQ").click()
    row = page.get_by_role("row").filter(has_text="Do you sell shea butter?")
    expect(row).to_contain_text(READY, timeout=EMBEDDED_WITHIN_MS)
    open_checklist(page, app_url, 2)

    # 3. The website widget channel on /integrations.
    page.goto(app_url + "/integrations")
    expect(page.get_by_role("heading", name="Website chat widget")).to_be_visible()
    page.get_by_label("Allowed origins").fill("http://localhost:*")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text(re.compile(r"Website chat widget created")).last).to_be_visible()
    open_checklist(page, app_url, 3)

    # 4 and 5. AI rules saved, then tried in the chat box.
    page.goto(app_url + "/ai-rules")
    page.get_by_label("Assistant's name").fill("Nuru")
    page.get_by_role("button", name="Save rules").click()
    expect(page.get_by_text("AI rules saved.")).to_be_visible()
    page.get_by_label("Message to try").fill("Do you sell shea butter?")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_label("Try-it chat")).to_contain_text(
        re.compile(r"Would (answer|hand over)"), timeout=EMBEDDED_WITHIN_MS
    )
    open_checklist(page, app_url, 5)

    # 6. A teammate invited on /users.
    page.goto(app_url + "/users")
    page.get_by_label("Email to invite").fill("baraka@onboarding.example")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation sent to baraka@onboarding.example.")).to_be_visible()
    open_checklist(page, app_url, 6)
    expect(step(page, "Connect a payment provider").get_by_role("link")).to_have_text(
        "Connect payments"
    )

    # 7. A payment provider, tested against the fake Stripe.
    with FakeStripe(secret_key="sk_test_onboard", account_name="Neema's Naturals") as fake:
        page.goto(app_url + "/integrations")
        page.get_by_role("button", name="Add payment provider").click()
        dialog = page.get_by_role("dialog", name="Add a payment provider")
        dialog.get_by_label("Secret key").fill("sk_test_onboard")
        dialog.get_by_label("Webhook secret").fill("whsec_onboard")
        dialog.get_by_label("API base URL (optional)").fill(fake.url)
        dialog.get_by_role("button", name="Save and test").click()
        card = page.get_by_label("Stripe payment provider")
        expect(card.get_by_role("status")).to_contain_text("Connected", timeout=20_000)

    open_checklist(page, app_url, 7)
    expect(page.get_by_text("All set: every setup step is done.")).to_be_visible()
    expect(nudge(page)).to_have_count(0)
    page.goto(app_url + "/")
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    expect(page.get_by_label("Setup progress")).to_have_count(0)
    expect(nudge(page)).to_have_count(0)
    # Told once, in the notifications.
    page.goto(app_url + "/notifications")
    expect(page.get_by_label("Notifications list")).to_contain_text(
        "All set: your business is ready"
    )


def test_the_checklist_can_be_dismissed_and_shown_again(page: Page, app_url: str):
    sign_up(page, app_url, "Dismissive Deli")
    page.goto(app_url + "/")
    card = page.get_by_label("Setup progress")
    expect(card).to_contain_text("0 of 7 steps done")
    expect(card.get_by_role("link", name="Open settings")).to_have_attribute("href", "/settings")
    expect(nudge(page)).to_contain_text("Next: Complete your business profile")

    card.get_by_role("button", name="Dismiss checklist").click()
    expect(card).to_have_count(0)
    expect(nudge(page)).to_have_count(0)
    page.goto(app_url + "/knowledge")  # stays dismissed on every page
    expect(page.get_by_role("heading", name="Knowledge", level=1)).to_be_visible()
    expect(nudge(page)).to_have_count(0)

    page.goto(app_url + "/")
    page.get_by_role("button", name="Show checklist again").click()
    expect(page.get_by_label("Setup progress")).to_contain_text("0 of 7 steps done")
    expect(nudge(page)).to_be_visible()
