"""The payments service on the real PostgreSQL, with the fake Stripe behind the adapter."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import select

from backend import events
from backend.models.payments import PaymentLink, PaymentProviderSetting
from backend.payments import service
from backend.payments.base import InvalidSignature, Redirect
from backend.payments.schemas import PaymentError
from tests import factories
from tests.backend.payments.helpers import (
    chat_replies,
    connect_stripe,
    make_shop,
    order,
    owner_notices,
    payments,
    webhook_events,
)
from tests.fakes.stripe_server import FakeStripe


@pytest.fixture
def stripe_fake() -> Iterator[FakeStripe]:
    with FakeStripe(secret_key="sk_test_shop", webhook_secret="whsec_shop") as fake:
        yield fake


def _pay_link(db, shop, fake) -> tuple[int, str, str]:
    """Connect Stripe, make a link and start a Checkout Session: (provider id, token, cs id)."""
    provider_id = connect_stripe(db, shop, fake)
    link = service.create_payment_link(db, business_id=shop.business_id, order_id=shop.order_id)
    result = service.start_payment(db, token=link.token, kind="stripe")
    assert isinstance(result, Redirect)
    return provider_id, link.token, result.provider_reference


def _webhook(db, provider_id, delivery) -> str:
    return service.handle_webhook(
        db, kind="stripe", provider_id=provider_id, headers=delivery.headers, body=delivery.body
    )


# --- provider accounts --------------------------------------------------------------------


def test_add_provider_names_the_missing_credential_keys(db):
    shop = make_shop(db)
    with pytest.raises(PaymentError, match="webhook_secret"):
        service.add_provider(
            db, business_id=shop.business_id, kind="stripe", credentials={"secret_key": "sk_x"}
        )
    with pytest.raises(PaymentError, match="no payment provider 'cash'"):
        service.add_provider(db, business_id=shop.business_id, kind="cash", credentials={})


def test_adding_again_updates_and_views_never_show_secrets(db, stripe_fake):
    shop = make_shop(db)
    first = connect_stripe(db, shop, stripe_fake, enable=False)
    again = service.add_provider(
        db,
        business_id=shop.business_id,
        kind="stripe",
        credentials={"secret_key": "sk_test_other_secret", "webhook_secret": "whsec_other"},
        currencies=["usd", "EUR"],
    )
    assert again == first
    rows = db.exec(
        select(PaymentProviderSetting).where(PaymentProviderSetting.business_id == shop.business_id)
    ).all()
    assert len(rows) == 1
    assert "sk_test_other_secret" not in rows[0].credentials_encrypted
    (view,) = service.list_providers(db, business_id=shop.business_id)
    assert view.credentials_set == ["secret_key", "webhook_secret"]
    assert view.missing == []
    assert view.currencies == ["USD", "EUR"]
    assert view.webhook_url.endswith(f"/webhooks/payments/stripe/{first}")
    assert "sk_test_other_secret" not in repr(view)
    assert "whsec_other" not in repr(view)


def test_test_connection_enables_only_on_success(db, stripe_fake):
    shop = make_shop(db)
    provider_id = service.add_provider(
        db,
        business_id=shop.business_id,
        kind="stripe",
        credentials={"secret_key": "sk_test_wrong", "webhook_secret": "whsec_shop"},
        config={"base_url": stripe_fake.url},
    )
    bad = service.test_connection(db, business_id=shop.business_id, provider_id=provider_id)
    assert not bad.ok
    assert "Invalid API Key" in bad.error
    assert "secret key" in bad.error
    assert not service.list_providers(db, business_id=shop.business_id)[0].is_enabled
    service.update_provider(
        db,
        business_id=shop.business_id,
        provider_id=provider_id,
        credentials={"secret_key": stripe_fake.secret_key},
    )
    good = service.test_connection(db, business_id=shop.business_id, provider_id=provider_id)
    assert good.ok
    assert good.display_name == "Sunrise Bakery"
    assert service.list_providers(db, business_id=shop.business_id)[0].is_enabled


def test_another_business_cannot_touch_a_provider(db, stripe_fake):
    shop, other = make_shop(db), make_shop(db)
    provider_id = connect_stripe(db, shop, stripe_fake)
    with pytest.raises(PaymentError) as err:
        service.remove_provider(db, business_id=other.business_id, provider_id=provider_id)
    assert err.value.status == 404
    assert service.list_providers(db, business_id=other.business_id) == []


# --- links and starting a payment ---------------------------------------------------------


def test_link_page_shows_the_order_and_the_providers_for_its_currency(db, stripe_fake):
    shop = make_shop(db, items=[("Chocolate cake", 1250, 2), ("Candle", 300, 1)])
    connect_stripe(db, shop, stripe_fake)
    link = service.create_payment_link(db, business_id=shop.business_id, order_id=shop.order_id)
    assert link.url == service.link_url(link.token)
    assert link.url.endswith(f"/pay/{link.token}")
    assert order(db, shop).status == "awaiting_payment"
    again = service.create_payment_link(db, business_id=shop.business_id, order_id=shop.order_id)
    assert again.token == link.token  # one open link per order, never two

    page = service.get_link_page(db, token=link.token)
    assert page.business_name == "Sunrise Bakery"
    assert page.total == "28.00 USD"
    assert page.state == "open"
    assert [(i.name, i.quantity, i.line_total) for i in page.items] == [
        ("Chocolate cake", 2, "25.00 USD"),
        ("Candle", 1, "3.00 USD"),
    ]
    assert [p.kind for p in page.providers] == ["stripe"]

    (view,) = service.list_providers(db, business_id=shop.business_id)
    service.update_provider(
        db, business_id=shop.business_id, provider_id=view.id, currencies=["EUR"]
    )
    assert service.get_link_page(db, token=link.token).providers == []
    assert service.get_link_page(db, token="no-such-token") is None


def test_start_payment_charges_the_order_total_not_anything_else(db, stripe_fake):
    shop = make_shop(db)
    _, token, session_id = _pay_link(db, shop, stripe_fake)
    (payment,) = payments(db, shop)
    assert (payment.status, payment.amount_cents, payment.currency) == ("pending", 2500, "USD")
    assert payment.provider_reference == session_id
    (created,) = stripe_fake.created_sessions()
    assert created["amount_total"] == 2500
    assert created["currency"] == "usd"
    assert created["client_reference_id"] == payment.reference
    assert created["success_url"] == f"{service.link_url(token)}?status=return"
    assert service.get_link_page(db, token=token).state == "pending"


def test_expired_and_cancelled_links_refuse_payment(db, stripe_fake):
    shop = make_shop(db)
    connect_stripe(db, shop, stripe_fake)
    link = service.create_payment_link(
        db, business_id=shop.business_id, order_id=shop.order_id, expires_in=timedelta(hours=1)
    )
    row = db.get(PaymentLink, link.id)
    row.expires_at = row.expires_at - timedelta(hours=2)
    db.add(row)
    db.flush()
    with pytest.raises(PaymentError, match="expired: ask the business for a new link") as err:
        service.start_payment(db, token=link.token, kind="stripe")
    assert err.value.status == 410
    assert service.expire_links(db) == 1
    assert service.get_link_page(db, token=link.token).state == "expired"

    fresh = service.create_payment_link(db, business_id=shop.business_id, order_id=shop.order_id)
    assert fresh.token != link.token
    service.cancel_payment_link(db, business_id=shop.business_id, link_id=fresh.id)
    assert order(db, shop).status == "pending"
    with pytest.raises(PaymentError, match="cancelled") as err:
        service.start_payment(db, token=fresh.token, kind="stripe")
    assert err.value.status == 410
    assert payments(db, shop) == []


def test_start_payment_refuses_a_provider_the_business_has_not_switched_on(db, stripe_fake):
    shop = make_shop(db)
    connect_stripe(db, shop, stripe_fake, enable=False)
    link = service.create_payment_link(db, business_id=shop.business_id, order_id=shop.order_id)
    with pytest.raises(PaymentError, match="not a way to pay this business"):
        service.start_payment(db, token=link.token, kind="stripe")
    with pytest.raises(PaymentError, match="not a way to pay this business"):
        service.start_payment(db, token=link.token, kind="paystack")


# --- webhooks -----------------------------------------------------------------------------


def test_a_webhook_replayed_three_times_pays_the_order_once(db, stripe_fake):
    shop = make_shop(db)
    provider_id, token, session_id = _pay_link(db, shop, stripe_fake)
    delivery = stripe_fake.pay(session_id)

    outcomes = [_webhook(db, provider_id, delivery) for _ in range(3)]
    assert outcomes == ["paid", "replay", "replay"]
    # Stripe also sends payment_intent.succeeded for the same payment: nothing more happens.
    assert _webhook(db, provider_id, stripe_fake.intent_succeeded(session_id)) == "unchanged"

    (payment,) = payments(db, shop)
    assert payment.status == "succeeded"
    assert payment.confirmed_at is not None
    assert order(db, shop).status == "paid"
    number = order(db, shop).number
    assert chat_replies(db, shop) == [
        f"Payment received for order #{number}: 25.00 USD. Thank you!"
    ]
    assert owner_notices(db) == [(shop.business_id, payments(db, shop)[0].id)]
    assert webhook_events(db) == 2
    paid_events = [e for e in events.pending(db) if e.name == "order.paid"]
    assert len(paid_events) == 1
    assert paid_events[0].data["order_id"] == shop.order_id
    page = service.get_link_page(db, token=token)
    assert page.state == "paid"
    assert page.providers == []
    with pytest.raises(PaymentError, match="already paid"):
        service.start_payment(db, token=token, kind="stripe")


def test_a_wrong_signature_stores_and_changes_nothing(db, stripe_fake):
    shop = make_shop(db)
    provider_id, _, session_id = _pay_link(db, shop, stripe_fake)
    genuine = stripe_fake.pay(session_id)
    forged = {**genuine.headers, "Stripe-Signature": "t=1700000000,v1=" + "0" * 64}
    with pytest.raises(InvalidSignature):
        service.handle_webhook(
            db, kind="stripe", provider_id=provider_id, headers=forged, body=genuine.body
        )
    tampered = genuine.body.replace(b'"amount_total": 2500', b'"amount_total": 1')
    with pytest.raises(InvalidSignature):
        service.handle_webhook(
            db, kind="stripe", provider_id=provider_id, headers=genuine.headers, body=tampered
        )
    assert webhook_events(db) == 0
    assert order(db, shop).status == "awaiting_payment"
    assert payments(db, shop)[0].status == "pending"


def test_an_amount_or_currency_mismatch_sends_the_order_to_review(db, stripe_fake):
    shop = make_shop(db)
    provider_id, token, session_id = _pay_link(db, shop, stripe_fake)
    assert _webhook(db, provider_id, stripe_fake.pay(session_id, amount=100)) == "needs_review"
    assert order(db, shop).status == "needs_review"
    assert "1.00 USD instead of 25.00 USD" in payments(db, shop)[0].failure_reason
    assert chat_replies(db, shop) == []
    assert owner_notices(db) == []
    assert service.get_link_page(db, token=token).state == "review"

    other = make_shop(db)
    provider_id, _, session_id = _pay_link(db, other, stripe_fake)
    assert _webhook(db, provider_id, stripe_fake.pay(session_id, currency="eur")) == "needs_review"
    assert order(db, other).status == "needs_review"


def test_a_provider_of_one_business_never_pays_another_business_order(db, stripe_fake):
    shop_a, shop_b = make_shop(db), make_shop(db)
    provider_a = connect_stripe(db, shop_a, stripe_fake)
    _, _, session_b = _pay_link(db, shop_b, stripe_fake)
    # A genuine event about B's payment arriving at A's webhook URL (same Stripe secret).
    assert _webhook(db, provider_a, stripe_fake.pay(session_b)) == "unknown_payment"
    assert order(db, shop_b).status == "awaiting_payment"
    assert payments(db, shop_b)[0].status == "pending"
    assert chat_replies(db, shop_b) == []


def test_events_bizbot_does_not_use_are_ignored_after_the_signature_check(db, stripe_fake):
    shop = make_shop(db)
    provider_id = connect_stripe(db, shop, stripe_fake)
    delivery = stripe_fake.event("customer.created", {"id": "cus_1", "object": "customer"})
    assert _webhook(db, provider_id, delivery) == "ignored"
    assert webhook_events(db) == 0
    with pytest.raises(PaymentError) as err:
        service.handle_webhook(
            db, kind="paystack", provider_id=provider_id, headers=delivery.headers,
            body=delivery.body,
        )  # fmt: skip
    assert err.value.status == 404


def test_a_failed_payment_leaves_the_link_open_for_another_try(db, stripe_fake):
    shop = make_shop(db)
    provider_id, token, session_id = _pay_link(db, shop, stripe_fake)
    session = stripe_fake.state.sessions[session_id]
    expired = stripe_fake.event("checkout.session.expired", {**session, "status": "expired"})
    assert _webhook(db, provider_id, expired) == "cancelled"
    assert order(db, shop).status == "awaiting_payment"
    assert service.get_link_page(db, token=token).state == "open"
    assert isinstance(service.start_payment(db, token=token, kind="stripe"), Redirect)
    assert len(payments(db, shop)) == 2


def test_payment_links_need_a_payable_order_of_the_business(db):
    shop, other = make_shop(db), make_shop(db)
    with pytest.raises(PaymentError) as err:
        service.create_payment_link(db, business_id=other.business_id, order_id=shop.order_id)
    assert err.value.status == 404
    business = factories.make_business(db)
    empty = factories.make_order(db, business=business, items=[])
    with pytest.raises(PaymentError, match="totals nothing"):
        service.create_payment_link(db, business_id=business.id, order_id=empty.id)


def test_a_second_successful_attempt_is_flagged_for_a_refund(db, stripe_fake):
    shop = make_shop(db)
    provider_id, token, first = _pay_link(db, shop, stripe_fake)
    second = service.start_payment(db, token=token, kind="stripe").provider_reference
    assert _webhook(db, provider_id, stripe_fake.pay(first)) == "paid"
    assert _webhook(db, provider_id, stripe_fake.pay(second)) == "paid_twice"
    assert order(db, shop).status == "paid"
    extra = next(p for p in payments(db, shop) if p.provider_reference == second)
    assert "refund this one" in extra.failure_reason
    assert len(chat_replies(db, shop)) == 1


def test_a_payment_for_an_order_cancelled_meanwhile_goes_to_review(db, stripe_fake):
    shop = make_shop(db)
    provider_id, _, session_id = _pay_link(db, shop, stripe_fake)
    cancelled = order(db, shop)
    cancelled.status = "cancelled"
    db.add(cancelled)
    db.flush()
    assert _webhook(db, provider_id, stripe_fake.pay(session_id)) == "needs_review"
    assert order(db, shop).status == "needs_review"
    assert "was cancelled when it was paid" in payments(db, shop)[0].failure_reason
    assert chat_replies(db, shop) == []
