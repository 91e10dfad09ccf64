"""Builders for inbox, handoff and notification tests: a team, channels, conversations, time."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rq import SimpleWorker
from sqlmodel import Session, select

from backend.auth.permissions import Actor
from backend.core.queue import get_queue
from backend.core.redis import get_redis
from backend.models import (
    Business,
    ChannelIntegration,
    Contact,
    ContactChannelIdentity,
    Conversation,
    Handoff,
    Membership,
    Message,
    Role,
    SLAPolicy,
)
from tests.factories import make_business, make_user

# A Monday, 10:00 UTC: tests travel in time from here by passing `now=`.
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
_seq = itertools.count(1)


def minutes(n: float) -> timedelta:
    """A duration in minutes."""
    return timedelta(minutes=n)


@dataclass
class Team:
    """A business with an owner, agents and a viewer, as actors."""

    business: Business
    owner: Actor
    agents: list[Actor]
    viewer: Actor

    @property
    def agent(self) -> Actor:
        """The first agent."""
        return self.agents[0]


def member(session: Session, business: Business, role: Role, name: str) -> Actor:
    """A new member of `business` with `role`, as an actor."""
    user = make_user(session, business=business, role=role, name=name)
    return Actor(user_id=user.id, business_id=business.id, role=role)


def make_team(session: Session, *, agents: int = 2, name: str | None = None) -> Team:
    """A business with an owner, `agents` agents (away) and a viewer."""
    business = make_business(session, name=name)
    return Team(
        business=business,
        owner=member(session, business, Role.OWNER, "Olive Owner"),
        agents=[member(session, business, Role.AGENT, f"Agent {i + 1}") for i in range(agents)],
        viewer=member(session, business, Role.VIEWER, "Vic Viewer"),
    )


def membership_of(session: Session, actor: Actor) -> Membership:
    """The actor's membership row."""
    return session.exec(
        select(Membership).where(
            Membership.business_id == actor.business_id, Membership.user_id == actor.user_id
        )
    ).one()


def set_presence(session: Session, actor: Actor, availability: str, capacity: int = 10) -> None:
    """Mark a member online/away with a capacity (directly, without events)."""
    row = membership_of(session, actor)
    row.availability, row.max_open_conversations = availability, capacity
    session.add(row)
    session.flush()


def channel(session: Session, business: Business, kind: str = "whatsapp", name: str = "") -> int:
    """A connected channel of the business; its id."""
    row = ChannelIntegration(business_id=business.id, kind=kind, name=name or f"{kind} line")
    session.add(row)
    session.flush()
    return row.id


def conversation(
    session: Session,
    business: Business,
    *,
    integration_id: int | None = None,
    name: str | None = "Zawadi",
    email: str | None = None,
    phone: str | None = None,
    external_id: str | None = None,
    status: str = "ai",
    texts: tuple[str, ...] = ("Hello",),
    at: datetime = T0,
    unread: int = 0,
    labels: list[str] | None = None,
    assignee: Actor | None = None,
    contact: Contact | None = None,
) -> Conversation:
    """A conversation with customer messages `texts` (a minute apart, the last at `at`)."""
    if integration_id is None:
        integration_id = channel(session, business)
    if contact is None:
        contact = Contact(business_id=business.id, name=name, email=email, phone=phone)
        session.add(contact)
        session.flush()
        session.add(
            ContactChannelIdentity(
                business_id=business.id,
                contact_id=contact.id,
                channel_integration_id=integration_id,
                external_user_id=external_id or f"+2547000{next(_seq):05d}",
            )
        )
    row = Conversation(
        business_id=business.id,
        contact_id=contact.id,
        channel_integration_id=integration_id,
        status=status,
        unread_count=unread,
        labels=labels or [],
        assignee_user_id=assignee.user_id if assignee else None,
        created_at=at - minutes(len(texts)),
        last_message_at=at if texts else None,
        last_customer_message_at=at if texts else None,
    )
    session.add(row)
    session.flush()
    for i, text in enumerate(texts):
        session.add(
            Message(
                business_id=business.id,
                conversation_id=row.id,
                text=text,
                created_at=at - minutes(len(texts) - 1 - i),
            )
        )
    session.flush()
    return row


def customer_says(session: Session, conv: Conversation, text: str, at: datetime) -> Message:
    """A customer message at `at` (as the pipeline records it)."""
    message = Message(
        business_id=conv.business_id, conversation_id=conv.id, text=text, created_at=at
    )
    conv.last_message_at = conv.last_customer_message_at = at
    conv.unread_count += 1
    session.add_all([message, conv])
    session.flush()
    return message


def hand_over(
    session: Session, conv: Conversation, *, at: datetime = T0, reason: str = "low_confidence"
) -> Handoff:
    """The AI hands the conversation over at `at` (as conversations.service.answer does)."""
    conv.status = "waiting_for_agent"
    handoff = Handoff(
        business_id=conv.business_id,
        conversation_id=conv.id,
        reason=reason,
        requested_by="ai",
        created_at=at,
    )
    session.add_all([conv, handoff])
    session.flush()
    return handoff


def policy(session: Session, business: Business, **values) -> SLAPolicy:
    """An active SLA policy for every channel."""
    row = SLAPolicy(business_id=business.id, name=values.pop("name", "Standard"), **values)
    session.add(row)
    session.flush()
    return row


def run_worker(*queues: str) -> None:
    """Run queued jobs until the queues are empty."""
    names = queues or ("inbound", "outbound", "default")
    SimpleWorker([get_queue(n) for n in names], connection=get_redis()).work(burst=True)


def live_events(pubsub, timeout: float = 0.3) -> list[dict]:
    """The events published on a subscribed tenant channel so far."""
    found = []
    while (item := pubsub.get_message(timeout=timeout)) is not None:
        if item["type"] == "message":
            found.append(json.loads(item["data"]))
    return found
