"""Factories for the core models: small functions that add a valid row and flush it."""

from __future__ import annotations

import itertools

from sqlmodel import Session

from backend.auth.passwords import hash_password
from backend.auth.permissions import Actor
from backend.models import (
    Business,
    ChannelIntegration,
    Contact,
    Conversation,
    KnowledgeSource,
    Membership,
    Message,
    Role,
    User,
)

PASSWORD = "correct horse battery staple"
_seq = itertools.count(1)


def _add(session: Session, row):
    session.add(row)
    session.flush()
    return row


def make_business(session: Session, *, name: str | None = None) -> Business:
    """A business with a unique name and slug."""
    n = next(_seq)
    return _add(session, Business(name=name or f"Business {n}", slug=f"business-{n}"))


def make_user(
    session: Session,
    *,
    business: Business | None = None,
    role: Role = Role.OWNER,
    email: str | None = None,
    name: str = "Test User",
    password: str = PASSWORD,
) -> User:
    """A user, a member of `business` (a new one when not given) with `role`."""
    business = business or make_business(session)
    user = _add(
        session,
        User(
            email=email or f"user{next(_seq)}@example.com",
            name=name,
            password_hash=hash_password(password),
        ),
    )
    _add(session, Membership(business_id=business.id, user_id=user.id, role=role))
    return user


def actor_for(session: Session, *, role: Role = Role.OWNER, business: Business | None = None):
    """An Actor with `role` in `business` (new when not given), and the business."""
    business = business or make_business(session)
    user = make_user(session, business=business, role=role)
    return Actor(user_id=user.id, business_id=business.id, role=role), business


def make_channel(session: Session, *, business: Business, kind: str = "widget"):
    """An enabled channel integration."""
    return _add(
        session, ChannelIntegration(business_id=business.id, kind=kind, name=f"{kind} channel")
    )


def make_contact(session: Session, *, business: Business, name: str = "Customer") -> Contact:
    """A contact of the business."""
    return _add(session, Contact(business_id=business.id, name=name))


def make_conversation(
    session: Session, *, business: Business, contact: Contact | None = None, status: str = "ai"
) -> Conversation:
    """An open conversation with a contact."""
    contact = contact or make_contact(session, business=business)
    return _add(
        session, Conversation(business_id=business.id, contact_id=contact.id, status=status)
    )


def make_message(session: Session, *, conversation: Conversation, text: str = "Hello") -> Message:
    """An inbound customer message in the conversation."""
    return _add(
        session,
        Message(business_id=conversation.business_id, conversation_id=conversation.id, text=text),
    )


def make_knowledge_source(session: Session, *, business: Business, title: str = "FAQ"):
    """A knowledge source of the business."""
    return _add(
        session,
        KnowledgeSource(business_id=business.id, kind="faq", title=title, content="Answer"),
    )


def make_order(
    session: Session,
    *,
    business: Business,
    items: list[tuple[str, int, int]] | None = None,
    currency: str = "USD",
    conversation: Conversation | None = None,
    status: str = "pending",
):
    """An order with lines (name, unit price in cents, quantity); totals computed from them."""
    from backend.models.commerce import Order, OrderItem

    items = items if items is not None else [("Chocolate cake", 1250, 2)]
    total = sum(price * qty for _, price, qty in items)
    order = _add(
        session,
        Order(
            business_id=business.id,
            contact_id=conversation.contact_id if conversation else None,
            conversation_id=conversation.id if conversation else None,
            number=next(_seq),
            status=status,
            currency=currency,
            subtotal_cents=total,
            total_cents=total,
        ),
    )
    for name, price, qty in items:
        _add(
            session,
            OrderItem(business_id=business.id, order_id=order.id, name=name,
                      unit_price_cents=price, quantity=qty, line_total_cents=price * qty),
        )  # fmt: skip
    return order


def make_instance_admin(session: Session, *, business: Business | None = None) -> User:
    """A user who runs the installation (may open the System page), owner of a business."""
    user = make_user(session, business=business)
    user.is_instance_admin = True
    return _add(session, user)
