"""All of billing's SQL: the subscription row, usage counts and stored webhook events."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, select

from backend.models import (
    BillingWebhookEvent,
    Business,
    ChannelIntegration,
    Conversation,
    Invitation,
    Membership,
    Subscription,
    User,
)

# The website widget comes with every plan; other channels count against the limit.
FREE_CHANNEL_KINDS = ("widget",)


def get_subscription(session: Session, *, business_id: int) -> Subscription | None:
    """The business's subscription row, if it has one."""
    return session.exec(select(Subscription).where(Subscription.business_id == business_id)).first()


def get_or_create_subscription(session: Session, *, business_id: int) -> Subscription:
    """The business's subscription row, created (on the Free plan) if missing, locked for update."""
    session.execute(
        insert(Subscription.__table__)
        .values(business_id=business_id, plan="free", status="none", cancel_at_period_end=False)
        .on_conflict_do_nothing(index_elements=["business_id"])
    )
    return session.exec(
        select(Subscription)
        .where(Subscription.business_id == business_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def find_business_by_stripe_customer(session: Session, *, customer_id: str) -> int | None:
    """Tenant lookup for webhooks: the business whose Stripe customer is `customer_id`."""
    return session.exec(
        select(Subscription.business_id).where(Subscription.stripe_customer_id == customer_id)
    ).first()


def business_exists(session: Session, *, business_id: int) -> bool:
    """Tenant lookup for webhooks: whether the business a checkout names exists."""
    return session.get(Business, business_id) is not None


def owner_email(session: Session, *, business_id: int, user_id: int) -> str | None:
    """The email of member `user_id` of the business (for the Stripe customer)."""
    return session.exec(
        select(User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.business_id == business_id, User.id == user_id)
    ).first()


def usage_counts(
    session: Session, *, business_id: int, month_start: datetime
) -> tuple[int, int, int]:
    """(conversations started since `month_start`, active members + pending invitations,
    enabled channels other than the widget), counted in one statement."""
    conversations = (
        select(sa.func.count(Conversation.id))
        .where(Conversation.business_id == business_id, Conversation.created_at >= month_start)
        .scalar_subquery()
    )
    members = (
        select(sa.func.count(Membership.id))
        .join(User, User.id == Membership.user_id)
        .where(Membership.business_id == business_id, User.is_active.is_(True))
        .scalar_subquery()
    )
    invitations = (
        select(sa.func.count(Invitation.id))
        .where(
            Invitation.business_id == business_id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > sa.func.now(),
        )
        .scalar_subquery()
    )
    channels = (
        select(sa.func.count(ChannelIntegration.id))
        .where(
            ChannelIntegration.business_id == business_id,
            ChannelIntegration.is_enabled.is_(True),
            ChannelIntegration.kind.not_in(FREE_CHANNEL_KINDS),
        )
        .scalar_subquery()
    )
    row = session.execute(sa.select(conversations, members + invitations, channels)).one()
    return int(row[0]), int(row[1]), int(row[2])


def insert_event(
    session: Session, *, business_id: int, event_id: str, event_type: str, payload: dict
) -> bool:
    """Store a webhook event once; False when its id was stored before (a replay)."""
    result = session.execute(
        insert(BillingWebhookEvent.__table__)
        .values(
            business_id=business_id,
            stripe_event_id=event_id,
            event_type=event_type[:64],
            payload=payload,
        )
        .on_conflict_do_nothing(index_elements=["stripe_event_id"])
        .returning(BillingWebhookEvent.__table__.c.id)
    )
    return result.first() is not None
