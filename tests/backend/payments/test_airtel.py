"""The Airtel Money adapter against the fake Airtel API: USSD push, callback, enquiry."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace

import pytest
from starlette.testclient import TestClient

from backend.api import create_app
from backend.core.db import session_scope
from backend.payments import registry, service
from backend.payments.airtel_provider import AirtelProvider
from backend.payments.base import (
    BadPayload,
    InvalidSignature,
    PaymentRequest,
    ProviderConfig,
    ProviderError,
    PushPrompt,
)
from tests.backend.payments.helpers import (
    chat_replies,
    make_shop,
    order,
    payments,
    webhook_events,
)
from tests.fakes.airtel_server import FakeAirtel

CREDENTIALS = {"client_id": "sunrise-client", "client_secret": "sunrise-secret", "country": "UG"}
adapter = registry.get_provider("airtel")


@pytest.fixture
def airtel() -> Iterator[FakeAirtel]:
    with FakeAirtel() as fake:
        fake.add_app(**CREDENTIALS)
        fake.add_app(
            client_id="kenya-client",
            client_secret="kenya-secret",
            country="KE",
            callback_secret="airtel-private-key",
        )
        yield fake


def config(fake: FakeAirtel, **credentials: str) -> ProviderConfig:
    return ProviderConfig(
        provider_id=42,
        business_id=7,
        kind="airtel",
        credentials={**CREDENTIALS, **credentials},
        base_url=fake.url,
        public_url="https://shop.example.com",
    )


KENYA = {"client_id": "kenya-client", "client_secret": "kenya-secret", "country": "KE"}
SIGNED_KENYA = {**KENYA, "callback_secret": "airtel-private-key"}


def request(amount: int = 25_000, currency: str = "UGX", phone: str | None = "+256 752 345678"):
    return PaymentRequest(
        payment_id=1,
        reference="pay_abc123",
        amount=amount,
        currency=currency,
        description="Order 1001",
        order_number=1001,
        return_url="https://shop.example.com/pay/tok",
        cancel_url="https://shop.example.com/pay/tok",
        payer_phone=phone,
    )


def test_the_adapter_is_registered_with_its_settings():
    assert isinstance(adapter, AirtelProvider)
    assert adapter.push is True
    assert {"UGX", "KES", "TZS", "ZMW"} <= adapter.currencies
    assert adapter.default_base_url == "https://openapiuat.airtel.africa"
    assert adapter.credential_fields == ("client_id", "client_secret", "country")


def test_start_pushes_the_prompt_with_country_headers_and_a_local_msisdn(airtel):
    prompt = adapter.start(request(amount=25_000), config(airtel))

    assert isinstance(prompt, PushPrompt)
    assert prompt.provider_reference == "pay_abc123"
    assert "UGX 25,000" in prompt.message
    [push] = airtel.sent("POST", "/merchant/v1/payments/")
    assert push.headers["x-country"] == "UG"
    assert push.headers["x-currency"] == "UGX"
    assert push.body == {
        "reference": "Order 1001",
        "subscriber": {"country": "UG", "currency": "UGX", "msisdn": "752345678"},
        "transaction": {"amount": 25_000, "country": "UG", "currency": "UGX", "id": "pay_abc123"},
    }


def test_cents_currencies_are_sent_in_whole_units(airtel):
    adapter.start(
        request(amount=150_000, currency="KES", phone="0712345678"), config(airtel, **KENYA)
    )
    [push] = airtel.sent("POST", "/merchant/v1/payments/")
    assert push.body["transaction"]["amount"] == 1_500
    assert push.body["subscriber"]["msisdn"] == "712345678"


@pytest.mark.parametrize(
    ("amount", "currency", "phone", "creds", "error"),
    [
        (
            150_050,
            "KES",
            "254712345678",
            KENYA,
            "whole amounts only, but the amount is 1500.50 KES",
        ),
        (25_000, "KES", "256752345678", CREDENTIALS, "account (UG) takes UGX, not KES"),
        (25_000, "UGX", None, CREDENTIALS, "Airtel number in UG (e.g. 2567XXXXXXXX), got None"),
        (25_000, "UGX", "12", CREDENTIALS, "got '12'"),
        (25_000, "UGX", "256752345678", {"country": "FR"}, "does not serve the country 'FR'"),
    ],
)
def test_what_airtel_cannot_take_is_refused_before_any_call(
    airtel, amount, currency, phone, creds, error
):
    with pytest.raises(ProviderError, match=re.escape(error)):
        adapter.start(
            request(amount=amount, currency=currency, phone=phone), config(airtel, **creds)
        )
    assert airtel.requests == []


def test_a_duplicate_transaction_is_refused_with_airtels_words(airtel):
    adapter.start(request(), config(airtel))
    with pytest.raises(ProviderError, match=re.escape("Duplicate transaction id (DP00800001009)")):
        adapter.start(request(), config(airtel))


def test_a_callback_is_parsed_but_always_needs_confirmation(airtel):
    prompt = adapter.start(request(), config(airtel))
    callback = airtel.pay(prompt.provider_reference)

    event = adapter.verify_webhook(callback.headers, callback.body, config(airtel))

    assert event.needs_confirmation is True
    assert event.reference == "pay_abc123"
    assert event.event_id == f"pay_abc123:TS:{callback.json['transaction']['airtel_money_id']}"
    assert event.status.status == "succeeded"
    assert event.status.provider_reference == "pay_abc123"


def test_a_signed_callback_is_checked_when_a_callback_secret_is_set(airtel):
    adapter.start(
        request(amount=150_000, currency="KES", phone="254712345678"), config(airtel, **KENYA)
    )
    callback = airtel.pay("pay_abc123")
    assert "hash" in callback.json

    event = adapter.verify_webhook(callback.headers, callback.body, config(airtel, **SIGNED_KENYA))
    assert event.status.status == "succeeded"

    forged = callback.json
    forged["transaction"]["id"] = "pay_other"
    with pytest.raises(InvalidSignature, match="hash does not match"):
        adapter.verify_webhook({}, json.dumps(forged).encode(), config(airtel, **SIGNED_KENYA))
    unsigned = json.dumps({"transaction": callback.json["transaction"]}).encode()
    with pytest.raises(InvalidSignature, match="hash does not match"):
        adapter.verify_webhook({}, unsigned, config(airtel, **SIGNED_KENYA))


def test_other_bodies_are_ignored_and_garbage_refused(airtel):
    assert adapter.verify_webhook({}, b'{"ping": true}', config(airtel)) is None
    with pytest.raises(BadPayload, match="not JSON"):
        adapter.verify_webhook({}, b"ping", config(airtel))


def test_confirm_is_pending_then_succeeded_or_failed(airtel):
    adapter.start(request(), config(airtel))
    assert adapter.confirm("pay_abc123", config(airtel)).status == "pending"

    airtel.pay("pay_abc123")
    paid = adapter.confirm("pay_abc123", config(airtel))
    assert paid.status == "succeeded"
    assert paid.currency == "UGX"
    [enquiry] = airtel.sent("GET", "/standard/v1/payments/pay_abc123")[-1:]
    assert (enquiry.headers["x-country"], enquiry.headers["x-currency"]) == ("UG", "UGX")

    adapter.start(replace(request(), reference="pay_2"), config(airtel))
    airtel.fail("pay_2")
    failed = adapter.confirm("pay_2", config(airtel))
    assert failed.status == "failed"
    assert failed.reason == "Transaction failed: insufficient funds"


def test_a_forged_callback_for_an_unknown_transaction_is_not_confirmed(airtel):
    forged = json.dumps({"transaction": {"id": "pay_forged", "status_code": "TS"}}).encode()
    assert adapter.verify_webhook({}, forged, config(airtel)).needs_confirmation is True
    with pytest.raises(ProviderError, match=re.escape("Transaction not found (DP00800001013)")):
        adapter.confirm("pay_forged", config(airtel))


def test_connect_ok_and_the_exact_error_on_bad_credentials(airtel):
    info = adapter.connect(config(airtel))
    assert info.ok is True
    assert info.display_name == "Airtel Money UG (staging)"

    bad = adapter.connect(config(airtel, client_secret="wrong"))
    assert bad.ok is False
    assert bad.error == (
        "Airtel Money refused the client ID and secret: Invalid client authentication "
        "(invalid_client); copy them again from your app on developers.airtel.africa (staging "
        "and production apps have different keys)"
    )


# --- through BizBot: link, /pay page, callback route ------------------------------------------


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(), follow_redirects=False) as test_client:
        yield test_client


@pytest.mark.usefixtures("committed")
def test_the_customer_pays_an_order_once_through_bizbot(client, airtel):
    with session_scope() as session:
        shop = make_shop(session, currency="UGX", items=[("Chocolate cake", 25_000, 1)])
        provider_id = service.add_provider(
            session,
            business_id=shop.business_id,
            kind="airtel",
            credentials=CREDENTIALS,
            config={"base_url": airtel.url},
        )
        assert service.test_connection(
            session, business_id=shop.business_id, provider_id=provider_id
        ).ok
        token = service.create_payment_link(
            session, business_id=shop.business_id, order_id=shop.order_id
        ).token

    page = client.post(f"/pay/{token}", data={"provider": "airtel", "phone": "256752345678"})
    assert page.status_code == 200
    assert "Approve the Airtel Money prompt" in page.text
    [collection] = airtel.collections.values()
    assert collection.request["transaction"]["amount"] == 25_000

    callback = airtel.pay(collection.id)
    for _ in range(3):
        answer = client.post(
            f"/webhooks/payments/airtel/{provider_id}",
            content=callback.body,
            headers=callback.headers,
        )
        assert answer.status_code == 200
    with session_scope() as session:
        assert order(session, shop).status == "paid"
        assert [p.status for p in payments(session, shop)] == ["succeeded"]
        assert len(chat_replies(session, shop)) == 1
        assert webhook_events(session) == 1
