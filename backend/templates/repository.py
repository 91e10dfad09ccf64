"""All SQL of message templates; every query on templates is scoped by business_id."""

from __future__ import annotations

from collections.abc import Collection, Mapping

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from backend.models.channels import ChannelIntegration, InboundEvent
from backend.models.contacts import Contact, ContactChannelIdentity
from backend.models.conversations import Conversation, Message
from backend.models.leads import Lead
from backend.models.templates import Broadcast, BroadcastRecipient, MessageTemplate


def list_templates(
    session: Session, *, business_id: int, status: str | None = None
) -> list[MessageTemplate]:
    """The business's templates (optionally of one status), by name then language."""
    query = select(MessageTemplate).where(MessageTemplate.business_id == business_id)
    if status is not None:
        query = query.where(MessageTemplate.status == status)
    return list(session.exec(query.order_by(MessageTemplate.name, MessageTemplate.language)).all())


def get_template(
    session: Session, *, business_id: int, template_id: int, for_update: bool = False
) -> MessageTemplate | None:
    """The business's template with this id (locked for update when asked)."""
    query = select(MessageTemplate).where(
        MessageTemplate.business_id == business_id, MessageTemplate.id == template_id
    )
    if for_update:
        query = query.with_for_update()
    return session.exec(query).first()


def find_by_name(
    session: Session, *, business_id: int, name: str, language: str
) -> MessageTemplate | None:
    """The business's template with this name and language."""
    return session.exec(
        select(MessageTemplate).where(
            MessageTemplate.business_id == business_id,
            MessageTemplate.name == name,
            MessageTemplate.language == language,
        )
    ).first()


def find_for_provider(
    session: Session, *, business_id: int, external_id: str | None, name: str, language: str
) -> MessageTemplate | None:
    """The template Meta names by its id (or, before BizBot knew the id, name and language)."""
    if external_id:
        found = session.exec(
            select(MessageTemplate)
            .where(
                MessageTemplate.business_id == business_id,
                MessageTemplate.external_id == external_id,
            )
            .with_for_update()
        ).first()
        if found is not None:
            return found
    return session.exec(
        select(MessageTemplate)
        .where(
            MessageTemplate.business_id == business_id,
            MessageTemplate.name == name,
            MessageTemplate.language == language,
        )
        .with_for_update()
    ).first()


def whatsapp_integration(
    session: Session, *, business_id: int, integration_id: int | None = None
) -> ChannelIntegration | None:
    """The business's enabled WhatsApp integration (this one, or the first)."""
    query = select(ChannelIntegration).where(
        ChannelIntegration.business_id == business_id,
        ChannelIntegration.kind == "whatsapp",
        ChannelIntegration.is_enabled.is_(True),
    )
    if integration_id is not None:
        query = query.where(ChannelIntegration.id == integration_id)
    return session.exec(query.order_by(ChannelIntegration.id)).first()


def whatsapp_integrations_for_sync(session: Session) -> list[ChannelIntegration]:
    """Every enabled WhatsApp integration of every business (the periodic sync finds tenants)."""
    return list(
        session.exec(
            select(ChannelIntegration)
            .where(ChannelIntegration.kind == "whatsapp", ChannelIntegration.is_enabled.is_(True))
            .order_by(ChannelIntegration.id)
        ).all()
    )


def find_events_for_job(session: Session, *, event_ids: list[int]) -> list[InboundEvent]:
    """Stored webhook events by id, for the job that applies them (this finds the tenant)."""
    if not event_ids:
        return []
    return list(
        session.exec(
            select(InboundEvent).where(InboundEvent.id.in_(event_ids)).order_by(InboundEvent.id)
        ).all()
    )


def get_conversation(
    session: Session, *, business_id: int, conversation_id: int
) -> Conversation | None:
    """The business's conversation with this id, locked (a template is about to go out)."""
    return session.exec(
        select(Conversation)
        .where(Conversation.business_id == business_id, Conversation.id == conversation_id)
        .with_for_update()
    ).first()


# --- broadcasts ----------------------------------------------------------------------------------


def _in_segment(
    *, business_id: int, integration_id: int, label: str | None, lead_stage: str | None
) -> list[sa.ColumnElement[bool]]:
    """The conditions on Contact of a segment: the business's contacts reachable on this
    WhatsApp number, narrowed to a conversation label and/or a lead stage."""
    conditions = [
        Contact.business_id == business_id,
        sa.exists().where(
            ContactChannelIdentity.business_id == business_id,
            ContactChannelIdentity.contact_id == Contact.id,
            ContactChannelIdentity.channel_integration_id == integration_id,
        ),
    ]
    if label:
        conditions.append(
            sa.exists().where(
                Conversation.business_id == business_id,
                Conversation.contact_id == Contact.id,
                Conversation.labels.contains([label]),
            )
        )
    if lead_stage:
        conditions.append(
            sa.exists().where(
                Lead.business_id == business_id,
                Lead.contact_id == Contact.id,
                Lead.stage == lead_stage,
            )
        )
    return conditions


def count_segment(
    session: Session,
    *,
    business_id: int,
    integration_id: int,
    label: str | None = None,
    lead_stage: str | None = None,
) -> tuple[int, int]:
    """(contacts, opted out among them) of the segment `add_segment_recipients` stores, counted
    in SQL."""
    conditions = _in_segment(
        business_id=business_id, integration_id=integration_id, label=label, lead_stage=lead_stage
    )
    total, opted_out = session.exec(
        select(sa.func.count(), sa.func.count().filter(Contact.opted_out_at.is_not(None)))
        .select_from(Contact)
        .where(*conditions)
    ).one()
    return int(total), int(opted_out)


def add_segment_recipients(
    session: Session,
    *,
    business_id: int,
    broadcast_id: int,
    integration_id: int,
    label: str | None = None,
    lead_stage: str | None = None,
) -> int:
    """Store every contact of the segment (the one `count_segment` counts) as a recipient of
    the business's broadcast, in one INSERT … SELECT however large the segment: `opted_out`
    for contacts who opted out, `queued` for the others. Returns how many were stored."""
    conditions = _in_segment(
        business_id=business_id, integration_id=integration_id, label=label, lead_stage=lead_stage
    )
    chosen = (
        select(
            sa.literal(business_id),
            sa.literal(broadcast_id),
            Contact.id,
            sa.case((Contact.opted_out_at.is_not(None), "opted_out"), else_="queued"),
        )
        .where(*conditions)
        .order_by(Contact.id)
    )
    stored = session.execute(
        sa.insert(BroadcastRecipient)
        .from_select(
            ["business_id", "broadcast_id", "contact_id", "status"], chosen, include_defaults=False
        )
        .execution_options(preserve_rowcount=True)  # an INSERT's rowcount is kept only if asked
    )
    return stored.rowcount


def find_broadcast_for_job(session: Session, *, broadcast_id: int) -> Broadcast | None:
    """A broadcast by id, locked, for the job that sends it (this lookup finds the tenant)."""
    return session.exec(
        select(Broadcast).where(Broadcast.id == broadcast_id).with_for_update()
    ).first()


def get_broadcast(session: Session, *, business_id: int, broadcast_id: int) -> Broadcast | None:
    """The business's broadcast with this id."""
    return session.exec(
        select(Broadcast).where(Broadcast.business_id == business_id, Broadcast.id == broadcast_id)
    ).first()


def queued_recipients(
    session: Session, *, business_id: int, broadcast_id: int, limit: int
) -> list[BroadcastRecipient]:
    """The next recipients still to send, locked (two workers never send one twice)."""
    return list(
        session.exec(
            select(BroadcastRecipient)
            .where(
                BroadcastRecipient.business_id == business_id,
                BroadcastRecipient.broadcast_id == broadcast_id,
                BroadcastRecipient.status == "queued",
            )
            .order_by(BroadcastRecipient.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
    )


def count_queued(session: Session, *, business_id: int, broadcast_id: int) -> int:
    """How many recipients still wait."""
    return session.exec(
        select(sa.func.count())
        .select_from(BroadcastRecipient)
        .where(
            BroadcastRecipient.business_id == business_id,
            BroadcastRecipient.broadcast_id == broadcast_id,
            BroadcastRecipient.status == "queued",
        )
    ).one()


def _shown_status() -> sa.ColumnElement[str]:
    # queued (in the outbox) → sent → delivered → read, or failed, as WhatsApp reports
    return sa.case(
        (
            sa.and_(BroadcastRecipient.status == "sent", Message.delivery_status.is_not(None)),
            Message.delivery_status,
        ),
        else_=BroadcastRecipient.status,
    )


def _with_message(business_id: int) -> sa.ColumnElement[bool]:
    return sa.and_(Message.id == BroadcastRecipient.message_id, Message.business_id == business_id)


def recipient_counts(
    session: Session, *, business_id: int, broadcast_ids: Collection[int]
) -> dict[int, dict[str, int]]:
    """How many recipients of each of the business's broadcasts are at each status (a sent
    message at its delivery status), counted in SQL: {broadcast id: {status: count}}."""
    if not broadcast_ids:
        return {}
    status = _shown_status().label("shown_status")
    rows = session.exec(
        select(BroadcastRecipient.broadcast_id, status, sa.func.count())
        .select_from(BroadcastRecipient)
        .outerjoin(Message, _with_message(business_id))
        .where(
            BroadcastRecipient.business_id == business_id,
            BroadcastRecipient.broadcast_id.in_(list(broadcast_ids)),
        )
        .group_by(BroadcastRecipient.broadcast_id, status)
    ).all()
    counts: dict[int, dict[str, int]] = {}
    for broadcast_id, shown, count in rows:
        counts.setdefault(broadcast_id, {})[shown] = int(count)
    return counts


def first_recipients(
    session: Session, *, business_id: int, limits: Mapping[int, int]
) -> list[tuple[BroadcastRecipient, str | None, str, str | None]]:
    """The first `limits[broadcast id]` recipients of each of the business's broadcasts, in
    one statement: (recipient, contact name, status shown, the message's error)."""
    limits = {b: n for b, n in limits.items() if n > 0}
    if not limits:
        return []
    shown = (
        select(
            Broadcast.id.label("broadcast_id"),
            sa.case(limits, value=Broadcast.id, else_=0).label("limit"),
        )
        .where(Broadcast.business_id == business_id, Broadcast.id.in_(list(limits)))
        .subquery("shown")
    )
    listed = aliased(BroadcastRecipient)
    page = (
        select(listed.id.label("recipient_id"))
        .where(listed.business_id == business_id, listed.broadcast_id == shown.c.broadcast_id)
        .order_by(listed.id)
        .limit(shown.c.limit)
        .correlate(shown)
        .lateral("page")
    )
    rows = session.exec(
        select(BroadcastRecipient, Contact.name, _shown_status(), Message.error)
        .select_from(shown)
        .join(page, sa.true())
        .join(BroadcastRecipient, BroadcastRecipient.id == page.c.recipient_id)
        .join(
            Contact,
            sa.and_(
                Contact.id == BroadcastRecipient.contact_id, Contact.business_id == business_id
            ),
        )
        .outerjoin(Message, _with_message(business_id))
        .order_by(BroadcastRecipient.broadcast_id.desc(), BroadcastRecipient.id)
    ).all()
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def contact_conversation(
    session: Session, *, business_id: int, contact_id: int, integration_id: int
) -> Conversation | None:
    """The contact's latest conversation on this channel (any status), locked."""
    return session.exec(
        select(Conversation)
        .where(
            Conversation.business_id == business_id,
            Conversation.contact_id == contact_id,
            Conversation.channel_integration_id == integration_id,
        )
        .order_by(Conversation.id.desc())
        .limit(1)
        .with_for_update()
    ).first()


def get_contact(session: Session, *, business_id: int, contact_id: int) -> Contact | None:
    """The business's contact with this id."""
    return session.exec(
        select(Contact).where(Contact.business_id == business_id, Contact.id == contact_id)
    ).first()


def list_broadcasts(
    session: Session,
    *,
    business_id: int,
    limit: int = 20,
    broadcast_ids: Collection[int] | None = None,
) -> list[Broadcast]:
    """The business's latest broadcasts (only these ones, when given), newest first."""
    query = select(Broadcast).where(Broadcast.business_id == business_id)
    if broadcast_ids is not None:
        query = query.where(Broadcast.id.in_(list(broadcast_ids)))
    return list(session.exec(query.order_by(Broadcast.id.desc()).limit(limit)).all())


def lock_contact(session: Session, *, business_id: int, contact_id: int) -> Contact | None:
    """The business's contact with this id, locked (its opt-out is about to change)."""
    return session.exec(
        select(Contact)
        .where(Contact.business_id == business_id, Contact.id == contact_id)
        .with_for_update()
    ).first()


def broadcast_of_message(session: Session, *, business_id: int, message_id: int) -> int | None:
    """The id of the business's broadcast that sent this message, if one did."""
    return session.exec(
        select(BroadcastRecipient.broadcast_id).where(
            BroadcastRecipient.business_id == business_id,
            BroadcastRecipient.message_id == message_id,
        )
    ).first()


def whatsapp_integrations(session: Session, *, business_id: int) -> list[ChannelIntegration]:
    """The business's enabled WhatsApp numbers, oldest first."""
    return list(
        session.exec(
            select(ChannelIntegration)
            .where(
                ChannelIntegration.business_id == business_id,
                ChannelIntegration.kind == "whatsapp",
                ChannelIntegration.is_enabled.is_(True),
            )
            .order_by(ChannelIntegration.id)
        ).all()
    )
