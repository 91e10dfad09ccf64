"""`/webhooks/payments/…` and `/pay/{token}` over HTTP, on the real database, fake Stripe behind."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from rq import SimpleWorker
from starlette.testclient import TestClient

from backend.api import create_app
from backend.core.db import session_scope
from backend.core.queue import get_queue
from backend.core.redis import get_redis
from backend.models.payments import PaymentLink
from backend.payments import service
from tests.backend.payments.helpers import (
    Shop,
    chat_replies,
    connect_stripe,
    make_shop,
    notifications,
    order,
    payments,
    webhook_events,
)
from tests.fakes.stripe_server import FakeStripe, sign

pytestmark = pytest.mark.usefixtures("committed")


@pytest.fixture
def stripe_fake() -> Iterator[FakeStripe]:
    with FakeStripe(secret_key="sk_test_routes", webhook_secret="whsec_routes") as fake:
        yield fake


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(), follow_redirects=False) as test_client:
        yield test_client


def _shop_with_link(fake: FakeStripe, **kwargs) -> tuple[Shop, int, str]:
    with session_scope() as session:
        shop = make_shop(session, **kwargs)
        provider_id = connect_stripe(session, shop, fake)
        link = service.create_payment_link(
            session, business_id=shop.business_id, order_id=shop.order_id
        )
    return shop, provider_id, link.token


def _state(shop: Shop) -> tuple[str, list[str], list[str]]:
    with session_scope() as session:
        return (
            order(session, shop).status,
            [p.status for p in payments(session, shop)],
            chat_replies(session, shop),
        )


def test_the_customer_pays_through_the_link_page(client, stripe_fake):
    shop, provider_id, token = _shop_with_link(stripe_fake)
    page = client.get(f"/pay/{token}")
    assert page.status_code == 200
    assert "Sunrise Bakery" in page.text
    assert "25.00 USD" in page.text
    assert "Chocolate cake &times; 2" in page.text
    assert "Pay with Stripe" in page.text
    assert "script-src" not in page.headers["content-security-policy"]
    assert "<script" not in page.text

    started = client.post(f"/pay/{token}", data={"provider": "stripe"})
    assert started.status_code == 303
    (session,) = stripe_fake.created_sessions()
    assert started.headers["location"] == session["url"]
    assert session["amount_total"] == 2500

    back = client.get(f"/pay/{token}?status=return")
    assert back.status_code == 200
    assert "Waiting for the payment provider" in back.text
    assert f'content="5;url=/pay/{token}?status=return"' in back.text
    assert "http-equiv" not in client.get(f"/pay/{token}").text  # no reload while choosing

    delivery = stripe_fake.pay(session["id"])
    url = f"/webhooks/payments/stripe/{provider_id}"
    for _ in range(3):
        answer = client.post(url, content=delivery.body, headers=delivery.headers)
        assert answer.status_code == 200
    status, payment_states, replies = _state(shop)
    assert status == "paid"
    assert payment_states == ["succeeded"]
    assert len(replies) == 1
    assert "Payment received" in replies[0]
    with session_scope() as s:
        assert webhook_events(s) == 1
    SimpleWorker([get_queue("default")], connection=get_redis()).work(burst=True)
    with session_scope() as s:
        (notice,) = notifications(s, shop)
    assert notice.startswith("Payment received: 25.00 USD for order #")

    done = client.get(f"/pay/{token}")
    assert done.status_code == 200
    assert "Paid, thank you" in done.text
    assert "Pay with Stripe" not in done.text


def test_a_forged_or_unreadable_webhook_is_400_and_changes_nothing(client, stripe_fake):
    shop, provider_id, token = _shop_with_link(stripe_fake)
    client.post(f"/pay/{token}", data={"provider": "stripe"})
    (session,) = stripe_fake.created_sessions()
    genuine = stripe_fake.pay(session["id"])
    url = f"/webhooks/payments/stripe/{provider_id}"

    forged = {**genuine.headers, "Stripe-Signature": f"t={int(time.time())},v1={'0' * 64}"}
    answer = client.post(url, content=genuine.body, headers=forged)
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid_signature"
    assert client.post(url, content=genuine.body).status_code == 400  # no signature at all
    stale = {"Stripe-Signature": sign(genuine.body, "whsec_routes", int(time.time()) - 301)}
    assert client.post(url, content=genuine.body, headers=stale).status_code == 400
    garbage = b"\xff\xfe not json"
    assert client.post(url, content=garbage, headers=forged).status_code == 400
    signed_garbage = b"{not json"
    answer = client.post(
        url, content=signed_garbage,
        headers={"Stripe-Signature": sign(signed_garbage, "whsec_routes")},
    )  # fmt: skip
    assert answer.status_code == 400
    assert answer.json()["code"] == "bad_payload"

    assert _state(shop) == ("awaiting_payment", ["pending"], [])
    with session_scope() as s:
        assert webhook_events(s) == 0


def test_webhooks_for_unknown_providers_are_404(client, stripe_fake):
    _, provider_id, _ = _shop_with_link(stripe_fake)
    delivery = stripe_fake.event("customer.created", {"id": "cus_1", "object": "customer"})
    post = lambda path: client.post(path, content=delivery.body, headers=delivery.headers)  # noqa: E731
    assert post(f"/webhooks/payments/stripe/{provider_id}").status_code == 200
    assert post(f"/webhooks/payments/stripe/{provider_id + 100}").status_code == 404
    assert post(f"/webhooks/payments/paystack/{provider_id}").status_code == 404
    assert post(f"/webhooks/payments/cash/{provider_id}").status_code == 404
    assert post("/webhooks/payments/stripe/abc").status_code == 404


def test_unknown_expired_and_cancelled_links_say_so(client, stripe_fake):
    missing = client.get("/pay/no-such-link")
    assert missing.status_code == 404
    assert "This payment link does not exist" in missing.text
    assert client.post("/pay/no-such-link", data={"provider": "stripe"}).status_code == 404
    assert client.get("/pay/" + "x" * 300).status_code == 404

    _, _, token = _shop_with_link(stripe_fake)
    with session_scope() as session:
        link = session.query(PaymentLink).filter_by(token=token).one()
        link.expires_at = link.expires_at - timedelta(days=2)
    expired = client.get(f"/pay/{token}")
    assert expired.status_code == 410
    assert "expired" in expired.text
    assert "new link" in expired.text
    refused = client.post(f"/pay/{token}", data={"provider": "stripe"})
    assert refused.status_code == 410
    assert stripe_fake.created_sessions() == []

    _, _, other = _shop_with_link(stripe_fake)
    with session_scope() as session:
        link = session.query(PaymentLink).filter_by(token=other).one()
        service.cancel_payment_link(session, business_id=link.business_id, link_id=link.id)
    cancelled = client.get(f"/pay/{other}")
    assert cancelled.status_code == 410
    assert "cancelled" in cancelled.text


def test_the_page_escapes_what_the_business_wrote_and_explains_bad_choices(client, stripe_fake):
    shop, _, token = _shop_with_link(stripe_fake, items=[("<img src=x onerror=alert(1)>", 500, 1)])
    page = client.get(f"/pay/{token}")
    assert "<img src=x" not in page.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.text
    wrong = client.post(f"/pay/{token}", data={"provider": "paypal"})
    assert wrong.status_code == 400
    assert "not a way to pay this business" in wrong.text
    empty = client.post(f"/pay/{token}", content=b"\x00garbage",
                        headers={"content-type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert empty.status_code == 400
    assert _state(shop)[1] == []


def test_a_provider_error_is_shown_on_the_page_not_a_500(client, stripe_fake):
    shop, _, token = _shop_with_link(stripe_fake)
    stripe_fake.secret_key = "sk_test_rotated"  # the owner rotated the key at Stripe
    answer = client.post(f"/pay/{token}", data={"provider": "stripe"})
    assert answer.status_code == 502
    assert "Stripe could not start the payment" in answer.text
    assert "Pay with Stripe" in answer.text
    assert _state(shop)[1] == []  # nothing half-made is kept
