"""How the Sales page and the payment provider cards show products, orders and providers."""

from __future__ import annotations

from datetime import UTC, datetime

from backend.commerce.schemas import OrderItemView, OrderView, ProductView
from backend.payments.schemas import ProviderView
from state.payments import credential_fields, provider_row
from state.sales import order_row, product_row

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _product(**changes) -> ProductView:
    values = {
        "id": 1, "name": "Wagyu", "description": "", "kind": "product", "price_cents": 1500,
        "currency": "JPY", "price_display": "1,500 JPY", "sku": None, "stock": None,
        "is_active": True, "image_path": None, "updated_at": NOW,
    }  # fmt: skip
    return ProductView(**(values | changes))


def test_the_edit_form_shows_the_price_in_units_of_the_currency():
    assert product_row(_product()).price_input == "1500"
    kwd = product_row(_product(price_cents=2500, currency="KWD", stock=0))
    assert (kwd.price_input, kwd.stock, kwd.sku) == ("2.500", "0", "")
    assert product_row(_product(image_path="products/1/x.png")).has_image is True


def test_an_order_row_sums_up_its_lines():
    view = OrderView(
        id=3, number=7, status="awaiting_payment", currency="USD", subtotal_cents=1550,
        total_cents=1550, total_display="15.50 USD", contact_id=None, contact_name=None,
        conversation_id=None, created_at=NOW,
        items=[OrderItemView(1, "Sourdough loaf", 2, 450, 900),
               OrderItemView(2, "Cake", 1, 650, 650)],
        payment_link_url="http://localhost:3000/pay/abc", payment_link_status="active",
    )  # fmt: skip
    row = order_row(view)
    assert (row.status_label, row.contact, row.total) == ("Awaiting payment", "—", "15.50 USD")
    assert row.summary == "2 x Sourdough loaf, 1 x Cake"
    assert (row.link_url, row.link_status) == ("http://localhost:3000/pay/abc", "active")


def test_provider_cards_show_which_keys_are_set_never_their_values():
    view = ProviderView(
        id=1, kind="stripe", label="Stripe", is_enabled=False, is_test_mode=True, currencies=[],
        config={"base_url": "http://127.0.0.1:9"}, credentials_set=["secret_key"],
        missing=["webhook_secret"], push=False, webhook_url="http://x/webhooks/payments/stripe/1",
    )  # fmt: skip
    row = provider_row(view)
    assert (row.keys_set, row.missing) == ("secret_key", "webhook_secret")
    assert row.currencies == "any currency it supports"
    assert [(f.name, f.required) for f in credential_fields("stripe")] == [
        ("secret_key", True),
        ("webhook_secret", True),
    ]
    assert credential_fields("no-such-provider") == []
