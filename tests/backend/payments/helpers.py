"""Set-up shared by the payments tests: a business, its order, a chat and a connected provider."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, select

from backend.core.queue import pending_jobs
from backend.models import Message, Notification
from backend.models.commerce import Order
from backend.models.payments import Payment, PaymentWebhookEvent
from backend.payments import service
from tests import factories


@dataclass
class Shop:
    """One business with an owner, a customer chat and an order for 2 x 12.50 USD."""

    business_id: int
    order_id: int
    conversation_id: int


def make_shop(
    session: Session,
    *,
    items: list[tuple[str, int, int]] | None = None,
    currency: str = "USD",
) -> Shop:
    """A business, its owner, a customer's conversation and a pending order in it."""
    business = factories.make_business(session, name="Sunrise Bakery")
    factories.make_user(session, business=business)
    conversation = factories.make_conversation(session, business=business)
    order = factories.make_order(
        session, business=business, conversation=conversation, items=items, currency=currency
    )
    return Shop(business.id, order.id, conversation.id)


def connect_stripe(session: Session, shop: Shop, fake, *, enable: bool = True) -> int:
    """Connect the fake Stripe account to the shop (tested, so switched on)."""
    provider_id = service.add_provider(
        session,
        business_id=shop.business_id,
        kind="stripe",
        credentials={"secret_key": fake.secret_key, "webhook_secret": fake.webhook_secret},
        config={"base_url": fake.url},
    )
    if enable:
        assert service.test_connection(
            session, business_id=shop.business_id, provider_id=provider_id
        ).ok
    return provider_id


def order(session: Session, shop: Shop) -> Order:
    """The shop's order as stored now."""
    session.expire_all()
    return session.get(Order, shop.order_id)


def payments(session: Session, shop: Shop) -> list[Payment]:
    """The payments of the shop's order."""
    session.expire_all()
    return list(session.exec(select(Payment).where(Payment.order_id == shop.order_id)))


def chat_replies(session: Session, shop: Shop) -> list[str]:
    """Texts BizBot sent into the customer's conversation."""
    return list(
        session.exec(
            select(Message.text).where(
                Message.conversation_id == shop.conversation_id,
                Message.direction == "outbound",
            )
        )
    )


def notifications(session: Session, shop: Shop) -> list[str]:
    """Titles of the notifications the shop's members got."""
    return list(
        session.exec(select(Notification.title).where(Notification.business_id == shop.business_id))
    )


def owner_notices(session: Session) -> list[tuple]:
    """(business_id, payment_id) of the owner notifications queued to go out after commit."""
    pending = pending_jobs(session)
    return [args for func, args, _, _ in pending if func == service.NOTIFY_PAID]


def webhook_events(session: Session) -> int:
    """How many provider webhooks are stored."""
    return session.execute(sa.select(sa.func.count()).select_from(PaymentWebhookEvent)).scalar()


def connect(session: Session, shop: Shop, *, kind: str, credentials: dict, base_url: str) -> int:
    """Connect a provider account to the shop at a fake's URL and test it (switching it on)."""
    provider_id = service.add_provider(
        session,
        business_id=shop.business_id,
        kind=kind,
        credentials=credentials,
        config={"base_url": base_url},
    )
    info = service.test_connection(session, business_id=shop.business_id, provider_id=provider_id)
    assert info.ok, info.error
    return provider_id
