"""All SQL of the payments domain; every query on tenant data filters by `business_id`.

The lookups that find the tenant in the first place (a webhook's provider id, a link's token)
and the periodic sweeps across tenants say so in their names.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, select

from backend.models import Business, Contact, Conversation
from backend.models.commerce import Order, OrderItem
from backend.models.payments import (
    Payment,
    PaymentLink,
    PaymentProviderSetting,
    PaymentWebhookEvent,
)

# --- provider settings ----------------------------------------------------------------------


def get_setting(
    session: Session, *, business_id: int, provider_id: int
) -> PaymentProviderSetting | None:
    """One provider account of the business."""
    return session.exec(
        select(PaymentProviderSetting).where(
            PaymentProviderSetting.business_id == business_id,
            PaymentProviderSetting.id == provider_id,
        )
    ).first()


def get_setting_of_kind(
    session: Session, *, business_id: int, kind: str
) -> PaymentProviderSetting | None:
    """The business's account with the provider `kind` (there is at most one)."""
    return session.exec(
        select(PaymentProviderSetting).where(
            PaymentProviderSetting.business_id == business_id,
            PaymentProviderSetting.kind == kind,
        )
    ).first()


def list_settings(session: Session, *, business_id: int) -> list[PaymentProviderSetting]:
    """Every provider account of the business, oldest first."""
    return list(
        session.exec(
            select(PaymentProviderSetting)
            .where(PaymentProviderSetting.business_id == business_id)
            .order_by(PaymentProviderSetting.id)
        )
    )


def find_setting_for_webhook(
    session: Session, *, provider_id: int
) -> PaymentProviderSetting | None:
    """The provider account a webhook URL names (this lookup finds the tenant)."""
    return session.get(PaymentProviderSetting, provider_id)


# --- orders, links ------------------------------------------------------------------------


def get_business(session: Session, *, business_id: int) -> Business | None:
    """The business itself."""
    return session.get(Business, business_id)


def get_order(
    session: Session, *, business_id: int, order_id: int, for_update: bool = False
) -> Order | None:
    """An order of the business; `for_update` locks it until the transaction ends."""
    stmt = select(Order).where(Order.business_id == business_id, Order.id == order_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.exec(stmt).first()


def order_items(session: Session, *, business_id: int, order_id: int) -> list[OrderItem]:
    """The lines of an order, in the order they were added."""
    return list(
        session.exec(
            select(OrderItem)
            .where(OrderItem.business_id == business_id, OrderItem.order_id == order_id)
            .order_by(OrderItem.id)
        )
    )


def active_link_for_order(
    session: Session, *, business_id: int, order_id: int, now: datetime
) -> PaymentLink | None:
    """The order's link that can still be paid, if any."""
    return session.exec(
        select(PaymentLink)
        .where(
            PaymentLink.business_id == business_id,
            PaymentLink.order_id == order_id,
            PaymentLink.status == "active",
            sa.or_(PaymentLink.expires_at.is_(None), PaymentLink.expires_at > now),
        )
        .order_by(PaymentLink.id.desc())
    ).first()


def get_link(
    session: Session, *, business_id: int, link_id: int, for_update: bool = False
) -> PaymentLink | None:
    """A payment link of the business."""
    stmt = select(PaymentLink).where(
        PaymentLink.business_id == business_id, PaymentLink.id == link_id
    )
    if for_update:
        stmt = stmt.with_for_update()
    return session.exec(stmt).first()


def find_link_by_token(
    session: Session, *, token: str, for_update: bool = False
) -> PaymentLink | None:
    """The link a /pay/{token} URL names (this lookup finds the tenant)."""
    stmt = select(PaymentLink).where(PaymentLink.token == token)
    if for_update:
        stmt = stmt.with_for_update()
    return session.exec(stmt).first()


def get_conversation(
    session: Session, *, business_id: int, conversation_id: int
) -> Conversation | None:
    """A conversation of the business."""
    return session.exec(
        select(Conversation).where(
            Conversation.business_id == business_id, Conversation.id == conversation_id
        )
    ).first()


def get_contact(session: Session, *, business_id: int, contact_id: int) -> Contact | None:
    """A contact of the business."""
    return session.exec(
        select(Contact).where(Contact.business_id == business_id, Contact.id == contact_id)
    ).first()


# --- payments and webhooks ----------------------------------------------------------------


def add_payment(session: Session, payment: Payment) -> Payment:
    """Store a new payment attempt."""
    session.add(payment)
    session.flush()
    return payment


def find_payment(
    session: Session,
    *,
    business_id: int,
    provider: str,
    reference: str | None = None,
    provider_reference: str | None = None,
) -> Payment | None:
    """The business's payment with `provider` known by our reference or the provider's; locked."""
    keys = []
    if reference:
        keys.append(Payment.reference == reference)
    if provider_reference:
        keys.append(Payment.provider_reference == provider_reference)
    if not keys:
        return None
    return session.exec(
        select(Payment)
        .where(Payment.business_id == business_id, Payment.provider == provider, sa.or_(*keys))
        .order_by(Payment.id)
        .with_for_update()
    ).first()


def get_payment(
    session: Session, *, business_id: int, payment_id: int, for_update: bool = False
) -> Payment | None:
    """A payment of the business."""
    stmt = select(Payment).where(Payment.business_id == business_id, Payment.id == payment_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.exec(stmt).first()


def latest_payment_for_link(session: Session, *, business_id: int, link_id: int) -> Payment | None:
    """The newest payment attempt started from a link."""
    return session.exec(
        select(Payment)
        .where(Payment.business_id == business_id, Payment.payment_link_id == link_id)
        .order_by(Payment.id.desc())
    ).first()


def add_webhook_event(
    session: Session, *, business_id: int, provider: str, external_id: str, payload: dict[str, Any]
) -> int | None:
    """Store a webhook delivery once: its id, or None when it was stored before (a replay)."""
    stmt = (
        insert(PaymentWebhookEvent)
        .values(
            business_id=business_id, provider=provider, external_id=external_id, payload=payload
        )
        .on_conflict_do_nothing(constraint="uq_paymentwebhookevent_provider_external")
        .returning(PaymentWebhookEvent.id)
    )
    return session.execute(stmt).scalar_one_or_none()


def delete_webhook_event(session: Session, *, event_id: int) -> None:
    """Forget a stored webhook delivery (its payment could not be confirmed yet)."""
    session.execute(sa.delete(PaymentWebhookEvent).where(PaymentWebhookEvent.id == event_id))


def mark_webhook_processed(session: Session, *, event_id: int, at: datetime) -> None:
    """Note when a stored webhook was acted on."""
    session.execute(
        sa.update(PaymentWebhookEvent)
        .where(PaymentWebhookEvent.id == event_id)
        .values(processed_at=at)
    )


# --- sweeps across tenants ----------------------------------------------------------------


def expire_links_for_sweep(session: Session, *, now: datetime) -> int:
    """Turn every active link past its `expires_at` to expired, in all businesses."""
    result = session.execute(
        sa.update(PaymentLink)
        .where(
            PaymentLink.status == "active",
            PaymentLink.expires_at.is_not(None),
            PaymentLink.expires_at <= now,
        )
        .values(status="expired", updated_at=now)
    )
    return result.rowcount or 0


def pending_payments_for_sweep(
    session: Session, *, providers: list[str], created_before: datetime, created_after: datetime
) -> list[tuple[int, int]]:
    """(business_id, payment_id) of pending payments of `providers` in a time window, all
    businesses."""
    if not providers:
        return []
    rows = session.execute(
        select(Payment.business_id, Payment.id)
        .where(
            Payment.status == "pending",
            Payment.provider.in_(providers),
            Payment.created_at < created_before,
            Payment.created_at > created_after,
        )
        .order_by(Payment.id)
        .limit(500)
    )
    return [(b, p) for b, p in rows]
