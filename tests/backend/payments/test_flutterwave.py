"""Flutterwave end to end through the service, against the fake Flutterwave API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from backend.payments import service
from backend.payments.base import InvalidSignature, ProviderError, Redirect
from tests.backend.payments.helpers import (
    chat_replies,
    connect,
    make_shop,
    order,
    payments,
    webhook_events,
)
from tests.fakes.flutterwave_server import FakeFlutterwave


@pytest.fixture
def flutterwave() -> Iterator[FakeFlutterwave]:
    with FakeFlutterwave(secret_key="FLWSECK_TEST-shop-X", secret_hash="shop-hash") as fake:
        yield fake


def _started(db, flutterwave):
    shop = make_shop(db, currency="NGN")
    provider_id = connect(
        db, shop, kind="flutterwave", base_url=flutterwave.url,
        credentials={"secret_key": flutterwave.secret_key, "secret_hash": "shop-hash"},
    )  # fmt: skip
    link = service.create_payment_link(db, business_id=shop.business_id, order_id=shop.order_id)
    result = service.start_payment(
        db, token=link.token, kind="flutterwave", payer_email="ada@example.com"
    )
    assert isinstance(result, Redirect)
    (payment,) = payments(db, shop)
    return shop, provider_id, payment.reference, result


def _webhook(db, provider_id, delivery) -> str:
    return service.handle_webhook(
        db, kind="flutterwave", provider_id=provider_id, headers=delivery.headers,
        body=delivery.body,
    )  # fmt: skip


def test_flutterwave_payment_is_paid_once_after_verify(db, flutterwave):
    shop, provider_id, reference, result = _started(db, flutterwave)
    (created,) = flutterwave.created()
    assert (created["amount"], created["currency"]) == (25.0, "NGN")  # major unit
    assert created["tx_ref"] == reference
    assert result.url == f"{flutterwave.url}/hosted/pay/{reference}"

    delivery = flutterwave.pay(reference)
    assert [_webhook(db, provider_id, delivery) for _ in range(3)] == ["paid", "replay", "replay"]
    assert order(db, shop).status == "paid"
    assert [p.status for p in payments(db, shop)] == ["succeeded"]
    assert len(chat_replies(db, shop)) == 1
    verifies = [r for r in flutterwave.state.requests if r["path"].endswith("/verify")]
    assert len(verifies) == 1


def test_an_underpaid_flutterwave_transaction_goes_to_review(db, flutterwave):
    shop, provider_id, reference, _ = _started(db, flutterwave)
    assert _webhook(db, provider_id, flutterwave.pay(reference, amount=10.5)) == "needs_review"
    assert order(db, shop).status == "needs_review"
    assert "10.50 NGN instead of 25.00 NGN" in payments(db, shop)[0].failure_reason


def test_a_webhook_flutterwave_cannot_verify_is_not_trusted(db, flutterwave):
    shop, provider_id, reference, _ = _started(db, flutterwave)
    invented = flutterwave.webhook(
        {"id": 1, "tx_ref": reference, "amount": 25, "currency": "NGN", "status": "successful"}
    )
    with pytest.raises(ProviderError, match="No transaction was found"):
        _webhook(db, provider_id, invented)
    assert order(db, shop).status == "awaiting_payment"


def test_a_wrong_verif_hash_stores_nothing(db, flutterwave):
    shop, provider_id, reference, _ = _started(db, flutterwave)
    genuine = flutterwave.pay(reference)
    for headers in ({**genuine.headers, "verif-hash": "guess"}, {}):
        with pytest.raises(InvalidSignature):
            service.handle_webhook(
                db, kind="flutterwave", provider_id=provider_id, headers=headers,
                body=genuine.body,
            )  # fmt: skip
    assert webhook_events(db) == 0
    assert order(db, shop).status == "awaiting_payment"
