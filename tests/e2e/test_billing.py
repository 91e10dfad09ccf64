"""The owner sees the plan and this month's usage on /billing and upgrades through Stripe."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import (
    BILLING_STRIPE_KEY,
    BILLING_STRIPE_PORT,
    BILLING_STRIPE_WEBHOOK_SECRET,
    App,
)
from tests.fakes.stripe_server import FakeStripe

pytestmark = pytest.mark.e2e

OWNER = "owner@corner-shop.example"  # a new business on the Free plan (the demo has Business)
OWNER_PASSWORD = "lantern maple orbit 42"


@pytest.fixture
def billing_stripe(app: App) -> Iterator[FakeStripe]:
    """The fake Stripe the app's BILLING_STRIPE_API_BASE points at, posting to its webhook."""
    app.cli("user", "create", "--email", OWNER, "--name", "Corner Owner", "--password",
            OWNER_PASSWORD, "--business-name", "Corner Shop")  # fmt: skip
    with FakeStripe(secret_key=BILLING_STRIPE_KEY, webhook_secret=BILLING_STRIPE_WEBHOOK_SECRET,
                    port=BILLING_STRIPE_PORT) as fake:  # fmt: skip
        fake.webhook_url = app.url + "/webhooks/billing/stripe"
        yield fake


def test_owner_sees_usage_and_upgrades_to_pro(page: Page, app: App, billing_stripe: FakeStripe):
    page.goto(app.url + "/billing")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fbilling"))
    page.get_by_label("Email").fill(OWNER)
    page.get_by_label("Password").fill(OWNER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/billing/?$"))
    expect(page.get_by_role("heading", name="Billing", level=1)).to_be_visible()

    # The Free plan, with this month's usage against its limits.
    expect(page.get_by_role("heading", name="Free", exact=True).first).to_be_visible()
    expect(page.get_by_text(re.compile(r"\d+ of 100 conversations a month"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"\d+ of 2 team members"))).to_be_visible()
    expect(page.get_by_role("progressbar").first).to_be_visible()

    pro = page.get_by_label("Pro", exact=True)
    expect(pro).to_contain_text("$29 / month")
    pro.get_by_role("button", name="Upgrade").click()

    # Stripe's hosted checkout (the fake): paying sends the webhooks and comes back.
    expect(page).to_have_url(re.compile(rf"127\.0\.0\.1:{BILLING_STRIPE_PORT}/c/pay/"))
    page.get_by_role("button", name="Pay").click()

    expect(page).to_have_url(re.compile(r"/billing/?\?checkout=success$"))
    expect(page.get_by_text("Thank you! Your new plan shows here")).to_be_visible()
    expect(page.get_by_role("heading", name="Pro", exact=True).first).to_be_visible()
    expect(page.get_by_text("Active", exact=True)).to_be_visible()
    expect(page.get_by_text(re.compile(r"Renews on \d+ \w+ \d{4}"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"\d+ of 2,000 conversations a month"))).to_be_visible()
    expect(page.get_by_label("Pro", exact=True)).to_contain_text("Current plan")
    expect(page.get_by_role("button", name="Manage billing")).to_be_visible()
    [params] = [r["params"] for r in billing_stripe.requests
                if r["path"] == "/v1/checkout/sessions"]  # fmt: skip
    assert params["mode"] == "subscription"
    assert params["line_items"][0]["price"] == "price_pro_e2e"
