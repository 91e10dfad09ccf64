"""`POST /webhooks/billing/stripe` over HTTP: signatures, replays and the subscription's life."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from backend.api import create_app
from backend.billing import service
from backend.core.db import session_scope
from backend.models import BillingWebhookEvent, Notification, Role, Subscription
from tests.backend.billing.conftest import PRICE_BUSINESS
from tests.factories import actor_for, make_user
from tests.fakes.stripe_server import Delivery, FakeStripe, sign

pytestmark = pytest.mark.usefixtures("committed")
URL = "/webhooks/billing/stripe"


@dataclass(frozen=True)
class Shop:
    business_id: int
    owner_id: int
    admin_id: int


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app()) as test_client:
        yield test_client


def _shop() -> tuple[Shop, object]:
    with session_scope() as session:
        actor, business = actor_for(session)
        admin = make_user(session, business=business, role=Role.ADMIN)
        return Shop(business.id, actor.user_id, admin.id), actor


def _subscription(business_id: int) -> Subscription | None:
    with session_scope() as session:
        return session.exec(
            select(Subscription).where(Subscription.business_id == business_id)
        ).first()


def _events() -> list[str]:
    with session_scope() as session:
        return list(session.exec(select(BillingWebhookEvent.stripe_event_id)))


def _post(client: TestClient, delivery: Delivery):
    return client.post(URL, content=delivery.body, headers=delivery.headers)


def _subscribe(client: TestClient, fake: FakeStripe, plan: str = "pro") -> tuple[Shop, str]:
    """The owner buys `plan` through Checkout; Stripe's two webhooks arrive. The sub id."""
    shop, actor = _shop()
    with session_scope() as session:
        service.start_checkout(session, actor=actor, plan=plan)
    session_id = fake.created_sessions()[-1]["id"]
    for delivery in fake.subscribe(session_id):
        response = _post(client, delivery)
        assert response.status_code == 200, response.text
        assert response.json()["result"] == "applied"
    return shop, fake.state.sessions[session_id]["subscription"]


def test_checkout_then_webhooks_put_the_business_on_pro(client, stripe_fake):
    shop, sub_id = _subscribe(client, stripe_fake)

    sub = _subscription(shop.business_id)
    assert (sub.plan, sub.status, sub.stripe_subscription_id) == ("pro", "active", sub_id)
    assert sub.stripe_customer_id == stripe_fake.state.subscriptions[sub_id]["customer"]
    assert sub.current_period_end is not None  # from the subscription item (new API versions)
    with session_scope() as session:
        assert service.current_plan(session, business_id=shop.business_id).key == "pro"


def test_a_replayed_event_changes_nothing(client, stripe_fake):
    shop, sub_id = _subscribe(client, stripe_fake)
    cancel = stripe_fake.cancel_subscription(sub_id)
    assert _post(client, cancel).json()["result"] == "applied"
    # The owner resubscribes; then Stripe redelivers the old cancellation three times.
    with session_scope() as session:
        sub = session.exec(
            select(Subscription).where(Subscription.business_id == shop.business_id)
        ).one()
        sub.plan, sub.status = "pro", "active"
        session.add(sub)
    stored = len(_events())
    for _ in range(3):
        response = _post(client, cancel)
        assert response.status_code == 200
        assert response.json()["result"] == "duplicate"
    assert len(_events()) == stored
    assert (_subscription(shop.business_id).plan, _subscription(shop.business_id).status) == (
        "pro",
        "active",
    )


def test_cancel_at_period_end_then_deleted_returns_to_free(client, stripe_fake):
    shop, sub_id = _subscribe(client, stripe_fake)

    _post(client, stripe_fake.update_subscription(sub_id, cancel_at_period_end=True))
    sub = _subscription(shop.business_id)
    assert (sub.plan, sub.status, sub.cancel_at_period_end) == ("pro", "active", True)

    _post(client, stripe_fake.cancel_subscription(sub_id))
    sub = _subscription(shop.business_id)
    assert (sub.plan, sub.status, sub.cancel_at_period_end) == ("free", "canceled", False)
    with session_scope() as session:
        assert service.current_plan(session, business_id=shop.business_id).key == "free"


def test_switching_price_in_the_portal_changes_the_plan(client, stripe_fake):
    shop, sub_id = _subscribe(client, stripe_fake)
    _post(client, stripe_fake.update_subscription(sub_id, price=PRICE_BUSINESS))
    assert _subscription(shop.business_id).plan == "business"


def test_past_due_keeps_the_plan_while_stripe_retries(client, stripe_fake):
    shop, sub_id = _subscribe(client, stripe_fake)
    _post(client, stripe_fake.update_subscription(sub_id, status="past_due"))
    with session_scope() as session:
        assert service.current_plan(session, business_id=shop.business_id).key == "pro"
    _post(client, stripe_fake.update_subscription(sub_id, status="unpaid"))
    with session_scope() as session:
        assert service.current_plan(session, business_id=shop.business_id).key == "free"


def test_a_failed_payment_notifies_the_owners_once(client, stripe_fake):
    shop, sub_id = _subscribe(client, stripe_fake)
    failed = stripe_fake.invoice_payment_failed(sub_id, amount_due=2900)
    for _ in range(2):
        assert _post(client, failed).status_code == 200

    with session_scope() as session:
        rows = session.exec(
            select(Notification.user_id, Notification.title, Notification.body, Notification.link)
            .where(Notification.business_id == shop.business_id)
        ).all()  # fmt: skip
    assert len(rows) == 1  # the owner only (not the admin), and once
    user_id, title, body, link = rows[0]
    assert user_id == shop.owner_id
    assert title == "BizBot subscription payment failed"
    assert "29.00 USD" in body
    assert link == "/billing"


def test_a_wrong_signature_is_400_and_nothing_changes(client, stripe_fake):
    shop, sub_id = _subscribe(client, stripe_fake)
    stored = _events()
    forged = stripe_fake.cancel_subscription(sub_id)
    headers = {**forged.headers, "Stripe-Signature": sign(forged.body, "whsec_not_stripes")}

    response = client.post(URL, content=forged.body, headers=headers)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    missing = client.post(URL, content=forged.body, headers={"Content-Type": "application/json"})
    assert missing.status_code == 400
    garbage = b"\xff\xfe not json"
    response = client.post(URL, content=garbage, headers={"Stripe-Signature": "t=1,v1=00"})
    assert response.status_code == 400
    assert _events() == stored
    assert _subscription(shop.business_id).plan == "pro"


def test_an_event_only_touches_its_own_business(client, stripe_fake):
    mine, _ = _subscribe(client, stripe_fake)
    theirs, their_sub = _subscribe(client, stripe_fake)

    _post(client, stripe_fake.cancel_subscription(their_sub))

    assert _subscription(theirs.business_id).plan == "free"
    assert _subscription(mine.business_id).plan == "pro"


def test_an_unknown_customer_or_ignored_type_is_acknowledged_and_not_stored(client, stripe_fake):
    stranger = stripe_fake.event(
        "customer.subscription.updated",
        {"id": "sub_x", "object": "subscription", "customer": "cus_nobody", "status": "active"},
    )
    assert _post(client, stranger).json()["result"] == "unknown_business"
    ignored = stripe_fake.event("customer.created", {"id": "cus_new", "object": "customer"})
    assert _post(client, ignored).json()["result"] == "ignored"
    assert _events() == []


@pytest.mark.usefixtures("billing_off")
def test_the_route_is_404_when_billing_is_off(client):
    with FakeStripe(webhook_secret="whsec_any") as fake:
        delivery = fake.event("customer.created", {"id": "cus_1", "object": "customer"})
    response = _post(client, delivery)
    assert response.status_code == 404
    assert "BILLING_STRIPE_SECRET_KEY" in response.json()["error"]
