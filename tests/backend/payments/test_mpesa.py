"""The M-Pesa adapter against the fake Daraja API: STK push, callback, STK query, credentials."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from backend.api import create_app
from backend.core.db import session_scope
from backend.payments import registry, service
from backend.payments.base import (
    BadPayload,
    PaymentRequest,
    ProviderConfig,
    ProviderError,
    PushPrompt,
)
from backend.payments.mpesa_provider import MpesaProvider
from tests.backend.payments.helpers import (
    chat_replies,
    make_shop,
    order,
    payments,
    webhook_events,
)
from tests.fakes.mpesa_server import FakeMpesa

CREDENTIALS = {
    "consumer_key": "ck-sunrise",
    "consumer_secret": "cs-sunrise",
    "shortcode": "174379",
    "passkey": "passkey-sunrise",
}
adapter = registry.get_provider("mpesa")


@pytest.fixture
def mpesa() -> Iterator[FakeMpesa]:
    with FakeMpesa() as fake:
        fake.add_app(**CREDENTIALS)
        yield fake


def config(fake: FakeMpesa, **credentials: str) -> ProviderConfig:
    return ProviderConfig(
        provider_id=42,
        business_id=7,
        kind="mpesa",
        credentials={**CREDENTIALS, **credentials},
        base_url=fake.url,
        public_url="https://shop.example.com/",
    )


def request(amount: int = 150_000, currency: str = "KES", phone: str | None = "+254712345678"):
    return PaymentRequest(
        payment_id=1,
        reference="pay_abc123",
        amount=amount,
        currency=currency,
        description="Order 1001 at Sunrise Bakery",
        order_number=1001,
        return_url="https://shop.example.com/pay/tok",
        cancel_url="https://shop.example.com/pay/tok",
        payer_phone=phone,
    )


def test_the_adapter_is_registered_with_its_settings():
    assert isinstance(adapter, MpesaProvider)
    assert adapter.push is True
    assert adapter.currencies == frozenset({"KES"})
    assert adapter.default_base_url == "https://sandbox.safaricom.co.ke"
    assert set(adapter.credential_fields) == {
        "consumer_key",
        "consumer_secret",
        "shortcode",
        "passkey",
    }


def test_start_pushes_the_prompt_in_whole_shillings_with_the_daraja_password(mpesa):
    prompt = adapter.start(request(amount=150_000), config(mpesa))

    assert isinstance(prompt, PushPrompt)
    assert prompt.provider_reference in mpesa.pushes
    assert "PIN" in prompt.message
    assert "1,500" in prompt.message
    [sent] = mpesa.sent("/mpesa/stkpush/v1/processrequest")
    assert sent["Amount"] == 1500
    assert sent["PhoneNumber"] == sent["PartyA"] == "254712345678"
    assert sent["BusinessShortCode"] == sent["PartyB"] == "174379"
    assert sent["TransactionType"] == "CustomerPayBillOnline"
    assert sent["CallBackURL"] == "https://shop.example.com/webhooks/payments/mpesa/42"
    assert len(sent["AccountReference"]) <= 12
    assert len(sent["TransactionDesc"]) <= 13
    password = base64.b64decode(sent["Password"]).decode()
    assert password == "174379" + "passkey-sunrise" + sent["Timestamp"]


def test_a_local_phone_number_is_put_in_the_international_form(mpesa):
    adapter.start(request(phone="0712 345 678"), config(mpesa))
    [sent] = mpesa.sent("/mpesa/stkpush/v1/processrequest")
    assert sent["PhoneNumber"] == "254712345678"


@pytest.mark.parametrize(
    ("amount", "currency", "phone", "error"),
    [
        (150_050, "KES", "254712345678", "whole shillings only, but the amount is KES 1500.50"),
        (150_000, "USD", "254712345678", "Kenyan shillings (KES) only, not USD"),
        (0, "KES", "254712345678", "at least KES 1"),
        (150_000, "KES", None, "number like 254712345678, got None"),
        (150_000, "KES", "+1 555 0100", "number like 254712345678, got '+1 555 0100'"),
    ],
)
def test_amounts_and_phones_mpesa_cannot_take_are_refused_before_any_call(
    mpesa, amount, currency, phone, error
):
    with pytest.raises(ProviderError, match=re.escape(error)):
        adapter.start(request(amount=amount, currency=currency, phone=phone), config(mpesa))
    assert mpesa.requests == []


def test_a_wrong_passkey_is_refused_with_darajas_words(mpesa):
    with pytest.raises(ProviderError, match=r"did not send the payment prompt: Wrong credentials"):
        adapter.start(request(), config(mpesa, passkey="not-the-passkey"))


def test_a_successful_callback_is_parsed_but_needs_confirmation(mpesa):
    prompt = adapter.start(request(), config(mpesa))
    callback = mpesa.pay(prompt.provider_reference)

    event = adapter.verify_webhook(callback.headers, callback.body, config(mpesa))

    assert event is not None
    assert event.needs_confirmation is True
    assert event.reference is None
    assert event.event_id == f"{prompt.provider_reference}:0:NLJ7RT61SV"
    assert event.status.status == "succeeded"
    assert event.status.provider_reference == prompt.provider_reference
    assert (event.status.amount, event.status.currency) == (150_000, "KES")


def test_a_cancelled_callback_says_so(mpesa):
    prompt = adapter.start(request(), config(mpesa))
    callback = mpesa.cancel(prompt.provider_reference)
    event = adapter.verify_webhook(callback.headers, callback.body, config(mpesa))
    assert event.status.status == "cancelled"
    assert event.status.reason == "Request cancelled by user"


def test_a_body_that_is_not_an_stk_callback_is_ignored_and_garbage_refused(mpesa):
    other = json.dumps({"Result": {"ResultType": 0, "ConversationID": "AG_1"}}).encode()
    assert adapter.verify_webhook({}, other, config(mpesa)) is None
    with pytest.raises(BadPayload, match="not JSON"):
        adapter.verify_webhook({}, b"<xml>nope</xml>", config(mpesa))


def test_confirm_is_pending_until_the_customer_answers_then_succeeded(mpesa):
    prompt = adapter.start(request(), config(mpesa))

    pending = adapter.confirm(prompt.provider_reference, config(mpesa))
    assert pending.status == "pending"
    assert pending.reason == "The transaction is being processed"

    mpesa.pay(prompt.provider_reference)
    paid = adapter.confirm(prompt.provider_reference, config(mpesa))
    assert paid.status == "succeeded"
    assert paid.provider_reference == prompt.provider_reference
    [query] = mpesa.sent("/mpesa/stkpushquery/v1/query")[-1:]
    assert query["CheckoutRequestID"] == prompt.provider_reference


def test_confirm_reports_a_failed_push(mpesa):
    prompt = adapter.start(request(), config(mpesa))
    mpesa.fail(prompt.provider_reference)
    status = adapter.confirm(prompt.provider_reference, config(mpesa))
    assert status.status == "failed"
    assert status.reason == "The balance is insufficient for the transaction."


def test_a_forged_callback_for_an_unknown_push_is_not_confirmed(mpesa):
    forged = json.dumps(
        {"Body": {"stkCallback": {"CheckoutRequestID": "ws_CO_forged", "ResultCode": 0}}}
    ).encode()
    event = adapter.verify_webhook({}, forged, config(mpesa))
    assert event.needs_confirmation is True
    with pytest.raises(ProviderError, match="Invalid CheckoutRequestID"):
        adapter.confirm("ws_CO_forged", config(mpesa))


def test_connect_ok_and_the_exact_error_on_bad_credentials(mpesa):
    info = adapter.connect(config(mpesa))
    assert info.ok is True
    assert info.display_name == "M-Pesa shortcode 174379 (sandbox)"

    bad = adapter.connect(config(mpesa, consumer_secret="wrong"))
    assert bad.ok is False
    assert bad.error == (
        "M-Pesa refused the consumer key and secret: Invalid Authentication passed "
        "(400.008.01); copy them again from your app on the Daraja portal (sandbox and live "
        "apps have different keys)"
    )
    missing = adapter.connect(config(mpesa, passkey=""))
    assert missing.ok is False
    assert "'passkey' is missing" in missing.error


# --- through BizBot: link, /pay page, callback route ------------------------------------------


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(), follow_redirects=False) as test_client:
        yield test_client


@pytest.mark.usefixtures("committed")
def test_the_customer_pays_an_order_once_through_bizbot(client, mpesa):
    with session_scope() as session:
        shop = make_shop(session, currency="KES", items=[("Chocolate cake", 150_000, 1)])
        provider_id = service.add_provider(
            session,
            business_id=shop.business_id,
            kind="mpesa",
            credentials=CREDENTIALS,
            config={"base_url": mpesa.url},
        )
        assert service.test_connection(
            session, business_id=shop.business_id, provider_id=provider_id
        ).ok
        token = service.create_payment_link(
            session, business_id=shop.business_id, order_id=shop.order_id
        ).token

    page = client.post(f"/pay/{token}", data={"provider": "mpesa", "phone": "0712345678"})
    assert page.status_code == 200
    assert "Enter your M-Pesa PIN" in page.text
    [push] = mpesa.pushes.values()
    assert push.request["Amount"] == 1500
    assert push.request["CallBackURL"].endswith(f"/webhooks/payments/mpesa/{provider_id}")

    callback = mpesa.pay(push.checkout_id)
    for _ in range(3):
        answer = client.post(
            f"/webhooks/payments/mpesa/{provider_id}",
            content=callback.body,
            headers=callback.headers,
        )
        assert answer.status_code == 200
    with session_scope() as session:
        assert order(session, shop).status == "paid"
        assert [p.status for p in payments(session, shop)] == ["succeeded"]
        assert len(chat_replies(session, shop)) == 1
        assert webhook_events(session) == 1
    assert len(mpesa.sent("/mpesa/stkpushquery/v1/query")) == 1


def test_a_forged_success_stored_first_does_not_hide_the_genuine_callback(mpesa):
    prompt = adapter.start(request(), config(mpesa))
    forged = json.dumps(
        {
            "Body": {
                "stkCallback": {
                    "CheckoutRequestID": prompt.provider_reference,
                    "ResultCode": 0,
                    "CallbackMetadata": {"Item": [{"Name": "Amount", "Value": 1}]},
                }
            }
        }
    ).encode()
    genuine = mpesa.pay(prompt.provider_reference)
    first = adapter.verify_webhook({}, forged, config(mpesa))
    second = adapter.verify_webhook({}, genuine.body, config(mpesa))
    assert first.event_id != second.event_id
