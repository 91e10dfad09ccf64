"""The PayPal adapter against the fake PayPal API: orders, webhook verification, capture."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from backend.api import create_app
from backend.core.config import settings
from backend.core.db import session_scope
from backend.payments import registry, service
from backend.payments.base import (
    InvalidSignature,
    PaymentRequest,
    ProviderConfig,
    ProviderError,
    Redirect,
)
from backend.payments.paypal_provider import PaypalProvider
from tests.backend.payments.helpers import (
    chat_replies,
    make_shop,
    order,
    payments,
    webhook_events,
)
from tests.fakes.paypal_server import FakePayPal

CREDENTIALS = {
    "client_id": "AbCdEfSunriseClient",
    "client_secret": "EFgHiSunriseSecret",
    "webhook_id": "8PT597110X687430LKGECATA",
}
WEBHOOK_URL = "https://shop.example.com/webhooks/payments/paypal/42"
adapter = registry.get_provider("paypal")


@pytest.fixture
def paypal() -> Iterator[FakePayPal]:
    with FakePayPal() as fake:
        fake.add_app(**CREDENTIALS, webhook_url=WEBHOOK_URL)
        yield fake


def config(fake: FakePayPal, **credentials: str) -> ProviderConfig:
    return ProviderConfig(
        provider_id=42,
        business_id=7,
        kind="paypal",
        credentials={**CREDENTIALS, **credentials},
        base_url=fake.url,
        public_url="https://shop.example.com",
    )


def request(amount: int = 2_550, currency: str = "USD", reference: str = "pay_abc123"):
    return PaymentRequest(
        payment_id=1,
        reference=reference,
        amount=amount,
        currency=currency,
        description="Order 1001 at Sunrise Bakery",
        order_number=1001,
        return_url="https://shop.example.com/pay/tok",
        cancel_url="https://shop.example.com/pay/tok?cancelled=1",
    )


def approved(paypal: FakePayPal, **kw) -> tuple[Redirect, object]:
    redirect = adapter.start(request(**kw), config(paypal))
    return redirect, paypal.approve(redirect.provider_reference)


def test_the_adapter_is_registered_with_its_settings():
    assert isinstance(adapter, PaypalProvider)
    assert adapter.push is False
    assert {"USD", "EUR", "JPY"} <= adapter.currencies
    assert adapter.default_base_url == "https://api-m.sandbox.paypal.com"
    assert adapter.credential_fields == ("client_id", "client_secret", "webhook_id")


def test_start_creates_a_capture_order_and_redirects_to_the_approve_link(paypal):
    redirect = adapter.start(request(amount=2_550), config(paypal))

    assert isinstance(redirect, Redirect)
    assert redirect.url == f"{paypal.url}/checkoutnow?token={redirect.provider_reference}"
    [create] = paypal.sent("POST", "/v2/checkout/orders")
    assert create.headers["paypal-request-id"] == "pay_abc123"
    assert create.body["intent"] == "CAPTURE"
    [unit] = create.body["purchase_units"]
    assert unit["reference_id"] == unit["custom_id"] == "pay_abc123"
    assert unit["amount"] == {"currency_code": "USD", "value": "25.50"}
    context = create.body["payment_source"]["paypal"]["experience_context"]
    assert context["return_url"] == "https://shop.example.com/pay/tok"
    assert context["cancel_url"] == "https://shop.example.com/pay/tok?cancelled=1"


def test_starting_the_same_payment_twice_gives_the_same_order(paypal):
    first = adapter.start(request(), config(paypal))
    second = adapter.start(request(), config(paypal))
    assert first.provider_reference == second.provider_reference
    assert len(paypal.orders) == 1


@pytest.mark.parametrize(
    ("amount", "currency", "value"),
    [(1_500, "JPY", "1500"), (150_000, "HUF", "1500"), (5, "EUR", "0.05"), (100, "GBP", "1.00")],
)
def test_amounts_are_sent_in_paypals_decimals(paypal, amount, currency, value):
    adapter.start(request(amount=amount, currency=currency), config(paypal))
    [create] = paypal.sent("POST", "/v2/checkout/orders")
    assert create.body["purchase_units"][0]["amount"] == {"currency_code": currency, "value": value}


def test_amounts_paypal_cannot_take_are_refused_before_any_call(paypal):
    with pytest.raises(ProviderError, match=r"whole HUF only, but the amount is 1500\.50 HUF"):
        adapter.start(request(amount=150_050, currency="HUF"), config(paypal))
    with pytest.raises(ProviderError, match="PayPal does not take KES"):
        adapter.start(request(currency="KES"), config(paypal))
    assert paypal.requests == []


def test_an_approved_webhook_is_verified_by_paypal_and_needs_a_capture(paypal):
    redirect, delivery = approved(paypal)

    event = adapter.verify_webhook(delivery.headers, delivery.body, config(paypal))

    assert event.event_id == delivery.json["id"]
    assert event.reference == "pay_abc123"
    assert event.needs_confirmation is True
    assert event.status.status == "pending"
    assert event.status.provider_reference == redirect.provider_reference
    assert (event.status.amount, event.status.currency) == (2_550, "USD")
    [check] = paypal.sent("POST", "/v1/notifications/verify-webhook-signature")
    assert check.body["webhook_id"] == CREDENTIALS["webhook_id"]
    assert check.body["transmission_id"] == delivery.headers["paypal-transmission-id"]
    assert check.body["webhook_event"] == delivery.json


def test_a_tampered_or_misaddressed_webhook_is_refused(paypal):
    _, delivery = approved(paypal)
    tampered = delivery.body.replace(b'"25.50"', b'"0.01"')
    with pytest.raises(InvalidSignature, match="not valid"):
        adapter.verify_webhook(delivery.headers, tampered, config(paypal))
    wrong_sig = {**delivery.headers, "paypal-transmission-sig": "Zm9yZ2Vk"}
    with pytest.raises(InvalidSignature, match="not valid"):
        adapter.verify_webhook(wrong_sig, delivery.body, config(paypal))
    with pytest.raises(InvalidSignature, match="not valid"):
        adapter.verify_webhook(delivery.headers, delivery.body, config(paypal, webhook_id="WH-X"))
    missing = {k: v for k, v in delivery.headers.items() if k != "paypal-transmission-sig"}
    with pytest.raises(InvalidSignature, match="no paypal-transmission-sig header"):
        adapter.verify_webhook(missing, delivery.body, config(paypal))


def test_an_event_bizbot_does_not_use_is_verified_then_ignored(paypal):
    delivery = paypal.webhook("CUSTOMER.DISPUTE.CREATED", {"dispute_id": "PP-D-1"}, paypal.apps[0])
    assert adapter.verify_webhook(delivery.headers, delivery.body, config(paypal)) is None
    bad = {**delivery.headers, "paypal-transmission-sig": "Zm9yZ2Vk"}
    with pytest.raises(InvalidSignature):
        adapter.verify_webhook(bad, delivery.body, config(paypal))


def test_confirm_is_pending_before_approval_then_captures_once(paypal):
    redirect = adapter.start(request(), config(paypal))
    pending = adapter.confirm(redirect.provider_reference, config(paypal))
    assert pending.status == "pending"
    assert paypal.sent("POST", r"/v2/checkout/orders/[^/]+/capture") == []

    paypal.approve(redirect.provider_reference)
    paid = adapter.confirm(redirect.provider_reference, config(paypal))
    assert paid.status == "succeeded"
    assert (paid.amount, paid.currency) == (2_550, "USD")

    again = adapter.confirm(redirect.provider_reference, config(paypal))
    assert again.status == "succeeded"
    assert len(paypal.sent("POST", r"/v2/checkout/orders/[^/]+/capture")) == 1


def test_a_declined_capture_is_a_failed_payment(paypal):
    redirect, _ = approved(paypal)
    paypal.decline_captures = True
    status = adapter.confirm(redirect.provider_reference, config(paypal))
    assert status.status == "failed"
    assert "INSTRUMENT_DECLINED" in status.reason


def test_the_capture_completed_webhook_is_the_money(paypal):
    redirect, _ = approved(paypal)
    adapter.confirm(redirect.provider_reference, config(paypal))
    delivery = paypal.capture_completed(redirect.provider_reference)

    event = adapter.verify_webhook(delivery.headers, delivery.body, config(paypal))

    assert event.needs_confirmation is False
    assert event.reference == "pay_abc123"
    assert event.status.status == "succeeded"
    assert event.status.provider_reference == redirect.provider_reference
    assert (event.status.amount, event.status.currency) == (2_550, "USD")


def test_zero_decimal_captures_come_back_in_minor_units(paypal):
    redirect, _ = approved(paypal, amount=1_500, currency="JPY")
    status = adapter.confirm(redirect.provider_reference, config(paypal))
    assert (status.amount, status.currency) == (1_500, "JPY")


def test_confirm_of_an_unknown_order_says_so(paypal):
    with pytest.raises(ProviderError, match="PayPal could not find order NOPE"):
        adapter.confirm("NOPE", config(paypal))


def test_connect_ok_and_the_exact_errors(paypal):
    info = adapter.connect(config(paypal))
    assert info.ok is True
    assert info.details["webhook_url"] == WEBHOOK_URL

    bad = adapter.connect(config(paypal, client_secret="wrong"))
    assert bad.ok is False
    assert bad.error == (
        "PayPal refused the client ID and secret: Client Authentication failed "
        "(invalid_client); copy them again from your REST app on developer.paypal.com "
        "(sandbox and live apps have different credentials)"
    )
    unknown = adapter.connect(config(paypal, webhook_id="WH-NOPE"))
    assert unknown.ok is False
    assert unknown.error.startswith("PayPal has no webhook WH-NOPE for this app")
    assert WEBHOOK_URL in unknown.error


def test_connect_names_a_webhook_that_points_elsewhere(paypal):
    paypal.apps[0].webhook_url = "https://old.example.com/hooks"
    info = adapter.connect(config(paypal))
    assert info.ok is False
    assert info.error == (
        f"PayPal webhook {CREDENTIALS['webhook_id']} sends to https://old.example.com/hooks, "
        f"not to {WEBHOOK_URL}; change its URL in the app's webhook settings"
    )


# --- through BizBot: link, /pay page, webhook route -------------------------------------------


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(), follow_redirects=False) as test_client:
        yield test_client


@pytest.mark.usefixtures("committed")
def test_the_customer_pays_an_order_once_through_bizbot(client):
    with FakePayPal() as paypal:
        with session_scope() as session:
            shop = make_shop(session)  # 2 x 12.50 USD
            provider_id = service.add_provider(
                session,
                business_id=shop.business_id,
                kind="paypal",
                credentials=CREDENTIALS,
                config={"base_url": paypal.url},
            )
            url = f"/webhooks/payments/paypal/{provider_id}"
            paypal.add_app(**CREDENTIALS, webhook_url=f"{settings.public_url}{url}")
            assert service.test_connection(
                session, business_id=shop.business_id, provider_id=provider_id
            ).ok
            token = service.create_payment_link(
                session, business_id=shop.business_id, order_id=shop.order_id
            ).token

        started = client.post(f"/pay/{token}", data={"provider": "paypal"})
        assert started.status_code == 303
        [order_id] = paypal.orders
        assert started.headers["location"] == f"{paypal.url}/checkoutnow?token={order_id}"

        approved = paypal.approve(order_id)
        for _ in range(3):
            answer = client.post(url, content=approved.body, headers=approved.headers)
            assert answer.status_code == 200
        completed = paypal.capture_completed(order_id)
        answer = client.post(url, content=completed.body, headers=completed.headers)
        assert answer.status_code == 200
        forged = {**approved.headers, "paypal-transmission-sig": "Zm9yZ2Vk"}
        assert client.post(url, content=approved.body, headers=forged).status_code == 400

    with session_scope() as session:
        assert order(session, shop).status == "paid"
        assert [p.status for p in payments(session, shop)] == ["succeeded"]
        assert len(chat_replies(session, shop)) == 1
        assert webhook_events(session) == 2  # the approval once, the capture once
    assert len(paypal.sent("POST", r"/v2/checkout/orders/[^/]+/capture")) == 1
