"""Plan, usage (counted in SQL), limits and the page overview, on the real database."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from backend.auth.permissions import PermissionDenied
from backend.billing import service
from backend.billing.schemas import PlanLimitReached
from backend.models import Invitation, Role, Subscription
from tests.factories import (
    actor_for,
    make_business,
    make_channel,
    make_contact,
    make_conversation,
    make_user,
)


def _subscribe(
    db: Session, business_id: int, plan: str = "pro", status: str = "active"
) -> Subscription:
    sub = Subscription(business_id=business_id, plan=plan, status=status,
                       stripe_customer_id=f"cus_{business_id}",
                       stripe_subscription_id=f"sub_{business_id}")  # fmt: skip
    db.add(sub)
    db.flush()
    return sub


def _conversations(db: Session, business, n: int, *, when: datetime | None = None) -> None:
    contact = make_contact(db, business=business)
    for _ in range(n):
        conversation = make_conversation(db, business=business, contact=contact)
        if when is not None:
            conversation.created_at = when
            db.add(conversation)
    db.flush()


def _invite(db: Session, business, *, expires_in: timedelta = timedelta(days=7), **kw) -> None:
    db.add(Invitation(business_id=business.id, email=f"{secrets.token_hex(4)}@example.com",
                      token_hash=secrets.token_hex(32),
                      expires_at=datetime.now(UTC) + expires_in, **kw))  # fmt: skip
    db.flush()


# --- billing off: the self-hosted default ----------------------------------------------------


@pytest.mark.usefixtures("billing_off")
def test_without_a_key_every_business_is_unlimited(db: Session):
    business = make_business(db)
    _subscribe(db, business.id, plan="free", status="canceled")  # even a stale row is ignored
    _conversations(db, business, 3)
    for kind in ("whatsapp", "telegram", "messenger"):
        make_channel(db, business=business, kind=kind)
    for _ in range(3):
        make_user(db, business=business, role=Role.AGENT)

    assert service.current_plan(db, business_id=business.id).name == "Unlimited (self-hosted)"
    for what in ("conversations", "members", "channels"):
        service.check_limit(db, business_id=business.id, what=what)  # never refuses


@pytest.mark.usefixtures("billing_off")
def test_without_a_key_the_overview_says_billing_is_off(db: Session):
    actor, _ = actor_for(db)
    view = service.overview(db, actor=actor)
    assert view.enabled is False
    assert view.plan_name == "Unlimited (self-hosted)"
    assert [line.limit for line in view.usage] == [None, None, None]
    assert view.plans == []


# --- usage, counted in SQL -------------------------------------------------------------------


def test_usage_counts_this_months_conversations_members_and_channels(db: Session):
    business = make_business(db)
    now = datetime.now(UTC)
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    _conversations(db, business, 4)
    _conversations(db, business, 2, when=month_start - timedelta(seconds=1))  # last month
    make_user(db, business=business, role=Role.OWNER)
    inactive = make_user(db, business=business, role=Role.AGENT)
    inactive.is_active = False
    db.add(inactive)
    _invite(db, business)  # pending: counts, the seat is promised
    _invite(db, business, expires_in=timedelta(days=-1))  # expired: does not
    _invite(db, business, expires_in=timedelta(days=3), revoked_at=now)  # revoked: does not
    make_channel(db, business=business, kind="widget")  # comes with every plan
    make_channel(db, business=business, kind="telegram")
    off = make_channel(db, business=business, kind="whatsapp")
    off.is_enabled = False
    db.add(off)
    db.flush()

    used = service.usage(db, business_id=business.id)
    assert (used.conversations, used.members, used.channels) == (4, 2, 1)


def test_usage_of_one_business_ignores_another(db: Session):
    mine, theirs = make_business(db), make_business(db)
    _conversations(db, theirs, 5)
    make_channel(db, business=theirs, kind="telegram")
    make_user(db, business=theirs)
    _conversations(db, mine, 1)

    used = service.usage(db, business_id=mine.id)
    assert (used.conversations, used.members, used.channels) == (1, 0, 0)


# --- the plan and its limits -----------------------------------------------------------------


@pytest.mark.usefixtures("stripe_fake")
def test_a_business_without_a_subscription_is_on_free(db: Session):
    business = make_business(db)
    assert service.current_plan(db, business_id=business.id).key == "free"


@pytest.mark.usefixtures("stripe_fake")
@pytest.mark.parametrize(
    ("status", "plan"),
    [("active", "pro"), ("trialing", "pro"), ("past_due", "pro"), ("canceled", "free"),
     ("unpaid", "free"), ("incomplete", "free")],
)  # fmt: skip
def test_the_paid_plan_applies_only_while_the_subscription_stands(db: Session, status, plan):
    business = make_business(db)
    _subscribe(db, business.id, plan="pro", status=status)
    assert service.current_plan(db, business_id=business.id).key == plan


@pytest.mark.usefixtures("stripe_fake")
def test_free_plan_refuses_the_101st_conversation_with_a_message_naming_the_fix(db: Session):
    business = make_business(db)
    _conversations(db, business, 99)
    service.check_limit(db, business_id=business.id, what="conversations")  # 99 < 100
    _conversations(db, business, 1)

    with pytest.raises(PlanLimitReached) as caught:
        service.check_limit(db, business_id=business.id, what="conversations")
    assert isinstance(caught.value, ValueError)
    assert str(caught.value) == (
        "The Free plan allows 100 conversations a month and this business has 100 this "
        "month; upgrade to Pro (2,000 conversations a month) on the Billing page (/billing)."
    )
    assert (caught.value.limit, caught.value.used) == (100, 100)


@pytest.mark.usefixtures("stripe_fake")
def test_last_months_conversations_do_not_count(db: Session):
    business = make_business(db)
    _conversations(db, business, 100, when=datetime.now(UTC).replace(day=1) - timedelta(days=2))
    service.check_limit(db, business_id=business.id, what="conversations")


@pytest.mark.usefixtures("stripe_fake")
def test_members_limit_counts_pending_invitations(db: Session):
    business = make_business(db)
    make_user(db, business=business, role=Role.OWNER)
    service.check_limit(db, business_id=business.id, what="members")
    _invite(db, business)

    with pytest.raises(PlanLimitReached, match=r"allows 2 team members and this business has 2;"):
        service.check_limit(db, business_id=business.id, what="members")


@pytest.mark.usefixtures("stripe_fake")
def test_channels_limit_leaves_the_widget_free(db: Session):
    business = make_business(db)
    make_channel(db, business=business, kind="widget")
    service.check_limit(db, business_id=business.id, what="channels")
    make_channel(db, business=business, kind="telegram")

    expected = r"allows 1 channel besides the website widget and this business has 1; .*Pro \(5 "
    with pytest.raises(PlanLimitReached, match=expected):
        service.check_limit(db, business_id=business.id, what="channels")


@pytest.mark.usefixtures("stripe_fake")
def test_a_paid_plan_raises_the_limit(db: Session):
    business = make_business(db)
    _subscribe(db, business.id, plan="pro")
    for kind in ("telegram", "whatsapp", "messenger"):
        make_channel(db, business=business, kind=kind)
    service.check_limit(db, business_id=business.id, what="channels")


@pytest.mark.usefixtures("stripe_fake")
def test_the_biggest_plan_says_there_is_nothing_to_upgrade_to(db: Session):
    business = make_business(db)
    _subscribe(db, business.id, plan="business")
    for _ in range(50):
        make_user(db, business=business, role=Role.AGENT)
    with pytest.raises(PlanLimitReached, match="this is the largest plan"):
        service.check_limit(db, business_id=business.id, what="members")


@pytest.mark.usefixtures("stripe_fake")
def test_a_full_business_does_not_limit_another(db: Session):
    full, other = make_business(db), make_business(db)
    _conversations(db, full, 100)
    with pytest.raises(PlanLimitReached):
        service.check_limit(db, business_id=full.id, what="conversations")
    service.check_limit(db, business_id=other.id, what="conversations")


@pytest.mark.usefixtures("stripe_fake")
def test_an_unknown_limit_is_refused_by_name(db: Session):
    business = make_business(db)
    with pytest.raises(ValueError, match="use one of conversations, members, channels"):
        service.check_limit(db, business_id=business.id, what="agents")


# --- the page's overview ---------------------------------------------------------------------


@pytest.mark.usefixtures("stripe_fake")
def test_overview_shows_usage_against_the_plan_and_what_can_be_bought(db: Session):
    actor, business = actor_for(db)
    _conversations(db, business, 25)

    view = service.overview(db, actor=actor)
    assert (view.enabled, view.plan_key, view.status) == (True, "free", "none")
    conversations = view.usage[0]
    assert (conversations.used, conversations.limit, conversations.percent) == (25, 100, 25)
    assert [(p.key, p.current, p.action) for p in view.plans] == [
        ("free", True, ""), ("pro", False, "Upgrade"), ("business", False, "Upgrade")
    ]  # fmt: skip


@pytest.mark.usefixtures("stripe_fake")
def test_overview_of_a_subscriber_offers_a_switch_and_shows_the_renewal(db: Session):
    actor, business = actor_for(db)
    sub = _subscribe(db, business.id, plan="pro")
    sub.current_period_end = datetime(2030, 1, 31, tzinfo=UTC)
    sub.cancel_at_period_end = True
    db.add(sub)
    db.flush()

    view = service.overview(db, actor=actor)
    assert view.plan_name == "Pro"
    assert [p.action for p in view.plans] == ["", "", "Switch"]
    assert view.current_period_end == datetime(2030, 1, 31, tzinfo=UTC)
    assert view.cancel_at_period_end is True


@pytest.mark.usefixtures("stripe_fake")
@pytest.mark.parametrize("role", [Role.ADMIN, Role.AGENT, Role.VIEWER])
def test_only_owners_see_billing(db: Session, role: Role):
    actor, _ = actor_for(db, role=role)
    with pytest.raises(PermissionDenied):
        service.overview(db, actor=actor)
