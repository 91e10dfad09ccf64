"""Paystack end to end through the service, against the fake Paystack API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from backend.payments import service
from backend.payments.base import InvalidSignature, Redirect
from backend.payments.schemas import PaymentError
from tests.backend.payments.helpers import (
    chat_replies,
    connect,
    make_shop,
    order,
    payments,
    webhook_events,
)
from tests.fakes.paystack_server import FakePaystack, sign


@pytest.fixture
def paystack() -> Iterator[FakePaystack]:
    with FakePaystack(secret_key="sk_test_paystack_shop") as fake:
        yield fake


def _started(db, paystack):
    shop = make_shop(db, currency="NGN")
    provider_id = connect(
        db, shop, kind="paystack", credentials={"secret_key": paystack.secret_key},
        base_url=paystack.url,
    )  # fmt: skip
    link = service.create_payment_link(db, business_id=shop.business_id, order_id=shop.order_id)
    with pytest.raises(PaymentError, match="needs your email address"):
        service.start_payment(db, token=link.token, kind="paystack")
    result = service.start_payment(
        db, token=link.token, kind="paystack", payer_email="ada@example.com"
    )
    assert isinstance(result, Redirect)
    (payment,) = payments(db, shop)
    return shop, provider_id, payment.reference, result


def _webhook(db, provider_id, delivery) -> str:
    return service.handle_webhook(
        db, kind="paystack", provider_id=provider_id, headers=delivery.headers, body=delivery.body
    )


def test_paystack_payment_is_paid_once_after_verify(db, paystack):
    shop, provider_id, reference, result = _started(db, paystack)
    (tx,) = paystack.initialized()
    assert (tx["amount"], tx["currency"], tx["email"]) == (2500, "NGN", "ada@example.com")
    assert tx["reference"] == reference
    assert result.url.startswith(f"{paystack.url}/checkout/")

    delivery = paystack.pay(reference)
    assert [_webhook(db, provider_id, delivery) for _ in range(3)] == ["paid", "replay", "replay"]
    assert order(db, shop).status == "paid"
    assert [p.status for p in payments(db, shop)] == ["succeeded"]
    assert len(chat_replies(db, shop)) == 1
    assert "25.00 NGN" in chat_replies(db, shop)[0]
    verifies = [r for r in paystack.state.requests if r["path"].startswith("/transaction/verify")]
    assert len(verifies) == 1


def test_a_signed_charge_success_alone_does_not_pay(db, paystack):
    shop, provider_id, reference, _ = _started(db, paystack)
    # Signed, but the customer never paid: Verify Transaction says "abandoned".
    early = paystack.charge_success(reference)
    assert _webhook(db, provider_id, early) == "unconfirmed"
    assert order(db, shop).status == "awaiting_payment"
    assert [p.status for p in payments(db, shop)] == ["pending"]
    assert chat_replies(db, shop) == []
    assert webhook_events(db) == 0  # not kept: the same event, redelivered, still counts
    paystack.pay(reference)
    assert _webhook(db, provider_id, early) == "paid"


def test_the_amount_paystack_verifies_is_what_counts(db, paystack):
    shop, provider_id, reference, _ = _started(db, paystack)
    paystack.pay(reference, amount=100)
    claims_full = paystack.charge_success(reference, amount=2500)
    assert _webhook(db, provider_id, claims_full) == "needs_review"
    assert order(db, shop).status == "needs_review"
    assert chat_replies(db, shop) == []


def test_a_wrong_paystack_signature_stores_nothing(db, paystack):
    shop, provider_id, reference, _ = _started(db, paystack)
    genuine = paystack.pay(reference)
    forged = {**genuine.headers, "x-paystack-signature": sign(genuine.body, "sk_test_other")}
    with pytest.raises(InvalidSignature):
        service.handle_webhook(
            db, kind="paystack", provider_id=provider_id, headers=forged, body=genuine.body
        )
    assert webhook_events(db) == 0
    assert order(db, shop).status == "awaiting_payment"


def test_paystack_events_bizbot_does_not_use_are_ignored(db, paystack):
    _, provider_id, _, _ = _started(db, paystack)
    body = b'{"event": "transfer.success", "data": {"reference": "tr_1"}}'
    headers = {"X-Paystack-Signature": sign(body, paystack.secret_key)}
    assert (
        service.handle_webhook(db, kind="paystack", provider_id=provider_id, headers=headers,
                               body=body)
        == "ignored"
    )  # fmt: skip
    assert webhook_events(db) == 0
