"""The Binance Pay adapter against the fake Binance Pay API: signed orders and webhooks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import replace

import pytest
from starlette.testclient import TestClient

from backend.api import create_app
from backend.core.db import session_scope
from backend.payments import registry, service
from backend.payments.base import (
    InvalidSignature,
    PaymentRequest,
    ProviderConfig,
    ProviderError,
    Redirect,
)
from backend.payments.binance_provider import BinanceProvider, sign
from tests.backend.payments.helpers import (
    chat_replies,
    make_shop,
    payments,
    webhook_events,
)
from tests.backend.payments.helpers import order as stored_order
from tests.fakes.binance_server import FakeBinance

CREDENTIALS = {"api_key": "sunriseApiKey0123", "secret_key": "sunriseSecretKey4567"}
adapter = registry.get_provider("binance")


@pytest.fixture
def binance() -> Iterator[FakeBinance]:
    with FakeBinance() as fake:
        fake.add_merchant(**CREDENTIALS)
        yield fake


def config(fake: FakeBinance, **credentials: str) -> ProviderConfig:
    return ProviderConfig(
        provider_id=42,
        business_id=7,
        kind="binance",
        credentials={**CREDENTIALS, **credentials},
        base_url=fake.url,
        public_url="https://shop.example.com",
    )


def request(amount: int = 1_250, currency: str = "USDT", reference: str = "pay_abc-123"):
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


def test_the_adapter_is_registered_with_its_settings():
    assert isinstance(adapter, BinanceProvider)
    assert adapter.push is False
    assert "USDT" in adapter.currencies
    assert adapter.default_base_url == "https://bpay.binanceapi.com"
    assert adapter.credential_fields == ("api_key", "secret_key")


def test_the_request_signature_is_binances_documented_one():
    # Upper-case hex HMAC-SHA512 of "timestamp\nnonce\nbody\n", trailing newline included.
    expected = hmac.new(b"secret", b"1700000000000\nabc\n{}\n", hashlib.sha512).hexdigest()
    assert sign("secret", "1700000000000", "abc", "{}") == expected.upper()


def test_start_creates_a_signed_order_and_redirects_to_its_checkout(binance):
    redirect = adapter.start(request(amount=1_250), config(binance))

    assert isinstance(redirect, Redirect)
    order = binance.orders[redirect.provider_reference]
    assert redirect.url == order["_checkout"]
    [sent] = binance.sent("/binancepay/openapi/v3/order")
    assert sent["merchantTradeNo"] == "payabc123"
    assert sent["orderAmount"] == 12.5
    assert sent["currency"] == "USDT"
    assert sent["env"] == {"terminalType": "WEB"}
    assert sent["webhookUrl"] == "https://shop.example.com/webhooks/payments/binance/42"
    assert sent["returnUrl"] == "https://shop.example.com/pay/tok"
    assert sent["goodsDetails"][0]["referenceGoodsId"] == "1001"


def test_a_wrong_secret_is_refused_with_binances_words(binance):
    with pytest.raises(
        ProviderError,
        match=r"did not create the order: Signature for this request is not valid\. \(400002\)",
    ):
        adapter.start(request(), config(binance, secret_key="wrong"))


def test_currencies_binance_cannot_take_are_refused_before_any_call(binance):
    with pytest.raises(ProviderError, match=r"Binance Pay takes FDUSD, USDC, USDT \(and USD"):
        adapter.start(request(currency="EUR"), config(binance))
    assert binance.requests == []


def test_a_paid_webhook_is_verified_with_binances_certificate(binance):
    redirect = adapter.start(request(), config(binance))
    delivery = binance.pay(redirect.provider_reference)

    event = adapter.verify_webhook(delivery.headers, delivery.body, config(binance))

    assert event.needs_confirmation is False
    assert event.event_id == f"{redirect.provider_reference}:PAY_SUCCESS"
    assert event.status.status == "succeeded"
    assert event.status.provider_reference == redirect.provider_reference
    assert (event.status.amount, event.status.currency) == (1_250, "USDT")
    assert len(binance.sent("/binancepay/openapi/certificates")) == 1


def test_the_certificate_is_fetched_once_per_account(binance):
    redirect = adapter.start(request(), config(binance))
    delivery = binance.pay(redirect.provider_reference)
    for _ in range(3):
        adapter.verify_webhook(delivery.headers, delivery.body, config(binance))
    assert len(binance.sent("/binancepay/openapi/certificates")) == 1


def test_a_tampered_or_badly_signed_webhook_is_refused(binance):
    redirect = adapter.start(request(), config(binance))
    delivery = binance.pay(redirect.provider_reference)

    tampered = delivery.body.replace(b"PAY_SUCCESS", b"PAY_SUCCESS ")
    with pytest.raises(InvalidSignature, match="signature is not valid"):
        adapter.verify_webhook(delivery.headers, tampered, config(binance))
    forged = {**delivery.headers, "binancepay-signature": base64.b64encode(b"x" * 256).decode()}
    with pytest.raises(InvalidSignature, match="signature is not valid"):
        adapter.verify_webhook(forged, delivery.body, config(binance))
    unknown = {**delivery.headers, "binancepay-certificate-sn": "0123456789abcdef"}
    with pytest.raises(InvalidSignature, match="unknown certificate '0123456789abcdef'"):
        adapter.verify_webhook(unknown, delivery.body, config(binance))
    missing = {k: v for k, v in delivery.headers.items() if k != "binancepay-nonce"}
    with pytest.raises(InvalidSignature, match="no binancepay-nonce header"):
        adapter.verify_webhook(missing, delivery.body, config(binance))


def test_a_closed_order_webhook_is_a_cancelled_payment(binance):
    redirect = adapter.start(request(), config(binance))
    delivery = binance.close(redirect.provider_reference)
    event = adapter.verify_webhook(delivery.headers, delivery.body, config(binance))
    assert event.status.status == "cancelled"


def test_events_bizbot_does_not_use_are_verified_then_ignored(binance):
    payout = {
        "bizType": "PAYOUT",
        "bizId": 1,
        "bizIdStr": "1",
        "bizStatus": "SUCCESS",
        "data": "{}",
    }
    delivery = binance.webhook(payout)
    assert adapter.verify_webhook(delivery.headers, delivery.body, config(binance)) is None
    with pytest.raises(InvalidSignature):
        adapter.verify_webhook(
            delivery.headers, json.dumps(payout).encode() + b" ", config(binance)
        )


def test_confirm_reports_pending_then_paid_with_the_amount(binance):
    redirect = adapter.start(request(), config(binance))
    pending = adapter.confirm(redirect.provider_reference, config(binance))
    assert pending.status == "pending"

    binance.pay(redirect.provider_reference)
    paid = adapter.confirm(redirect.provider_reference, config(binance))
    assert paid.status == "succeeded"
    assert (paid.amount, paid.currency) == (1_250, "USDT")
    assert binance.sent("/binancepay/openapi/v2/order/query")[-1] == {
        "prepayId": redirect.provider_reference
    }


def test_confirm_reports_an_expired_order_and_an_unknown_one(binance):
    redirect = adapter.start(request(), config(binance))
    binance.close(redirect.provider_reference)
    assert adapter.confirm(redirect.provider_reference, config(binance)).status == "cancelled"
    with pytest.raises(ProviderError, match=r"Order not found\. \(400202\)"):
        adapter.confirm("123", config(binance))


def test_connect_ok_and_the_exact_error_on_bad_credentials(binance):
    info = adapter.connect(config(binance))
    assert info.ok is True
    assert info.display_name == "Binance Pay merchant (API key sunris…)"

    bad = adapter.connect(config(binance, api_key="someoneElsesKey"))
    assert bad.ok is False
    assert bad.error == (
        "Binance Pay refused the request: Invalid API key or IP (400004); copy the API key and "
        "secret again from the Binance Merchant Admin Portal (Developers → Settings → API Keys)"
    )


def test_usd_orders_are_charged_in_usdt_one_to_one_and_reported_as_usd(binance):
    redirect = adapter.start(request(amount=2_500, currency="USD"), config(binance))
    [sent] = binance.sent("/binancepay/openapi/v3/order")
    assert (sent["orderAmount"], sent["currency"]) == (25.0, "USDT")

    delivery = binance.pay(redirect.provider_reference)
    event = adapter.verify_webhook(delivery.headers, delivery.body, config(binance))
    assert (event.status.amount, event.status.currency) == (2_500, "USD")
    paid = adapter.confirm(redirect.provider_reference, config(binance))
    assert (paid.amount, paid.currency) == (2_500, "USD")


def test_usd_can_be_charged_in_usdc_or_refused(binance):
    usdc = replace(config(binance), config={"usd_as": "USDC"})
    adapter.start(request(currency="USD"), usdc)
    assert binance.sent("/binancepay/openapi/v3/order")[-1]["currency"] == "USDC"
    refused = replace(config(binance), config={"usd_as": ""})
    with pytest.raises(ProviderError, match="does not take USD"):
        adapter.start(replace(request(currency="USD"), reference="pay_2"), refused)


# --- through BizBot: link, /pay page, webhook route -------------------------------------------


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(), follow_redirects=False) as test_client:
        yield test_client


@pytest.mark.usefixtures("committed")
def test_the_customer_pays_an_order_once_through_bizbot(client, binance):
    with session_scope() as session:
        shop = make_shop(session)  # 2 x 12.50 USD, charged as 25 USDT
        provider_id = service.add_provider(
            session,
            business_id=shop.business_id,
            kind="binance",
            credentials=CREDENTIALS,
            config={"base_url": binance.url},
        )
        assert service.test_connection(
            session, business_id=shop.business_id, provider_id=provider_id
        ).ok
        token = service.create_payment_link(
            session, business_id=shop.business_id, order_id=shop.order_id
        ).token

    started = client.post(f"/pay/{token}", data={"provider": "binance"})
    assert started.status_code == 303
    [order] = binance.orders.values()
    assert started.headers["location"] == order["_checkout"]
    assert (order["orderAmount"], order["currency"]) == ("25.00000000", "USDT")

    url = f"/webhooks/payments/binance/{provider_id}"
    delivery = binance.pay(order["prepayId"])
    for _ in range(3):
        answer = client.post(url, content=delivery.body, headers=delivery.headers)
        assert answer.status_code == 200
        assert answer.json()["returnCode"] == "SUCCESS"  # what Binance Pay waits for
    tampered = delivery.body.replace(b"PAY_SUCCESS", b"PAY_CLOSED")
    assert client.post(url, content=tampered, headers=delivery.headers).status_code == 400

    with session_scope() as session:
        assert stored_order(session, shop).status == "paid"
        assert [p.status for p in payments(session, shop)] == ["succeeded"]
        assert len(chat_replies(session, shop)) == 1
        assert webhook_events(session) == 1
