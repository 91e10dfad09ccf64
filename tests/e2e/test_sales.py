"""The owner's catalogue on /sales, and a customer buying in the widget and paying, in Chromium."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import DEMO_PASSWORD, App
from tests.e2e.test_widget import site, w, widget_key  # noqa: F401 (fixtures)
from tests.fakes.stripe_server import FakeStripe

pytestmark = pytest.mark.e2e

OWNER = "owner@sunrise-bakery.example"
LINK = re.compile(r"https?://\S+/pay/[\w-]+")


def open_sales(page: Page, app_url: str) -> None:
    page.goto(app_url + "/sales")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fsales"))
    page.get_by_label("Email").fill(OWNER)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/sales/?$"))
    expect(page.get_by_role("heading", name="Sales & Products", level=1)).to_be_visible()


def test_owner_adds_a_product_and_sees_it_listed(page: Page, app: App, widget_key: str):  # noqa: F811
    open_sales(page, app.url)

    page.get_by_role("button", name="Add product").first.click()
    dialog = page.get_by_role("dialog", name="Add a product")
    dialog.get_by_label("Name").fill("Pistachio tart")
    dialog.get_by_label("Price").fill("4.2")
    dialog.get_by_label("Currency").fill("usd")
    dialog.get_by_label("Stock (optional)").fill("many")
    dialog.get_by_role("button", name="Add product").click()
    # Bad input is named in the form, nothing is stored.
    expect(dialog.get_by_text("is not a stock count")).to_be_visible()

    dialog.get_by_label("Stock (optional)").fill("12")
    dialog.get_by_role("button", name="Add product").click()
    expect(dialog).to_be_hidden()
    row = page.get_by_role("row").filter(has_text="Pistachio tart")
    expect(row).to_contain_text("4.20 USD")
    expect(row).to_contain_text("12")

    # Stored, not just shown: it is still there after a reload.
    page.reload()
    expect(page.get_by_role("heading", name="Sales & Products", level=1)).to_be_visible(
        timeout=20_000
    )
    expect(page.get_by_role("row").filter(has_text="Pistachio tart")).to_contain_text(
        "4.20 USD", timeout=20_000
    )


@pytest.fixture
def stripe(app: App, widget_key: str) -> Iterator[FakeStripe]:  # noqa: F811
    """The fake Stripe, connected as the demo bakery's provider and sending it its webhooks."""
    with FakeStripe(secret_key="sk_test_e2e", webhook_secret="whsec_e2e") as fake:
        business_id = app.cli("demo", "seed")["business_id"]
        config = {"secret_key": fake.secret_key, "webhook_secret": fake.webhook_secret,
                  "base_url": fake.url}  # fmt: skip
        added = app.cli("payments", "add", "--business", str(business_id), "--kind", "stripe",
                        "--config", json.dumps(config), "--test")  # fmt: skip
        assert added["enabled"] is True
        fake.webhook_url = added["webhook_url"]
        yield fake


def test_a_customer_buys_in_the_widget_pays_and_the_order_turns_paid(
    page: Page,
    app: App,
    site: str,  # noqa: F811
    stripe: FakeStripe,
):
    page.goto(site + "/")
    w(page, "launcher").click()
    w(page, "input").fill("I want to buy 2 sourdough loaves")
    w(page, "send").click()
    ai = w(page, "messages").locator("[data-sender='ai']")
    # A cold worker loads its language model before the first reply.
    expect(ai.last).to_contain_text("Total: 13.00 USD", timeout=90_000)
    expect(ai.last).to_contain_text(LINK)
    order_number = re.search(r"Order #(\d+)", ai.last.inner_text()).group(1)
    link = LINK.search(ai.last.inner_text()).group(0)

    checkout = page.context.new_page()
    checkout.goto(link)
    expect(checkout.get_by_text("13.00 USD").first).to_be_visible()
    checkout.get_by_role("button", name=re.compile("Stripe")).click()
    checkout.get_by_role("button", name="Pay").click()

    # The customer is told in the chat, without reloading.
    expect(w(page, "messages")).to_contain_text(
        f"Payment received for order #{order_number}", timeout=30_000
    )

    sales = page.context.new_page()
    open_sales(sales, app.url)
    sales.get_by_role("tab", name=re.compile("Orders")).click()
    row = sales.get_by_role("row").filter(has_text=f"#{order_number}")
    expect(row).to_contain_text("Paid")
    expect(row).to_contain_text("2 x Sourdough loaf")
    expect(row).to_contain_text("13.00 USD")


def test_owner_connects_stripe_on_the_integrations_page(page: Page, app: App, widget_key: str):  # noqa: F811
    with FakeStripe(secret_key="sk_test_ui", account_name="Sunrise Bakery Ltd") as fake:
        page.goto(app.url + "/integrations")
        page.get_by_label("Email").fill(OWNER)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("button", name="Add payment provider").click()
        dialog = page.get_by_role("dialog", name="Add a payment provider")
        expect(dialog.get_by_label("Provider")).to_contain_text("Stripe")
        dialog.get_by_label("Secret key").fill("sk_test_wrong")
        dialog.get_by_label("Webhook secret").fill("whsec_ui")
        dialog.get_by_label("API base URL (optional)").fill(fake.url)
        dialog.get_by_role("button", name="Save and test").click()
        expect(dialog).to_be_hidden()

        card = page.get_by_label("Stripe payment provider")
        # The exact error from the provider, and the provider stays off.
        expect(card.get_by_role("status")).to_contain_text("Invalid API Key", timeout=20_000)
        expect(card.get_by_role("switch")).not_to_be_checked()
        expect(card).not_to_contain_text("sk_test_wrong")

        page.get_by_role("button", name="Add payment provider").click()
        dialog.get_by_label("Secret key").fill("sk_test_ui")
        dialog.get_by_label("Webhook secret").fill("whsec_ui")
        dialog.get_by_label("API base URL (optional)").fill(fake.url)
        dialog.get_by_role("button", name="Save and test").click()
        expect(card.get_by_role("status")).to_contain_text(
            "Connected to Sunrise Bakery Ltd", timeout=20_000
        )
        expect(card.get_by_role("switch")).to_be_checked()
        expect(card).to_contain_text("Keys set: secret_key, webhook_secret")
        expect(card).not_to_contain_text("sk_test_ui")
