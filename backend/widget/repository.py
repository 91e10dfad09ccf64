"""All SQL of the website widget's visitor side."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, select

from backend.models.channels import ChannelIntegration
from backend.models.conversations import Conversation, Message
from backend.models.tenants import User


def find_widget_for_public_key(session: Session, *, public_key: str) -> ChannelIntegration | None:
    """The widget integration a public key names (this lookup finds the tenant)."""
    return session.exec(
        select(ChannelIntegration).where(
            ChannelIntegration.public_key == public_key, ChannelIntegration.kind == "widget"
        )
    ).first()


def latest_conversation(
    session: Session, *, business_id: int, integration_id: int, contact_id: int
) -> Conversation | None:
    """The contact's newest conversation on this widget, open or resolved."""
    return session.exec(
        select(Conversation)
        .where(
            Conversation.business_id == business_id,
            Conversation.contact_id == contact_id,
            Conversation.channel_integration_id == integration_id,
        )
        .order_by(Conversation.id.desc())
    ).first()


def conversation_ids_of_contact(
    session: Session, *, business_id: int, integration_id: int, contact_id: int
) -> list[int]:
    """Every conversation of the contact on this widget."""
    return list(
        session.exec(
            select(Conversation.id).where(
                Conversation.business_id == business_id,
                Conversation.contact_id == contact_id,
                Conversation.channel_integration_id == integration_id,
            )
        ).all()
    )


def user_name(session: Session, *, user_id: int | None) -> str | None:
    """A team member's display name."""
    if user_id is None:
        return None
    return session.exec(select(User.name).where(User.id == user_id)).first()


def visible_messages(
    session: Session,
    *,
    business_id: int,
    conversation_ids: list[int],
    after_id: int = 0,
    limit: int = 200,
) -> list[tuple[Message, str | None]]:
    """Messages the visitor may see (no private notes), oldest first, with the agent's name.

    With `after_id` 0 this is the newest `limit` messages; otherwise the next `limit` after it.
    """
    if not conversation_ids:
        return []
    query = (
        select(Message, User.name)
        .join(User, User.id == Message.sender_user_id, isouter=True)
        .where(
            Message.business_id == business_id,
            Message.conversation_id.in_(conversation_ids),
            Message.is_private_note.is_(False),
            Message.id > after_id,
        )
    )
    if after_id:
        rows = session.exec(query.order_by(Message.id).limit(limit)).all()
    else:
        rows = list(reversed(session.exec(query.order_by(sa.desc(Message.id)).limit(limit)).all()))
    return [(message, name) for message, name in rows]
