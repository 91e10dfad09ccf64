"""All SQL of handoff: open handoffs, assignments, agents' presence and load, SLA policies."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from backend.models.channels import ChannelIntegration
from backend.models.contacts import Contact
from backend.models.conversations import Conversation, Message
from backend.models.handoff import Assignment, Handoff, SLAPolicy
from backend.models.tenants import Membership, User

# Conversations in people's hands: they count towards an agent's load and run SLA clocks.
WITH_PEOPLE = ("waiting_for_agent", "human")
REPLY_ROLES = ("owner", "admin", "agent")


@dataclass(frozen=True)
class AgentRow:
    """A member who can reply, with their user and how many open conversations they hold."""

    membership: Membership
    user: User
    open_count: int


def _lock_key(kind: str, business_id: int) -> sa.ColumnElement:
    return sa.func.hashtextextended(f"bizbot:{kind}:{business_id}", 0)


def lock_assignment(session: Session, *, business_id: int) -> None:
    """Serialise automatic assignment in one business until this transaction ends.

    Two handoffs routed at once then see each other's assignment when counting an agent's
    load, so nobody is given more than their capacity.
    """
    session.execute(sa.select(sa.func.pg_advisory_xact_lock(_lock_key("assign", business_id))))


def try_lock_sla(session: Session, *, business_id: int) -> bool:
    """Take the business's SLA-check lock for this transaction; False if another holds it."""
    return bool(
        session.execute(
            sa.select(sa.func.pg_try_advisory_xact_lock(_lock_key("sla", business_id)))
        ).scalar_one()
    )


def get_conversation(
    session: Session, *, business_id: int, conversation_id: int, for_update: bool = False
) -> Conversation | None:
    """The business's conversation; `for_update` locks it and re-reads what is committed."""
    query = select(Conversation).where(
        Conversation.business_id == business_id, Conversation.id == conversation_id
    )
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.exec(query).first()


def get_conversation_for_job(session: Session, *, conversation_id: int) -> Conversation | None:
    """The conversation a job names by id (this lookup finds the tenant)."""
    return session.get(Conversation, conversation_id)


def newer_open_conversation(
    session: Session, *, business_id: int, conversation: Conversation
) -> int | None:
    """A later open conversation of the same contact on the same channel, if any."""
    return session.exec(
        select(Conversation.id)
        .where(
            Conversation.business_id == business_id,
            Conversation.contact_id == conversation.contact_id,
            Conversation.channel_integration_id == conversation.channel_integration_id,
            Conversation.id > conversation.id,
            Conversation.status != "resolved",
        )
        .order_by(Conversation.id.desc())
    ).first()


def conversation_title(
    session: Session, *, business_id: int, conversation_id: int
) -> tuple[str | None, str | None, str | None, str | None]:
    """(contact name, email, phone, channel kind) of a conversation, for notification texts."""
    row = session.exec(
        select(Contact.name, Contact.email, Contact.phone, ChannelIntegration.kind)
        .select_from(Conversation)
        .join(Contact, Contact.id == Conversation.contact_id)
        .join(
            ChannelIntegration,
            ChannelIntegration.id == Conversation.channel_integration_id,
            isouter=True,
        )
        .where(Conversation.business_id == business_id, Conversation.id == conversation_id)
    ).first()
    return tuple(row) if row else (None, None, None, None)


def channel_kind(session: Session, *, business_id: int, integration_id: int | None) -> str | None:
    """The kind of one of the business's channels (None when disconnected)."""
    if integration_id is None:
        return None
    return session.exec(
        select(ChannelIntegration.kind).where(
            ChannelIntegration.business_id == business_id, ChannelIntegration.id == integration_id
        )
    ).first()


def open_handoff(session: Session, *, business_id: int, conversation_id: int) -> Handoff | None:
    """The conversation's open handoff (the earliest, should there be several)."""
    return session.exec(
        select(Handoff)
        .where(
            Handoff.business_id == business_id,
            Handoff.conversation_id == conversation_id,
            Handoff.closed_at.is_(None),
        )
        .order_by(Handoff.id)
    ).first()


def get_message(session: Session, *, business_id: int, message_id: int) -> Message | None:
    """The business's message with this id."""
    return session.exec(
        select(Message).where(Message.business_id == business_id, Message.id == message_id)
    ).first()


def open_handoffs_of(
    session: Session, *, business_id: int, conversation_ids: Iterable[int]
) -> dict[int, Handoff]:
    """The open handoff of each of these conversations that has one."""
    rows = session.exec(
        select(Handoff)
        .where(
            Handoff.business_id == business_id,
            Handoff.conversation_id.in_(list(conversation_ids)),
            Handoff.closed_at.is_(None),
        )
        .order_by(Handoff.id.desc())
    ).all()
    return {row.conversation_id: row for row in rows}  # the earliest wins (seen last)


def close_handoffs(session: Session, *, business_id: int, conversation_id: int, now: datetime):
    """Close the conversation's open handoffs."""
    session.execute(
        sa.update(Handoff)
        .where(
            Handoff.business_id == business_id,
            Handoff.conversation_id == conversation_id,
            Handoff.closed_at.is_(None),
        )
        .values(closed_at=now, updated_at=now)
        .execution_options(synchronize_session="fetch")
    )


def open_handoffs_with_people(
    session: Session, *, business_id: int
) -> list[tuple[Handoff, Conversation]]:
    """Open handoffs whose conversation is waiting for or with a person, oldest first."""
    rows = session.exec(
        select(Handoff, Conversation)
        .join(Conversation, Conversation.id == Handoff.conversation_id)
        .where(
            Handoff.business_id == business_id,
            Handoff.closed_at.is_(None),
            Conversation.business_id == business_id,
            Conversation.status.in_(WITH_PEOPLE),
        )
        .order_by(Handoff.id)
    ).all()
    seen: set[int] = set()
    pairs = []
    for handoff, conversation in rows:
        if conversation.id not in seen:
            seen.add(conversation.id)
            pairs.append((handoff, conversation))
    return pairs


def businesses_with_open_handoffs(session: Session) -> list[int]:
    """Businesses that have a conversation in people's hands (the SLA job, across tenants)."""
    return list(
        session.exec(
            select(Handoff.business_id)
            .where(Handoff.closed_at.is_(None))
            .distinct()
            .order_by(Handoff.business_id)
        ).all()
    )


def waiting_since(
    session: Session, *, business_id: int, handoff_ids: Iterable[int]
) -> dict[int, datetime]:
    """For handoffs already answered once: the customer's first message since the last agent
    reply, by conversation (where the next-response clock starts)."""
    ids = list(handoff_ids)
    if not ids:
        return {}
    answered_at = sa.func.coalesce(Handoff.last_agent_reply_at, Handoff.first_response_at)
    rows = session.exec(
        select(Message.conversation_id, sa.func.min(Message.created_at))
        .join(Handoff, Handoff.conversation_id == Message.conversation_id)
        .where(
            Handoff.business_id == business_id,
            Handoff.id.in_(ids),
            Handoff.first_response_at.is_not(None),
            Message.business_id == business_id,
            Message.sender_type == "customer",
            Message.created_at > answered_at,
        )
        .group_by(Message.conversation_id)
    ).all()
    return {row[0]: row[1] for row in rows}


def end_assignments(session: Session, *, business_id: int, conversation_id: int, now: datetime):
    """Close the conversation's current assignment period."""
    session.execute(
        sa.update(Assignment)
        .where(
            Assignment.business_id == business_id,
            Assignment.conversation_id == conversation_id,
            Assignment.unassigned_at.is_(None),
        )
        .values(unassigned_at=now, updated_at=now)
        .execution_options(synchronize_session="fetch")
    )


def _open_counts(business_id: int):
    return (
        select(Conversation.assignee_user_id.label("user_id"), sa.func.count().label("n"))
        .where(
            Conversation.business_id == business_id,
            Conversation.status.in_(WITH_PEOPLE),
            Conversation.assignee_user_id.is_not(None),
        )
        .group_by(Conversation.assignee_user_id)
        .subquery()
    )


def agents(
    session: Session,
    *,
    business_id: int,
    online_only: bool = False,
    exclude_user_ids: Iterable[int] = (),
    user_id: int | None = None,
) -> list[AgentRow]:
    """Members who can reply (owner, admin, agent; active), with their open conversations."""
    counts = _open_counts(business_id)
    query = (
        select(Membership, User, sa.func.coalesce(counts.c.n, 0))
        .join(User, User.id == Membership.user_id)
        .join(counts, counts.c.user_id == Membership.user_id, isouter=True)
        .where(
            Membership.business_id == business_id,
            Membership.role.in_(REPLY_ROLES),
            User.is_active.is_(True),
        )
        .order_by(User.name, User.id)
    )
    if online_only:
        query = query.where(Membership.availability == "online")
    excluded = [uid for uid in exclude_user_ids if uid is not None]
    if excluded:
        query = query.where(Membership.user_id.not_in(excluded))
    if user_id is not None:
        query = query.where(Membership.user_id == user_id)
    return [AgentRow(m, u, int(n)) for m, u, n in session.exec(query).all()]


def membership(
    session: Session, *, business_id: int, user_id: int
) -> tuple[Membership, User] | None:
    """A user's membership in the business, with the user."""
    row = session.exec(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.business_id == business_id, Membership.user_id == user_id)
    ).first()
    return (row[0], row[1]) if row else None


def user_name(session: Session, *, business_id: int, user_id: int | None) -> str | None:
    """The name of a member of the business."""
    if user_id is None:
        return None
    return session.exec(
        select(User.name)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.business_id == business_id, User.id == user_id)
    ).first()


def waiting_unassigned(session: Session, *, business_id: int, limit: int) -> list[int]:
    """Conversations waiting for an agent with nobody assigned, longest waiting first."""
    return list(
        session.exec(
            select(Conversation.id)
            .join(Handoff, Handoff.conversation_id == Conversation.id)
            .where(
                Conversation.business_id == business_id,
                Conversation.status == "waiting_for_agent",
                Conversation.assignee_user_id.is_(None),
                Handoff.business_id == business_id,
                Handoff.closed_at.is_(None),
            )
            .group_by(Conversation.id)
            .order_by(sa.func.min(Handoff.created_at), Conversation.id)
            .limit(limit)
        ).all()
    )


def list_policies(session: Session, *, business_id: int) -> list[SLAPolicy]:
    """The business's SLA policies, oldest first."""
    return list(
        session.exec(
            select(SLAPolicy).where(SLAPolicy.business_id == business_id).order_by(SLAPolicy.id)
        ).all()
    )


def get_policy(session: Session, *, business_id: int, policy_id: int) -> SLAPolicy | None:
    """The business's SLA policy with this id."""
    return session.exec(
        select(SLAPolicy).where(SLAPolicy.business_id == business_id, SLAPolicy.id == policy_id)
    ).first()


def policies_by_id(
    session: Session, *, business_id: int, policy_ids: Iterable[int]
) -> dict[int, SLAPolicy]:
    """These SLA policies of the business, by id."""
    ids = [pid for pid in set(policy_ids) if pid is not None]
    if not ids:
        return {}
    rows = session.exec(
        select(SLAPolicy).where(SLAPolicy.business_id == business_id, SLAPolicy.id.in_(ids))
    ).all()
    return {row.id: row for row in rows}
