"""Stripe Checkout (subscription mode) and the customer portal, against the fake Stripe."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from backend.auth.permissions import PermissionDenied
from backend.billing import service
from backend.billing.schemas import BillingError
from backend.core.config import settings
from backend.models import Role, Subscription
from tests.backend.billing.conftest import PRICE_BUSINESS, PRICE_PRO
from tests.factories import actor_for
from tests.fakes.stripe_server import FakeStripe


def _created(fake: FakeStripe, path: str) -> list[dict]:
    return [r["params"] for r in fake.requests if r["path"] == path and r["method"] == "POST"]


def test_checkout_is_a_subscription_session_for_the_plans_price(db: Session, stripe_fake):
    actor, business = actor_for(db)

    url = service.start_checkout(db, actor=actor, plan="pro")

    [params] = _created(stripe_fake, "/v1/checkout/sessions")
    assert url == stripe_fake.created_sessions()[0]["url"]
    assert params["mode"] == "subscription"
    assert params["line_items"] == [{"price": PRICE_PRO, "quantity": "1"}]
    assert params["client_reference_id"] == str(business.id)
    assert params["subscription_data"]["metadata"] == {"business_id": str(business.id),
                                                       "plan": "pro"}  # fmt: skip
    assert params["success_url"] == f"{settings.public_url}/billing?checkout=success"
    assert params["cancel_url"] == f"{settings.public_url}/billing?checkout=cancelled"
    assert params["customer_email"].endswith("@example.com")


def test_a_known_customer_is_reused(db: Session, stripe_fake):
    actor, business = actor_for(db)
    db.add(Subscription(business_id=business.id, plan="free", status="canceled",
                        stripe_customer_id="cus_known"))  # fmt: skip
    db.flush()
    service.start_checkout(db, actor=actor, plan="business")
    [params] = _created(stripe_fake, "/v1/checkout/sessions")
    assert params["customer"] == "cus_known"
    assert params["line_items"][0]["price"] == PRICE_BUSINESS
    assert "customer_email" not in params


def test_a_paying_business_switches_in_the_portal_not_a_second_checkout(db: Session, stripe_fake):
    actor, business = actor_for(db)
    stripe_fake.state.customers["cus_paying"] = {"id": "cus_paying"}
    db.add(Subscription(business_id=business.id, plan="pro", status="active",
                        stripe_customer_id="cus_paying",
                        stripe_subscription_id="sub_1"))  # fmt: skip
    db.flush()

    url = service.start_checkout(db, actor=actor, plan="business")

    assert _created(stripe_fake, "/v1/checkout/sessions") == []
    [portal] = stripe_fake.state.portal_sessions
    assert url == portal["url"]
    assert portal["flow"] == {"type": "subscription_update",
                              "subscription_update": {"subscription": "sub_1"}}  # fmt: skip
    with pytest.raises(BillingError, match="already on the Pro plan"):
        service.start_checkout(db, actor=actor, plan="pro")


@pytest.mark.usefixtures("stripe_fake")
@pytest.mark.parametrize("plan", ["free", "unlimited", "gold"])
def test_only_paid_plans_can_be_bought(db: Session, plan: str):
    actor, _ = actor_for(db)
    with pytest.raises(BillingError, match="choose one of pro, business"):
        service.start_checkout(db, actor=actor, plan=plan)


def test_a_plan_without_a_price_names_the_setting(db: Session, stripe_fake, monkeypatch):
    monkeypatch.setattr(settings, "billing_stripe_price_business", None)
    actor, _ = actor_for(db)
    with pytest.raises(BillingError, match="set BILLING_STRIPE_PRICE_BUSINESS"):
        service.start_checkout(db, actor=actor, plan="business")
    assert stripe_fake.created_sessions() == []


def test_a_wrong_secret_key_is_named(db: Session, stripe_fake, monkeypatch):
    monkeypatch.setattr(settings, "billing_stripe_secret_key", "sk_test_wrong")
    actor, _ = actor_for(db)
    with pytest.raises(BillingError, match="check BILLING_STRIPE_SECRET_KEY"):
        service.start_checkout(db, actor=actor, plan="pro")


@pytest.mark.usefixtures("billing_off")
def test_checkout_says_billing_is_off_without_a_key(db: Session):
    actor, _ = actor_for(db)
    with pytest.raises(BillingError, match="set BILLING_STRIPE_SECRET_KEY"):
        service.start_checkout(db, actor=actor, plan="pro")
    with pytest.raises(BillingError, match="Billing is off"):
        service.portal_url(db, actor=actor)


@pytest.mark.parametrize("role", [Role.ADMIN, Role.AGENT, Role.VIEWER])
def test_only_owners_start_checkout_or_open_the_portal(db: Session, stripe_fake, role: Role):
    actor, business = actor_for(db, role=role)
    with pytest.raises(PermissionDenied):
        service.start_checkout(db, actor=actor, plan="pro")
    with pytest.raises(PermissionDenied):
        service.portal_url(db, actor=actor)
    assert stripe_fake.requests == []
    assert db.exec(select(Subscription).where(Subscription.business_id == business.id)).all() == []


def test_portal_needs_a_customer_first(db: Session, stripe_fake):
    actor, _ = actor_for(db)
    with pytest.raises(BillingError, match="choose a paid plan first"):
        service.portal_url(db, actor=actor)


def test_portal_opens_for_the_businesss_own_customer(db: Session, stripe_fake):
    actor, business = actor_for(db)
    other, _ = actor_for(db)
    stripe_fake.state.customers["cus_mine"] = {"id": "cus_mine"}
    db.add(Subscription(business_id=business.id, plan="pro", status="active",
                        stripe_customer_id="cus_mine"))  # fmt: skip
    db.flush()

    url = service.portal_url(db, actor=actor)

    [portal] = stripe_fake.state.portal_sessions
    assert url == portal["url"]
    assert portal["customer"] == "cus_mine"
    assert portal["return_url"] == f"{settings.public_url}/billing"
    # Another business's owner does not reach this customer.
    with pytest.raises(BillingError, match="no Stripe customer"):
        service.portal_url(db, actor=other)
