"""All SQL of privacy: what BizBot holds about a contact, its redaction, and the retention purge.

Every query filters by `business_id`; `businesses_with_retention` finds the tenants to purge.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, select

from backend.models.channels import ChannelIntegration, InboundEvent, WebhookDelivery
from backend.models.commerce import Order, OrderItem
from backend.models.contacts import Contact, ContactChannelIdentity
from backend.models.conversations import Conversation, Message
from backend.models.handoff import Handoff
from backend.models.leads import Lead
from backend.models.notifications import Notification
from backend.models.outgoing import OutgoingDelivery
from backend.models.payments import Payment
from backend.models.privacy import RetentionPolicy
from backend.models.security import AuditLog

# --- reading -----------------------------------------------------------------------------------


def get_contact(session: Session, *, business_id: int, contact_id: int) -> Contact | None:
    """One of the business's contacts."""
    return session.exec(
        select(Contact).where(Contact.business_id == business_id, Contact.id == contact_id)
    ).first()


def search_contacts(
    session: Session, *, business_id: int, query: str, limit: int = 20
) -> list[tuple[Contact, int]]:
    """Contacts whose name, email or phone contains `query` (or whose id it is), with their
    number of conversations; newest first."""
    conversations = (
        select(sa.func.count(Conversation.id))
        .where(Conversation.business_id == business_id, Conversation.contact_id == Contact.id)
        .scalar_subquery()
    )
    stmt = select(Contact, conversations).where(Contact.business_id == business_id)
    query = query.strip()
    if query:
        matches = [
            Contact.name.icontains(query, autoescape=True),
            Contact.email.icontains(query, autoescape=True),
            Contact.phone.icontains(query, autoescape=True),
        ]
        if query.isdigit() and len(query) < 10:
            matches.append(Contact.id == int(query))
        stmt = stmt.where(sa.or_(*matches))
    rows = session.exec(stmt.order_by(Contact.id.desc()).limit(limit)).all()
    return [(contact, int(count or 0)) for contact, count in rows]


def identities_of(
    session: Session, *, business_id: int, contact_id: int
) -> list[tuple[ContactChannelIdentity, str]]:
    """The contact's channel ids, with the kind of channel each belongs to."""
    rows = session.exec(
        select(ContactChannelIdentity, ChannelIntegration.kind)
        .join(
            ChannelIntegration,
            ChannelIntegration.id == ContactChannelIdentity.channel_integration_id,
        )
        .where(
            ContactChannelIdentity.business_id == business_id,
            ContactChannelIdentity.contact_id == contact_id,
        )
        .order_by(ContactChannelIdentity.id)
    ).all()
    return [(identity, kind) for identity, kind in rows]


def conversations_of(session: Session, *, business_id: int, contact_id: int) -> list[Conversation]:
    """The contact's conversations, oldest first."""
    return list(
        session.exec(
            select(Conversation)
            .where(Conversation.business_id == business_id, Conversation.contact_id == contact_id)
            .order_by(Conversation.id)
        ).all()
    )


def messages_of(
    session: Session, *, business_id: int, conversation_ids: list[int]
) -> list[Message]:
    """The messages of these conversations, oldest first."""
    if not conversation_ids:
        return []
    return list(
        session.exec(
            select(Message)
            .where(
                Message.business_id == business_id, Message.conversation_id.in_(conversation_ids)
            )
            .order_by(Message.id)
        ).all()
    )


def handoffs_of(
    session: Session, *, business_id: int, conversation_ids: list[int]
) -> list[Handoff]:
    """The handoffs (with the team's notes) of these conversations."""
    if not conversation_ids:
        return []
    return list(
        session.exec(
            select(Handoff)
            .where(
                Handoff.business_id == business_id, Handoff.conversation_id.in_(conversation_ids)
            )
            .order_by(Handoff.id)
        ).all()
    )


def leads_of(
    session: Session, *, business_id: int, contact_id: int, conversation_ids: list[int]
) -> list[Lead]:
    """The contact's leads, and leads captured in its conversations."""
    about = Lead.contact_id == contact_id
    if conversation_ids:
        about = sa.or_(about, Lead.conversation_id.in_(conversation_ids))
    return list(
        session.exec(select(Lead).where(Lead.business_id == business_id, about).order_by(Lead.id))
    )


def orders_of(session: Session, *, business_id: int, contact_id: int) -> list[Order]:
    """The contact's orders, oldest first."""
    return list(
        session.exec(
            select(Order)
            .where(Order.business_id == business_id, Order.contact_id == contact_id)
            .order_by(Order.id)
        ).all()
    )


def items_of(session: Session, *, business_id: int, order_ids: list[int]) -> list[OrderItem]:
    """The lines of these orders."""
    if not order_ids:
        return []
    return list(
        session.exec(
            select(OrderItem)
            .where(OrderItem.business_id == business_id, OrderItem.order_id.in_(order_ids))
            .order_by(OrderItem.id)
        ).all()
    )


def payments_of(session: Session, *, business_id: int, order_ids: list[int]) -> list[Payment]:
    """The payments of these orders."""
    if not order_ids:
        return []
    return list(
        session.exec(
            select(Payment)
            .where(Payment.business_id == business_id, Payment.order_id.in_(order_ids))
            .order_by(Payment.id)
        ).all()
    )


# --- erasing -----------------------------------------------------------------------------------


def redact_messages(
    session: Session, *, business_id: int, conversation_ids: list[int], text: str
) -> int:
    """Replace the messages' text, drop their attachments and errors; how many."""
    if not conversation_ids:
        return 0
    return session.execute(
        sa.update(Message)
        .where(Message.business_id == business_id, Message.conversation_id.in_(conversation_ids))
        .values(text=text, attachments=[], error=None)
    ).rowcount


def clear_conversations(session: Session, *, business_id: int, conversation_ids: list[int]) -> None:
    """Drop the free text kept on conversations (subject, AI summary, rating comment) and on
    their handoffs (the team's notes)."""
    if not conversation_ids:
        return
    session.execute(
        sa.update(Conversation)
        .where(Conversation.business_id == business_id, Conversation.id.in_(conversation_ids))
        .values(subject=None, summary=None, csat_comment=None)
    )
    session.execute(
        sa.update(Handoff)
        .where(Handoff.business_id == business_id, Handoff.conversation_id.in_(conversation_ids))
        .values(note=None)
    )


def redact_inbound_events(
    session: Session,
    *,
    business_id: int,
    event_ids: list[int],
    senders: list[tuple[int, str]],
) -> list[int]:
    """Empty the stored webhook events of these messages and senders; their ids."""
    about = []
    if event_ids:
        about.append(InboundEvent.id.in_(event_ids))
    for integration_id, sender in senders:
        about.append(
            sa.and_(
                InboundEvent.channel_integration_id == integration_id,
                InboundEvent.sender_external_id == sender,
            )
        )
    if not about:
        return []
    return list(
        session.execute(
            sa.update(InboundEvent)
            .where(InboundEvent.business_id == business_id, sa.or_(*about))
            .values(payload={}, sender_external_id=None)
            .returning(InboundEvent.id)
        ).scalars()
    )


def delete_raw_bodies(session: Session, *, business_id: int, event_ids: list[int]) -> int:
    """Delete the raw webhook bodies that carried any of these events; how many."""
    if not event_ids:
        return 0
    carried = sa.text(
        "EXISTS (SELECT 1 FROM jsonb_array_elements_text(webhookdelivery.new_event_ids) AS e "
        "WHERE e.value = ANY(:event_ids))"
    ).bindparams(event_ids=[str(i) for i in event_ids])
    return session.execute(
        sa.delete(WebhookDelivery).where(WebhookDelivery.business_id == business_id, carried)
    ).rowcount


def delete_identities(session: Session, *, business_id: int, contact_id: int) -> int:
    """Remove the contact's channel ids; how many."""
    return session.execute(
        sa.delete(ContactChannelIdentity).where(
            ContactChannelIdentity.business_id == business_id,
            ContactChannelIdentity.contact_id == contact_id,
        )
    ).rowcount


def delete_leads(session: Session, *, business_id: int, lead_ids: list[int]) -> int:
    """Delete these leads; how many."""
    if not lead_ids:
        return 0
    return session.execute(
        sa.delete(Lead).where(Lead.business_id == business_id, Lead.id.in_(lead_ids))
    ).rowcount


def anonymise_orders(session: Session, *, business_id: int, contact_id: int) -> list[int]:
    """Keep the contact's orders (accounting) without the customer: contact, conversation,
    notes and the payers' details are removed; the order ids."""
    order_ids = list(
        session.execute(
            sa.update(Order)
            .where(Order.business_id == business_id, Order.contact_id == contact_id)
            .values(contact_id=None, conversation_id=None, notes=None)
            .returning(Order.id)
        ).scalars()
    )
    if order_ids:
        session.execute(
            sa.update(Payment)
            .where(Payment.business_id == business_id, Payment.order_id.in_(order_ids))
            .values(payer_phone=None, payer_email=None, raw={})
        )
    return order_ids


def anonymise_contact(session: Session, *, business_id: int, contact_id: int, when: str) -> None:
    """Remove the contact's identifiers; the row stays so its redacted conversations do."""
    session.execute(
        sa.update(Contact)
        .where(Contact.business_id == business_id, Contact.id == contact_id)
        .values(
            name=None, email=None, phone=None, avatar_url=None, language=None,
            last_seen_at=None, attributes={"erased_at": when},
        )
    )  # fmt: skip


def redact_outgoing(session: Session, *, business_id: int, contact_id: int) -> int:
    """Replace the `data` of outgoing webhook deliveries about the contact; how many."""
    return session.execute(
        sa.update(OutgoingDelivery)
        .where(
            OutgoingDelivery.business_id == business_id, OutgoingDelivery.contact_id == contact_id
        )
        .values(
            payload=OutgoingDelivery.payload.op("||")(
                sa.cast({"data": {"erased": True}}, OutgoingDelivery.payload.type)
            )
        )
    ).rowcount


def audit_entries_about(
    session: Session, *, business_id: int, contact_id: int, needles: list[str]
) -> list[AuditLog]:
    """Audit entries whose target is the contact or whose details mention one of `needles`."""
    about = [sa.and_(AuditLog.target_type == "contact", AuditLog.target_id == str(contact_id))]
    details = sa.cast(AuditLog.details, sa.Text)
    about += [details.icontains(n, autoescape=True) for n in needles]
    return list(
        session.exec(select(AuditLog).where(AuditLog.business_id == business_id, sa.or_(*about)))
    )


def set_audit_details(session: Session, *, business_id: int, entry_id: int, details: dict) -> None:
    """Replace an audit entry's details (only erasure does this: the product never edits)."""
    session.execute(
        sa.update(AuditLog)
        .where(AuditLog.business_id == business_id, AuditLog.id == entry_id)
        .values(details=details)
    )


def notifications_about(
    session: Session, *, business_id: int, needles: list[str]
) -> list[Notification]:
    """The team's notifications whose title or body mentions one of `needles`."""
    if not needles:
        return []
    about = [Notification.title.icontains(n, autoescape=True) for n in needles]
    about += [Notification.body.icontains(n, autoescape=True) for n in needles]
    return list(
        session.exec(
            select(Notification).where(Notification.business_id == business_id, sa.or_(*about))
        )
    )


# --- retention ---------------------------------------------------------------------------------


def get_policy(session: Session, *, business_id: int) -> RetentionPolicy | None:
    """The business's retention policy (None: conversations are kept)."""
    return session.exec(
        select(RetentionPolicy).where(RetentionPolicy.business_id == business_id)
    ).first()


def save_policy(session: Session, *, business_id: int, **values: Any) -> None:
    """Create or update the business's retention policy."""
    session.execute(
        insert(RetentionPolicy)
        .values(**{"last_purge_count": 0, **values, "business_id": business_id})
        .on_conflict_do_update(index_elements=["business_id"], set_=values)
    )


def businesses_with_retention(session: Session) -> list[tuple[int, int]]:
    """Every business that set a retention period: (business id, days) (finds the tenants)."""
    return [
        (business_id, days)
        for business_id, days in session.exec(
            select(RetentionPolicy.business_id, RetentionPolicy.conversation_days)
            .where(RetentionPolicy.conversation_days.is_not(None))
            .order_by(RetentionPolicy.business_id)
        ).all()
    ]


def expired_conversations(
    session: Session, *, business_id: int, before: datetime, limit: int
) -> list[int]:
    """Conversations whose last activity is before `before`, oldest first, locked."""
    last_activity = sa.func.coalesce(Conversation.last_message_at, Conversation.created_at)
    return list(
        session.exec(
            select(Conversation.id)
            .where(Conversation.business_id == business_id, last_activity < before)
            .order_by(last_activity)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
    )


def inbound_event_ids_of(
    session: Session, *, business_id: int, conversation_ids: list[int]
) -> list[int]:
    """The stored webhook events the conversations' messages came from."""
    if not conversation_ids:
        return []
    return list(
        session.exec(
            select(Message.inbound_event_id).where(
                Message.business_id == business_id,
                Message.conversation_id.in_(conversation_ids),
                Message.inbound_event_id.is_not(None),
            )
        ).all()
    )


def delete_conversations(session: Session, *, business_id: int, conversation_ids: list[int]) -> int:
    """Delete conversations (their messages, handoffs and outbox go with them); how many
    messages went."""
    if not conversation_ids:
        return 0
    messages = session.exec(
        select(sa.func.count(Message.id)).where(
            Message.business_id == business_id, Message.conversation_id.in_(conversation_ids)
        )
    ).one()
    session.execute(
        sa.delete(Conversation).where(
            Conversation.business_id == business_id, Conversation.id.in_(conversation_ids)
        )
    )
    return int(messages)


def delete_inbound_events(session: Session, *, business_id: int, event_ids: list[int]) -> int:
    """Delete stored webhook events; how many."""
    if not event_ids:
        return 0
    return session.execute(
        sa.delete(InboundEvent).where(
            InboundEvent.business_id == business_id, InboundEvent.id.in_(event_ids)
        )
    ).rowcount
