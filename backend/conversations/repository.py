"""All SQL of the conversation pipeline: events, contacts, conversations, messages, outbox."""

from __future__ import annotations

import dataclasses
import functools
import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from backend.models.base import utcnow
from backend.models.channels import InboundEvent
from backend.models.contacts import Contact, ContactChannelIdentity
from backend.models.conversations import Conversation, Message, Outbox, OutboxStatus
from backend.models.handoff import Handoff

# Events that are stored but not finished: the sweep re-enqueues these. `recorded`: the
# customer's message is stored (and shown), its answer is not yet.
RECORDED = "recorded"
UNFINISHED = ("pending", "processing", RECORDED)
# A delivery status for a message whose channel id is not stored yet (its send is finishing):
# applied when the send records the id.
UNMATCHED = "unmatched"


# One fixed statement for any number of events (SQLAlchemy compiles it once, PostgreSQL prepares
# it): the events come as one JSON array, new ones get ids in the array's order, and the raw
# request is kept beside them when asked.
_INSERT_EVENTS = sa.text("""
WITH new_events AS (
    INSERT INTO inboundevent (business_id, channel_integration_id, external_id,
                              sender_external_id, kind, payload, provider_timestamp, status,
                              attempts, created_at, updated_at)
    SELECT :business_id, :integration_id, e.external_id, e.sender_external_id, e.kind,
           e.payload, e.provider_timestamp, e.status, 0, now(), now()
    FROM ROWS FROM (jsonb_to_recordset(CAST(:events AS jsonb))
                    AS (external_id text, sender_external_id text, kind text, payload jsonb,
                        provider_timestamp timestamptz, status text))
         WITH ORDINALITY AS e(external_id, sender_external_id, kind, payload,
                              provider_timestamp, status, n)
    ORDER BY e.n
    ON CONFLICT ON CONSTRAINT uq_inboundevent_integration_external DO NOTHING
    RETURNING id
), kept_delivery AS (
    INSERT INTO webhookdelivery (business_id, channel_integration_id, body, content_type,
                                 outcome, event_count, new_event_ids, created_at, updated_at)
    SELECT :business_id, :integration_id, :body, :content_type,
           CASE WHEN count(id) > 0 THEN 'stored' ELSE 'duplicate' END, :event_count,
           coalesce(jsonb_agg(id ORDER BY id), '[]'::jsonb), now(), now()
    FROM new_events
    HAVING CAST(:keep_delivery AS boolean)
)
SELECT id FROM new_events ORDER BY id
""")


def insert_inbound_events(
    session: Session,
    *,
    business_id: int,
    channel_integration_id: int,
    events: list[dict[str, Any]],
    delivery: dict[str, Any] | None = None,
) -> list[int]:
    """Store events once, in one statement: the new rows' ids, in the order of `events`.

    Each event: external_id, sender_external_id, kind, payload, provider_timestamp, status. One
    whose (integration, external id) is already stored, or repeated in `events`, gets no row.
    `delivery` (body, content_type): the raw webhook request is kept in the same statement,
    "stored" when any event was new, else "duplicate".
    """
    rows = [
        {**event, "provider_timestamp": _iso(event.get("provider_timestamp"))} for event in events
    ]
    params = {
        "business_id": business_id,
        "integration_id": channel_integration_id,
        "events": json.dumps(rows, default=_jsonable),
        "keep_delivery": delivery is not None,
        "body": (delivery or {}).get("body"),
        "content_type": (delivery or {}).get("content_type"),
        "event_count": len(events),
    }
    return list(session.execute(_INSERT_EVENTS, params).scalars())


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    msg = f"{type(value).__name__} is not JSON serializable"
    raise TypeError(msg)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def get_event_for_job(session: Session, *, event_id: int) -> InboundEvent | None:
    """The event a job names by id (this lookup finds the tenant)."""
    return session.get(InboundEvent, event_id)


def start_attempt(session: Session, *, event_id: int) -> sa.Row | None:
    """Count an attempt at an unfinished event (this lookup finds the tenant).

    Returns (attempts, business_id, channel_integration_id, sender_external_id), or None when
    the event is done, failed or does not exist. A `recorded` event keeps its status.
    """
    return session.execute(_start_attempt_statement(), {"event_id": event_id}).one_or_none()


# The statements every message runs are built once, with bound parameters: building one again
# for each message cost more than PostgreSQL takes to run it.
@functools.cache
def _start_attempt_statement() -> sa.Update:
    events = InboundEvent.__table__  # the table, not the entity: no ORM work for an UPDATE
    status = sa.case((events.c.status == RECORDED, RECORDED), else_=sa.literal("processing"))
    return (
        sa.update(events)
        .where(events.c.id == sa.bindparam("event_id"), events.c.status.in_(UNFINISHED))
        .values(status=status, attempts=events.c.attempts + 1, updated_at=sa.func.now())
        .returning(
            events.c.attempts,
            events.c.business_id,
            events.c.channel_integration_id,
            events.c.sender_external_id,
        )
    )


def event_status(session: Session, *, event_id: int) -> str | None:
    """The status of the event a job names (None when it does not exist)."""
    return session.execute(
        sa.select(InboundEvent.status).where(InboundEvent.id == event_id)
    ).scalar_one_or_none()


@functools.cache
def _advisory_statement(function: str) -> sa.Select:
    key = sa.func.hashtextextended(sa.bindparam("key", type_=sa.String), 0)
    return sa.select(getattr(sa.func, function)(key))


def _sender_key(integration_id: int, sender: str) -> dict[str, str]:
    return {"key": f"{integration_id}:{sender}"}


def lock_sender(session: Session, *, integration_id: int, sender: str) -> None:
    """Serialise work on one sender's events across workers until `unlock_sender`.

    A session-level lock: it outlives the commits of a job (message first, answer second).
    """
    session.execute(_advisory_statement("pg_advisory_lock"), _sender_key(integration_id, sender))


def unlock_sender(session: Session, *, integration_id: int, sender: str) -> None:
    """Release the lock `lock_sender` took on this connection."""
    session.execute(_advisory_statement("pg_advisory_unlock"), _sender_key(integration_id, sender))


def unfinished_events_of_sender(
    session: Session, *, business_id: int, integration_id: int, sender: str | None
) -> list[InboundEvent]:
    """The sender's stored but unfinished events, in the order the customer sent them."""
    params = {"business_id": business_id, "integration_id": integration_id, "sender": sender}
    return list(session.scalars(_unfinished_events_statement(), params).all())


@functools.cache
def _unfinished_events_statement() -> sa.Select:
    order = sa.func.coalesce(InboundEvent.provider_timestamp, InboundEvent.created_at)
    return (
        select(InboundEvent)
        .where(
            InboundEvent.business_id == sa.bindparam("business_id"),
            InboundEvent.channel_integration_id == sa.bindparam("integration_id"),
            InboundEvent.sender_external_id == sa.bindparam("sender"),
            InboundEvent.status.in_(UNFINISHED),
        )
        .order_by(order, InboundEvent.id)
    )


def find_contact_by_identity(
    session: Session, *, business_id: int, integration_id: int, external_user_id: str
) -> Contact | None:
    """The business's contact a channel user id (a phone, a chat id, a visitor id) belongs to."""
    return session.exec(
        select(Contact)
        .join(ContactChannelIdentity, ContactChannelIdentity.contact_id == Contact.id)
        .where(
            Contact.business_id == business_id,
            ContactChannelIdentity.business_id == business_id,
            ContactChannelIdentity.channel_integration_id == integration_id,
            ContactChannelIdentity.external_user_id == external_user_id,
        )
    ).first()


def touch_contact_by_identity(
    session: Session, *, business_id: int, integration_id: int, external_user_id: str,
    seen_at: datetime,
) -> Contact | None:  # fmt: skip
    """Mark a channel user's contact seen at `seen_at` and return it (one statement)."""
    params = touch_contact_params(
        business_id=business_id, integration_id=integration_id,
        external_user_id=external_user_id, seen_at=seen_at,
    )  # fmt: skip
    return session.scalars(touch_contact_statement(), params).first()


def touch_contact_params(
    *, business_id: int, integration_id: int, external_user_id: str, seen_at: datetime
) -> dict[str, Any]:
    """touch_contact_statement's parameters."""
    return {
        "business": business_id, "integration_id": integration_id,
        "external_user_id": external_user_id, "seen_at": seen_at,
    }  # fmt: skip


@functools.cache
def touch_contact_statement() -> sa.Update:
    """touch_contact_by_identity's statement (its parameters: touch_contact_params).

    The identity is looked up in a scalar subquery, not an UPDATE … FROM join: the contact is
    then always found through its primary key, whatever the planner's statistics (on tables
    not analysed yet, the join was planned as a scan of every contact, per message)."""
    business_id = sa.bindparam("business")
    seen_at = sa.bindparam("seen_at", type_=Contact.__table__.c.last_seen_at.type)
    identity = (
        sa.select(ContactChannelIdentity.contact_id)
        .where(
            ContactChannelIdentity.business_id == business_id,
            ContactChannelIdentity.channel_integration_id == sa.bindparam("integration_id"),
            ContactChannelIdentity.external_user_id == sa.bindparam("external_user_id"),
        )
        .scalar_subquery()
    )
    return (
        sa.update(Contact)
        .where(Contact.business_id == business_id, Contact.id == identity)
        .values(last_seen_at=seen_at, updated_at=seen_at)
        .returning(Contact)
        .execution_options(synchronize_session=False, populate_existing=True)
    )


def add_contact_with_identity(
    session: Session, *, business_id: int, integration_id: int, external_user_id: str,
    name: str | None, last_seen_at: datetime | None, attributes: dict[str, Any] | None = None,
) -> Contact:  # fmt: skip
    """A new contact of the business with its identity on one channel, in one statement."""
    params = {
        "business_id": business_id, "name": name, "last_seen_at": last_seen_at,
        "attributes": attributes or {}, "integration_id": integration_id,
        "external_user_id": external_user_id, "now": last_seen_at or utcnow(),
    }  # fmt: skip
    return session.scalars(_add_contact_statement(), params).one()


@functools.cache
def _add_contact_statement() -> sa.Select:
    """add_contact_with_identity's statement: the contact's INSERT feeds its identity's, and
    the new row comes back as a Contact in the session (no unit of work, no second trip)."""
    now = sa.bindparam("now", type_=sa.DateTime(timezone=True))
    contact = (
        sa.insert(Contact.__table__)
        .values(
            business_id=sa.bindparam("business_id"),
            name=sa.bindparam("name"),
            last_seen_at=sa.bindparam("last_seen_at"),
            attributes=sa.bindparam("attributes"),
            created_at=now,
            updated_at=now,
        )
        .returning(*Contact.__table__.c)
        .cte("new_contact")
    )
    identity = ContactChannelIdentity.__table__
    columns = ["business_id", "contact_id", "channel_integration_id", "external_user_id",
               "created_at", "updated_at"]  # fmt: skip
    row = sa.select(
        contact.c.business_id,
        contact.c.id,
        sa.cast(sa.bindparam("integration_id"), identity.c.channel_integration_id.type),
        sa.cast(sa.bindparam("external_user_id"), identity.c.external_user_id.type),
        now,
        now,
    )
    add_identity = sa.insert(identity).from_select(columns, row).cte("new_identity")
    return select(aliased(Contact, contact, adapt_on_names=True)).add_cte(add_identity)


def find_identity_of_contact(
    session: Session, *, business_id: int, contact_id: int, integration_id: int
) -> ContactChannelIdentity | None:
    """The contact's id on a channel (where replies are sent)."""
    return session.exec(
        select(ContactChannelIdentity).where(
            ContactChannelIdentity.business_id == business_id,
            ContactChannelIdentity.contact_id == contact_id,
            ContactChannelIdentity.channel_integration_id == integration_id,
        )
    ).first()


def get_contact(session: Session, *, business_id: int, contact_id: int) -> Contact | None:
    """The business's contact with this id (no query when the session already holds it)."""
    contact = session.get(Contact, contact_id)
    return contact if contact is not None and contact.business_id == business_id else None


def find_open_conversation(
    session: Session, *, business_id: int, contact_id: int, integration_id: int
) -> Conversation | None:
    """The contact's conversation on this channel that is not resolved, newest first."""
    params = {
        "business_id": business_id,
        "contact_id": contact_id,
        "integration_id": integration_id,
    }
    return session.scalars(_open_conversation_statement(), params).first()


@functools.cache
def _open_conversation_statement() -> sa.Select:
    return (
        select(Conversation)
        .where(
            Conversation.business_id == sa.bindparam("business_id"),
            Conversation.contact_id == sa.bindparam("contact_id"),
            Conversation.channel_integration_id == sa.bindparam("integration_id"),
            Conversation.status != "resolved",
        )
        .order_by(Conversation.id.desc())
        .limit(1)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def get_conversation(
    session: Session, *, business_id: int, conversation_id: int
) -> Conversation | None:
    """The business's conversation with this id."""
    return session.exec(
        select(Conversation).where(
            Conversation.business_id == business_id, Conversation.id == conversation_id
        )
    ).first()


def _column_params(values: dict[str, Any]) -> dict[str, Any]:
    """Column values as the parameters of a statement from `_column_binds` (prefixed, so they
    never clash with a statement's other parameters)."""
    return {f"v_{name}": value for name, value in values.items()}


def _column_binds(names: tuple[str, ...]) -> dict[str, sa.BindParameter]:
    """An INSERT's values for these columns, one bound parameter each."""
    return {name: sa.bindparam(f"v_{name}") for name in names}


def insert_conversation(session: Session, **values: Any) -> Conversation:
    """Store a new conversation with these column values (the others take their defaults)."""
    params = _column_params(values)
    return session.scalars(_insert_conversation_statement(tuple(sorted(values))), params).one()


@functools.lru_cache(maxsize=8)
def _insert_conversation_statement(names: tuple[str, ...]) -> sa.Insert:
    """insert_conversation's statement for one set of columns, built once: the row comes back
    as a Conversation in the session, without the unit of work."""
    return insert(Conversation).values(_column_binds(names)).returning(Conversation)


def insert_message(session: Session, **values: Any) -> Message | None:
    """Store a message and return it; None when one already exists for the same inbound event."""
    statement = _insert_message_statement(tuple(sorted(values)))
    params = _column_params(values)
    return session.scalars(statement, params).one_or_none()


@functools.lru_cache(maxsize=16)
def _insert_message_statement(names: tuple[str, ...]) -> sa.Insert:
    """insert_message's statement for one set of columns, built once."""
    return (
        insert(Message)
        .values(_column_binds(names))
        .on_conflict_do_nothing(index_elements=["inbound_event_id"])
        .returning(Message)
    )


def insert_outbound(
    session: Session, *, values: dict[str, Any], integration_id: int | None,
    answered: Message | None = None,
) -> tuple[Message, int | None]:  # fmt: skip
    """Store a message to the customer (`values`: every column with a default, see
    _insert_outbound_statement) and, when it goes out on a channel, its outbox row. The
    customer's message it `answered` takes its language. One statement: the Message comes back
    in the session, with the outbox row's id (None without a channel)."""
    statement = _insert_outbound_statement(
        tuple(sorted(values)), integration_id is not None, answered is not None
    )
    params = _column_params(values)
    params.update(now=utcnow(), integration=integration_id)
    if answered is not None:
        params["answered_id"] = answered.id
    row = session.execute(statement, params).one()
    if answered is not None:  # stored by the same statement: nothing left for the ORM to write
        set_committed_value(answered, "language", values.get("language"))
        set_committed_value(answered, "updated_at", params["now"])
    return row[0], (row[1] if integration_id is not None else None)


_STAMPS = ("created_at", "updated_at")
_OUTBOX_COLUMNS = ["business_id", "message_id", "channel_integration_id", "status", "attempts",
                   *_STAMPS]  # fmt: skip


@functools.lru_cache(maxsize=32)
def _insert_outbound_statement(names: tuple[str, ...], outbox: bool, answered: bool) -> sa.Select:
    """insert_outbound's statement for one set of columns, built once per shape."""
    message = Message.__table__
    missing = {c.name for c in message.c if c.default is not None} - {*names, *_STAMPS}
    if missing:  # a column default would be a separate parameter, which a CTE cannot take
        raise ValueError(f"insert_outbound needs values for {sorted(missing)}")
    now = sa.bindparam("now", type_=sa.DateTime(timezone=True))
    values = _column_binds(names)
    reply = (
        sa.insert(message)
        .values({**values, "created_at": now, "updated_at": now})
        .returning(*message.c)
        .cte("reply")
    )
    columns: list[Any] = [aliased(Message, reply, adapt_on_names=True)]
    ctes = []
    joined: Any = None
    if outbox:
        table = Outbox.__table__
        row = sa.select(
            reply.c.business_id,
            reply.c.id,
            sa.cast(sa.bindparam("integration"), table.c.channel_integration_id.type),
            sa.literal(OutboxStatus.PENDING.value, table.c.status.type),
            sa.literal(0, table.c.attempts.type),
            now,
            now,
        )
        queued = (
            sa.insert(table)
            .from_select(_OUTBOX_COLUMNS, row)
            .returning(table.c.id, table.c.message_id)
            .cte("queued")
        )
        columns.append(queued.c.id)
        joined = reply.join(queued, queued.c.message_id == reply.c.id)
    if answered:
        ctes.append(
            sa.update(message)
            .where(
                message.c.id == sa.bindparam("answered_id"),
                message.c.business_id == sa.bindparam("v_business_id"),
            )
            .values(language=sa.bindparam("v_language"), updated_at=now)
            .cte("answered")
        )
    statement = select(*columns)
    if outbox:
        statement = statement.select_from(joined)
    return statement.add_cte(*ctes) if ctes else statement


def find_message_of_event(session: Session, *, business_id: int, event_id: int) -> Message | None:
    """The customer's message an inbound event brought."""
    return session.exec(
        select(Message).where(
            Message.business_id == business_id, Message.inbound_event_id == event_id
        )
    ).first()


def lock_conversation(
    session: Session, *, business_id: int, conversation_id: int
) -> Conversation | None:
    """The business's conversation, read afresh and locked until commit (no agent takes over
    mid-answer)."""
    params = {"business_id": business_id, "conversation_id": conversation_id}
    return session.scalars(_lock_conversation_statement(), params).first()


@functools.cache
def _lock_conversation_statement() -> sa.Select:
    return (
        select(Conversation)
        .where(
            Conversation.business_id == sa.bindparam("business_id"),
            Conversation.id == sa.bindparam("conversation_id"),
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def lock_external_message_id(session: Session, *, integration_id: int, external_id: str) -> None:
    """Serialise a send recording a channel's message id with statuses naming that id."""
    key = f"ext:{integration_id}:{external_id}"
    session.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(key, 0))))


def unmatched_statuses(
    session: Session, *, business_id: int, integration_id: int, external_id: str, since: datetime
) -> list[InboundEvent]:
    """Status events parked since `since` that name this channel message id, oldest first."""
    return list(
        session.exec(
            select(InboundEvent)
            .where(
                InboundEvent.status == UNMATCHED,
                InboundEvent.created_at >= since,
                InboundEvent.business_id == business_id,
                InboundEvent.channel_integration_id == integration_id,
                InboundEvent.payload["message_external_id"].astext == external_id,
            )
            .order_by(InboundEvent.id)
        ).all()
    )


def get_message(session: Session, *, business_id: int, message_id: int) -> Message | None:
    """The business's message with this id (no query when the session already holds it)."""
    message = session.get(Message, message_id)
    return message if message is not None and message.business_id == business_id else None


def find_message_by_external_id(
    session: Session, *, business_id: int, integration_id: int, external_id: str
) -> Message | None:
    """Our outbound message the channel knows as `external_id` (for delivery updates)."""
    return session.exec(
        select(Message)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Message.business_id == business_id,
            Conversation.channel_integration_id == integration_id,
            Message.external_id == external_id,
        )
    ).first()


def recent_messages(
    session: Session, *, business_id: int, conversation_id: int, before_id: int, limit: int
) -> list[Message]:
    """The conversation's last `limit` public messages before `before_id`, oldest first."""
    params = {
        "business_id": business_id, "conversation_id": conversation_id,
        "before_id": before_id, "limit": limit,
    }  # fmt: skip
    rows = session.scalars(_recent_messages_statement(), params).all()
    return list(reversed(rows))


@functools.cache
def _recent_messages_statement() -> sa.Select:
    return (
        select(Message)
        .where(
            Message.business_id == sa.bindparam("business_id"),
            Message.conversation_id == sa.bindparam("conversation_id"),
            Message.id < sa.bindparam("before_id"),
            Message.is_private_note.is_(False),
        )
        .order_by(Message.id.desc())
        .limit(sa.bindparam("limit"))
    )


def list_messages(session: Session, *, business_id: int, conversation_id: int) -> list[Message]:
    """Every message of a conversation, oldest first."""
    return list(
        session.exec(
            select(Message)
            .where(Message.business_id == business_id, Message.conversation_id == conversation_id)
            .order_by(Message.id)
        ).all()
    )


def get_outbox_for_job(session: Session, *, outbox_id: int) -> Outbox | None:
    """The outbox row a job names, locked; None if another worker holds it (finds the tenant)."""
    return session.exec(
        select(Outbox).where(Outbox.id == outbox_id).with_for_update(skip_locked=True)
    ).first()


def stale_event_ids(
    session: Session, *, older_than: datetime, max_attempts: int, limit: int
) -> list[int]:
    """Unfinished events untouched since `older_than` (a sweep across tenants)."""
    return list(
        session.exec(
            select(InboundEvent.id)
            .where(
                InboundEvent.status.in_(UNFINISHED),
                InboundEvent.updated_at < older_than,
                InboundEvent.attempts < max_attempts,
            )
            .order_by(InboundEvent.id)
            .limit(limit)
        ).all()
    )


def stale_outbox_ids(session: Session, *, older_than: datetime, limit: int) -> list[int]:
    """Outbox rows still pending since `older_than` (a sweep across tenants)."""
    return list(
        session.exec(
            select(Outbox.id)
            .where(
                Outbox.status.in_(("pending", "sending")),
                sa.func.coalesce(Outbox.next_attempt_at, Outbox.updated_at) < older_than,
            )
            .order_by(Outbox.id)
            .limit(limit)
        ).all()
    )


def open_handoffs(session: Session, *, business_id: int, conversation_id: int) -> list[Handoff]:
    """The conversation's handoffs that are not closed yet."""
    return list(
        session.exec(
            select(Handoff).where(
                Handoff.business_id == business_id,
                Handoff.conversation_id == conversation_id,
                Handoff.closed_at.is_(None),
            )
        ).all()
    )


# --- channel events beyond new messages (edits, reactions, echoes, receipts, media) ---------


def find_inbound_message_by_ref(
    session: Session, *, business_id: int, integration_id: int, sender: str, ref: str
) -> Message | None:
    """The customer's message a channel names by its own id: the message's external id, or
    the `message_ref` of the event that brought it (Telegram names messages by chat + id)."""
    by_id = session.exec(
        select(Message)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Message.business_id == business_id,
            Conversation.channel_integration_id == integration_id,
            Message.external_id == ref,
            Message.direction == "inbound",
        )
    ).first()
    if by_id is not None:
        return by_id
    return session.exec(
        select(Message)
        .join(InboundEvent, InboundEvent.id == Message.inbound_event_id)
        .where(
            Message.business_id == business_id,
            InboundEvent.channel_integration_id == integration_id,
            InboundEvent.sender_external_id == sender,
            InboundEvent.payload["message_ref"].astext == ref,
        )
    ).first()


def outbound_messages_until(
    session: Session,
    *,
    business_id: int,
    integration_id: int,
    contact_id: int,
    until: datetime,
    limit: int = 200,
) -> list[Message]:
    """Our messages to a contact on a channel, sent before `until`, not yet read (receipts)."""
    return list(
        session.exec(
            select(Message)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(
                Message.business_id == business_id,
                Conversation.channel_integration_id == integration_id,
                Conversation.contact_id == contact_id,
                Message.direction == "outbound",
                Message.delivery_status.in_(("sent", "delivered")),
                Message.created_at <= until,
            )
            .order_by(Message.id.desc())
            .limit(limit)
        ).all()
    )


def get_message_for_job(session: Session, *, message_id: int) -> Message | None:
    """The message a job names by id (this lookup finds the tenant)."""
    return session.get(Message, message_id)


def lock_message(session: Session, *, business_id: int, message_id: int) -> Message | None:
    """The business's message, locked until commit (jobs merging into its attachments)."""
    return session.exec(
        select(Message)
        .where(Message.business_id == business_id, Message.id == message_id)
        .with_for_update()
    ).first()


def get_contact_for_job(session: Session, *, contact_id: int) -> Contact | None:
    """The contact a job names by id (this lookup finds the tenant)."""
    return session.get(Contact, contact_id)


def latest_messages(session: Session, *, business_id: int, limit: int) -> list[Message]:
    """The business's newest messages across conversations, newest first (the admin CLI)."""
    return list(
        session.exec(
            select(Message)
            .where(Message.business_id == business_id)
            .order_by(Message.id.desc())
            .limit(limit)
        ).all()
    )


def reset_event(session: Session, *, event_id: int) -> InboundEvent | None:
    """Make a stored event pending again with no attempts (the admin CLI's replay)."""
    event = session.get(InboundEvent, event_id)
    if event is not None:
        event.status, event.attempts, event.last_error = "pending", 0, None
        event.processed_at = None
        session.add(event)
        session.flush()
    return event
