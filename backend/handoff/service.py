"""Handoff: who handles a conversation, how it gets to them, and how fast they must answer.

A conversation is with the AI (`ai`), waiting for a person (`waiting_for_agent`), with a person
(`human`) or `resolved`. Each stretch with people is one `Handoff` row: opened when the AI or
the customer asks for a person (conversations.service) or an agent takes over, closed when it
is resolved or handed back to the AI. Its SLA clock lives on that row.

Automatic assignment is round-robin among online agents with room under their capacity; it
runs under a per-business advisory lock so two handoffs at once never overfill one agent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from backend import events
from backend.ai import service as ai_service
from backend.auth.permissions import Actor, Permission
from backend.conversations import service as conversations
from backend.core.queue import enqueue_after_commit
from backend.handoff import repository as repo
from backend.handoff import sla
from backend.handoff.schemas import (
    AgentView,
    ConversationState,
    HandoffError,
    HandoffInfo,
    NotFound,
    SLAPolicyView,
    SLARun,
    SLAView,
)
from backend.models.base import utcnow
from backend.models.channels import ChannelKind
from backend.models.conversations import Conversation, ConversationPriority
from backend.models.handoff import (
    Assignment,
    AssignmentMethod,
    Handoff,
    HandoffReason,
    HandoffRequester,
    SLAMetric,
    SLAPolicy,
)
from backend.models.notifications import NotificationKind
from backend.notifications import service as notifications

__all__ = [
    "HandoffError",
    "NotFound",
    "assign",
    "assign_waiting",
    "businesses_to_check",
    "check_sla",
    "claim_for_reply",
    "conversation_link",
    "delete_sla_policy",
    "hand_back_to_ai",
    "handoffs_of",
    "list_agents",
    "list_sla_policies",
    "record_agent_reply",
    "reopen",
    "resolve",
    "route_handoff",
    "save_sla_policy",
    "set_availability",
    "set_capacity",
    "set_priority",
    "take_over",
]

AVAILABILITIES = ("online", "away")
PRIORITIES = tuple(p.value for p in ConversationPriority)
MAX_SLA_MINUTES = 60 * 24 * 30
MAX_CAPACITY = 500
ASSIGN_WAITING = "backend.handoff.tasks.assign_waiting"
# Conversations assigned per pass when agents become free (the next pass takes the rest).
ASSIGN_BATCH = 200
_METRIC_LABELS = {
    SLAMetric.FIRST_RESPONSE.value: "first response",
    SLAMetric.NEXT_RESPONSE.value: "next response",
    SLAMetric.RESOLUTION.value: "resolution",
}
_REASON_LABELS = {
    "low_confidence": "the AI was not sure of its answer",
    "customer_request": "the customer asked for a person",
    "keyword": "the message contains an always-hand-over keyword",
    "sentiment": "the customer seems upset",
    "rule": "an AI rule says so",
    "ai_error": "the AI could not answer",
    "blocked_topic": "the customer raised a topic the AI must not discuss",
    "max_turns": "the AI reached its limit of turns",
}


def conversation_link(conversation_id: int) -> str:
    """Where the dashboard opens a conversation (notifications link here)."""
    return f"/conversations?c={conversation_id}"


# --- loading and small helpers --------------------------------------------------------------


def _conversation(
    session: Session, actor: Actor, conversation_id: int, *, for_update: bool = True
) -> Conversation:
    conversation = repo.get_conversation(
        session,
        business_id=actor.business_id,
        conversation_id=conversation_id,
        for_update=for_update,
    )
    if conversation is None:
        raise NotFound(f"Conversation {conversation_id} was not found in this business.")
    return conversation


def _state(session: Session, conversation: Conversation) -> ConversationState:
    return ConversationState(
        conversation_id=conversation.id,
        status=conversation.status,
        assignee_user_id=conversation.assignee_user_id,
        assignee_name=repo.user_name(
            session, business_id=conversation.business_id, user_id=conversation.assignee_user_id
        ),
        priority=conversation.priority,
    )


def _publish_updated(session: Session, conversation: Conversation, **extra) -> None:
    events.publish(
        session,
        "conversation.updated",
        business_id=conversation.business_id,
        conversation_id=conversation.id,
        status=conversation.status,
        assignee_user_id=conversation.assignee_user_id,
        priority=conversation.priority,
        **extra,
    )


def _who(session: Session, conversation: Conversation) -> str:
    name, email, phone, kind = repo.conversation_title(
        session, business_id=conversation.business_id, conversation_id=conversation.id
    )
    who = name or email or phone or f"Conversation #{conversation.id}"
    return f"{who} ({kind})" if kind else who


def _choose_policy(
    session: Session, conversation: Conversation, policies: list[SLAPolicy] | None = None
) -> SLAPolicy | None:
    """The active policy for the conversation's channel: one naming the channel, else one for
    every channel (the oldest wins a tie)."""
    if policies is None:
        policies = repo.list_policies(session, business_id=conversation.business_id)
    kind = repo.channel_kind(
        session,
        business_id=conversation.business_id,
        integration_id=conversation.channel_integration_id,
    )
    active = [p for p in policies if p.is_active]
    specific = [p for p in active if kind and kind in (p.applies_to_channels or [])]
    general = [p for p in active if not p.applies_to_channels]
    return (specific or general or [None])[0]


def _open_handoff(
    session: Session, conversation: Conversation, *, user_id: int, reason: str, now: datetime
) -> Handoff:
    """The conversation's open handoff, or a new one opened (and accepted) by an agent."""
    handoff = repo.open_handoff(
        session, business_id=conversation.business_id, conversation_id=conversation.id
    )
    if handoff is None:
        policy = _choose_policy(session, conversation)
        handoff = Handoff(
            business_id=conversation.business_id,
            conversation_id=conversation.id,
            reason=reason,
            requested_by=HandoffRequester.AGENT,
            created_at=now,
            routed_at=now,  # an agent opened it: nobody needs to be called
            sla_policy_id=policy.id if policy else None,
        )
        session.add(handoff)
    if handoff.accepted_at is None:
        handoff.accepted_by_user_id, handoff.accepted_at = user_id, now
    session.add(handoff)
    session.flush()
    return handoff


def _set_assignee(
    session: Session,
    conversation: Conversation,
    *,
    user_id: int | None,
    by_user_id: int | None,
    method: str,
    now: datetime,
) -> Assignment | None:
    """Give the conversation to `user_id` (None: nobody); the new assignment, if any."""
    repo.end_assignments(
        session, business_id=conversation.business_id, conversation_id=conversation.id, now=now
    )
    conversation.assignee_user_id = user_id
    session.add(conversation)
    assignment = None
    if user_id is not None:
        assignment = Assignment(
            business_id=conversation.business_id,
            conversation_id=conversation.id,
            user_id=user_id,
            assigned_by_user_id=by_user_id,
            method=method,
            created_at=now,
        )
        session.add(assignment)
    session.flush()
    return assignment


def _tell_assignee(
    session: Session, conversation: Conversation, assignment: Assignment, *, why: str
) -> None:
    if assignment.user_id == assignment.assigned_by_user_id:
        return  # nobody needs telling that they took something themselves
    notifications.notify(
        session,
        business_id=conversation.business_id,
        kind=NotificationKind.ASSIGNED_TO_ME,
        user_ids=[assignment.user_id],
        title=f"Assigned to you: {_who(session, conversation)}",
        body=why,
        link=conversation_link(conversation.id),
        data={"conversation_id": conversation.id},
        dedup_key=f"assignment:{assignment.id}",
    )


def _publish_assigned(
    session: Session, conversation: Conversation, *, previous: int | None, method: str
) -> None:
    events.publish(
        session,
        "conversation.assigned",
        business_id=conversation.business_id,
        conversation_id=conversation.id,
        status=conversation.status,
        assignee_user_id=conversation.assignee_user_id,
        previous_assignee_user_id=previous,
        method=method,
    )


def _auto_assign(
    session: Session,
    conversation: Conversation,
    *,
    now: datetime,
    method: str = AssignmentMethod.ROUND_ROBIN,
    exclude: Iterable[int | None] = (),
) -> int | None:
    """Give the conversation to the next online agent with room; their id, or None.

    The turn goes to the agent assigned longest ago (never assigned: first), so work is shared
    in rotation; agents at their capacity are skipped.
    """
    business_id = conversation.business_id
    repo.lock_assignment(session, business_id=business_id)
    # Re-read under the lock: another worker may have just assigned it.
    fresh = repo.get_conversation(
        session, business_id=business_id, conversation_id=conversation.id, for_update=True
    )
    if fresh is None or fresh.status not in repo.WITH_PEOPLE:
        return None
    if method == AssignmentMethod.ROUND_ROBIN and fresh.assignee_user_id is not None:
        return None
    candidates = [
        row
        for row in repo.agents(
            session, business_id=business_id, online_only=True, exclude_user_ids=exclude
        )
        if row.open_count < row.membership.max_open_conversations
    ]
    if not candidates:
        return None
    floor = datetime.min.replace(tzinfo=now.tzinfo)
    chosen = min(candidates, key=lambda r: (r.membership.last_assigned_at or floor, r.user.id))
    previous = fresh.assignee_user_id
    assignment = _set_assignee(
        session, fresh, user_id=chosen.user.id, by_user_id=None, method=method, now=now
    )
    chosen.membership.last_assigned_at = now
    session.add(chosen.membership)
    session.flush()
    why = (
        "Reassigned to you because its SLA was breached."
        if method == AssignmentMethod.ESCALATION
        else "Round-robin assignment: it is waiting for a person."
    )
    _tell_assignee(session, fresh, assignment, why=why)
    _publish_assigned(session, fresh, previous=previous, method=method)
    return chosen.user.id


# --- agents' actions on a conversation ------------------------------------------------------


def take_over(
    session: Session, *, actor: Actor, conversation_id: int, now: datetime | None = None
) -> ConversationState:
    """The actor takes the conversation: the AI stops, it is `human` and assigned to them."""
    actor.require(Permission.CONVERSATIONS_REPLY)
    now = now or utcnow()
    conversation = _conversation(session, actor, conversation_id)
    if conversation.status == "resolved":
        raise HandoffError(
            "This conversation is resolved; reopen it to take it over.", field="conversation"
        )
    if conversation.status == "human" and conversation.assignee_user_id == actor.user_id:
        return _state(session, conversation)
    _open_handoff(
        session, conversation, user_id=actor.user_id, reason=HandoffReason.AGENT_TAKEOVER, now=now
    )
    conversation.status = "human"
    if conversation.assignee_user_id != actor.user_id:
        _set_assignee(
            session,
            conversation,
            user_id=actor.user_id,
            by_user_id=actor.user_id,
            method=AssignmentMethod.TAKEOVER,
            now=now,
        )
    session.add(conversation)
    session.flush()
    _publish_updated(session, conversation)
    return _state(session, conversation)


def claim_for_reply(
    session: Session, *, conversation: Conversation, user_id: int, now: datetime
) -> bool:
    """What an agent's reply does to the conversation (for inbox.reply): the AI stops, the
    conversation is `human`, theirs if nobody had it, and the SLA clocks see a response.

    Returns whether its status or assignee changed.
    """
    changed = False
    handoff = _open_handoff(
        session, conversation, user_id=user_id, reason=HandoffReason.AGENT_TAKEOVER, now=now
    )
    if conversation.status != "human":
        conversation.status, changed = "human", True
    if conversation.assignee_user_id is None:
        _set_assignee(
            session,
            conversation,
            user_id=user_id,
            by_user_id=user_id,
            method=AssignmentMethod.TAKEOVER,
            now=now,
        )
        changed = True
    if handoff.first_response_at is None:
        handoff.first_response_at = now
    handoff.last_agent_reply_at = now
    session.add(handoff)
    session.add(conversation)
    session.flush()
    return changed


def record_agent_reply(session: Session, *, business_id: int, message_id: int) -> bool:
    """Let the SLA clocks see an agent's reply that did not come through the inbox (one the
    business sent from its phone, echoed by the channel). Whether the handoff changed."""
    message = repo.get_message(session, business_id=business_id, message_id=message_id)
    if message is None or message.sender_type != "agent" or message.is_private_note:
        return False
    handoff = repo.open_handoff(
        session, business_id=business_id, conversation_id=message.conversation_id
    )
    if handoff is None or message.created_at < handoff.created_at:
        return False
    changed = False
    if handoff.first_response_at is None:
        handoff.first_response_at, changed = message.created_at, True
    if handoff.last_agent_reply_at is None or handoff.last_agent_reply_at < message.created_at:
        handoff.last_agent_reply_at, changed = message.created_at, True
    session.add(handoff)
    session.flush()
    return changed


def hand_back_to_ai(
    session: Session, *, actor: Actor, conversation_id: int, now: datetime | None = None
) -> ConversationState:
    """Give the conversation back to the AI: it answers the customer's next message again."""
    actor.require(Permission.CONVERSATIONS_REPLY)
    now = now or utcnow()
    conversation = _conversation(session, actor, conversation_id)
    if conversation.status == "resolved":
        raise HandoffError(
            "This conversation is resolved; the customer's next message starts "
            "a new one with the AI.",
            field="conversation",
        )
    if conversation.status == "ai":
        return _state(session, conversation)
    repo.close_handoffs(
        session, business_id=conversation.business_id, conversation_id=conversation.id, now=now
    )
    conversation.status = "ai"
    _set_assignee(
        session,
        conversation,
        user_id=None,
        by_user_id=actor.user_id,
        method=AssignmentMethod.MANUAL,
        now=now,
    )
    session.add(conversation)
    session.flush()
    _publish_updated(session, conversation)
    return _state(session, conversation)


def resolve(session: Session, *, actor: Actor, conversation_id: int) -> ConversationState:
    """Close the conversation (its handoff with it); the customer's next message opens a new one."""
    actor.require(Permission.CONVERSATIONS_REPLY)
    conversation = _conversation(session, actor, conversation_id)
    conversations.resolve(session, conversation=conversation)
    return _state(session, conversation)


def reopen(
    session: Session, *, actor: Actor, conversation_id: int, now: datetime | None = None
) -> ConversationState:
    """Open a resolved conversation again, with a person (its assignee, else the actor)."""
    actor.require(Permission.CONVERSATIONS_REPLY)
    now = now or utcnow()
    conversation = _conversation(session, actor, conversation_id)
    if conversation.status != "resolved":
        raise HandoffError("Only a resolved conversation can be reopened.", field="conversation")
    newer = repo.newer_open_conversation(
        session, business_id=conversation.business_id, conversation=conversation
    )
    if newer is not None:
        raise HandoffError(
            f"This customer already has a newer open conversation (#{newer}) on this channel; "
            "continue there.",
            field="conversation",
        )
    conversation.status, conversation.resolved_at = "human", None
    _open_handoff(
        session, conversation, user_id=actor.user_id, reason=HandoffReason.REOPENED, now=now
    )
    if conversation.assignee_user_id is None:
        _set_assignee(
            session,
            conversation,
            user_id=actor.user_id,
            by_user_id=actor.user_id,
            method=AssignmentMethod.TAKEOVER,
            now=now,
        )
    session.add(conversation)
    session.flush()
    _publish_updated(session, conversation)
    return _state(session, conversation)


def assign(
    session: Session,
    *,
    actor: Actor,
    conversation_id: int,
    user_id: int | None,
    now: datetime | None = None,
) -> ConversationState:
    """Assign the conversation to a member who can reply (None: unassign).

    A manual choice: it is not limited by presence or capacity. The member is notified.
    """
    actor.require(Permission.CONVERSATIONS_REPLY)
    now = now or utcnow()
    conversation = _conversation(session, actor, conversation_id)
    if user_id is not None:
        found = repo.membership(session, business_id=actor.business_id, user_id=int(user_id))
        if found is None or not found[1].is_active:
            raise HandoffError(
                "That person is not a member of this business; choose someone from the team list.",
                field="assignee",
            )
        if found[0].role not in repo.REPLY_ROLES:
            raise HandoffError(
                f"{found[1].name} is a {found[0].role} and cannot reply to customers; choose an "
                "agent, admin or owner.",
                field="assignee",
            )
    if conversation.assignee_user_id == user_id:
        return _state(session, conversation)
    previous = conversation.assignee_user_id
    assignment = _set_assignee(
        session,
        conversation,
        user_id=user_id,
        by_user_id=actor.user_id,
        method=AssignmentMethod.MANUAL,
        now=now,
    )
    if assignment is not None:
        by = repo.user_name(session, business_id=actor.business_id, user_id=actor.user_id)
        _tell_assignee(session, conversation, assignment, why=f"Assigned by {by}.")
    _publish_assigned(session, conversation, previous=previous, method=AssignmentMethod.MANUAL)
    return _state(session, conversation)


def set_priority(
    session: Session, *, actor: Actor, conversation_id: int, priority: str
) -> ConversationState:
    """Set how urgent the conversation is: low, normal, high or urgent."""
    actor.require(Permission.CONVERSATIONS_REPLY)
    if priority not in PRIORITIES:
        raise HandoffError(
            f"priority must be one of {', '.join(PRIORITIES)} (got {priority!r}).", field="priority"
        )
    conversation = _conversation(session, actor, conversation_id)
    if conversation.priority != priority:
        conversation.priority = priority
        session.add(conversation)
        session.flush()
        _publish_updated(session, conversation)
    return _state(session, conversation)


# --- agents: presence and capacity ----------------------------------------------------------


def _agent_view(row: repo.AgentRow) -> AgentView:
    return AgentView(
        user_id=row.user.id,
        name=row.user.name,
        email=row.user.email,
        role=row.membership.role,
        availability=row.membership.availability,
        open_conversations=row.open_count,
        capacity=row.membership.max_open_conversations,
        has_capacity=row.open_count < row.membership.max_open_conversations,
        last_assigned_at=row.membership.last_assigned_at,
    )


def list_agents(session: Session, *, actor: Actor) -> list[AgentView]:
    """Members who can reply, with presence and load (the assign menu, the board)."""
    actor.require(Permission.CONVERSATIONS_READ)
    return [_agent_view(row) for row in repo.agents(session, business_id=actor.business_id)]


def _one_agent(session: Session, business_id: int, user_id: int) -> repo.AgentRow:
    rows = repo.agents(session, business_id=business_id, user_id=user_id)
    if not rows:
        raise NotFound("That member was not found, or cannot reply to customers.")
    return rows[0]


def set_availability(session: Session, *, actor: Actor, availability: str) -> AgentView:
    """The actor marks themselves online (gets round-robin assignments) or away."""
    actor.require(Permission.CONVERSATIONS_REPLY)
    if availability not in AVAILABILITIES:
        raise HandoffError(
            f"availability must be online or away (got {availability!r}).", field="availability"
        )
    row = _one_agent(session, actor.business_id, actor.user_id)
    if row.membership.availability != availability:
        row.membership.availability = availability
        session.add(row.membership)
        session.flush()
        events.publish(
            session,
            "member.availability_changed",
            business_id=actor.business_id,
            user_id=actor.user_id,
            availability=availability,
        )
        if availability == "online":  # someone can take the conversations that wait
            enqueue_after_commit(session, ASSIGN_WAITING, actor.business_id, queue="default")
    return _agent_view(row)


def set_capacity(
    session: Session, *, actor: Actor, user_id: int, max_open_conversations: int
) -> AgentView:
    """How many open conversations round-robin gives a member at most (owners, admins)."""
    actor.require(Permission.MEMBERS_MANAGE)
    if (
        isinstance(max_open_conversations, bool)
        or not isinstance(max_open_conversations, int)
        or not 0 <= max_open_conversations <= MAX_CAPACITY
    ):
        raise HandoffError(
            f"max_open_conversations must be a whole number from 0 to {MAX_CAPACITY}.",
            field="max_open_conversations",
        )
    row = _one_agent(session, actor.business_id, user_id)
    if row.membership.max_open_conversations != max_open_conversations:
        row.membership.max_open_conversations = max_open_conversations
        session.add(row.membership)
        session.flush()
        events.publish(
            session,
            "member.capacity_changed",
            business_id=actor.business_id,
            user_id=user_id,
            capacity=max_open_conversations,
        )
        enqueue_after_commit(session, ASSIGN_WAITING, actor.business_id, queue="default")
    return _agent_view(row)


# --- routing: what happens when the AI or the customer calls a person -----------------------


def _route(
    session: Session, conversation: Conversation, handoff: Handoff, *, now: datetime
) -> None:
    """Apply the SLA policy, tell the team, and try to assign the new handoff (once)."""
    if handoff.sla_policy_id is None:
        policy = _choose_policy(session, conversation)
        handoff.sla_policy_id = policy.id if policy else None
    handoff.routed_at = now
    session.add(handoff)
    session.flush()
    if handoff.accepted_at is not None or conversation.status != "waiting_for_agent":
        return  # an agent already has it: nobody needs calling
    reason = _REASON_LABELS.get(handoff.reason, handoff.reason.replace("_", " "))
    notifications.notify_roles(
        session,
        business_id=conversation.business_id,
        kind=NotificationKind.NEW_HANDOFF,
        title=f"A customer needs a person: {_who(session, conversation)}",
        body=f"Handed over because {reason}.",
        link=conversation_link(conversation.id),
        data={"conversation_id": conversation.id},
        dedup_key=f"handoff:{handoff.id}",
    )
    events.publish(
        session,
        "handoff.routed",
        business_id=conversation.business_id,
        conversation_id=conversation.id,
        handoff_id=handoff.id,
        sla_policy_id=handoff.sla_policy_id,
    )
    if conversation.assignee_user_id is None:
        _auto_assign(session, conversation, now=now)


def route_handoff(
    session: Session, *, conversation: Conversation, now: datetime | None = None
) -> str:
    """Route the conversation's open handoff if nobody did yet (the job behind
    `handoff.requested`); "routed", or why nothing was done."""
    now = now or utcnow()
    business_id = conversation.business_id
    repo.lock_assignment(session, business_id=business_id)
    conversation = repo.get_conversation(
        session, business_id=business_id, conversation_id=conversation.id, for_update=True
    )
    if conversation is None or conversation.status not in repo.WITH_PEOPLE:
        return "not waiting"
    handoff = repo.open_handoff(session, business_id=business_id, conversation_id=conversation.id)
    if handoff is None or handoff.routed_at is not None:
        return "already routed"
    _route(session, conversation, handoff, now=now)
    return "routed"


def assign_waiting(session: Session, *, business_id: int, now: datetime | None = None) -> int:
    """Assign conversations that wait with nobody assigned, while online agents have room."""
    now = now or utcnow()
    assigned = 0
    for conversation_id in repo.waiting_unassigned(
        session, business_id=business_id, limit=ASSIGN_BATCH
    ):
        conversation = repo.get_conversation(
            session, business_id=business_id, conversation_id=conversation_id
        )
        if conversation is None:
            continue
        if _auto_assign(session, conversation, now=now) is None:
            if not any(
                r.open_count < r.membership.max_open_conversations
                for r in repo.agents(session, business_id=business_id, online_only=True)
            ):
                break  # everyone online is full: the rest waits for the next pass
            continue
        assigned += 1
    return assigned


# --- SLA ------------------------------------------------------------------------------------


def _terms(policy: SLAPolicy) -> sla.Terms:
    return sla.Terms(
        first_response_minutes=policy.first_response_minutes,
        next_response_minutes=policy.next_response_minutes,
        resolution_minutes=policy.resolution_minutes,
        warn_before_minutes=policy.warn_before_minutes,
        business_hours_only=policy.business_hours_only,
    )


@dataclass(frozen=True)
class _Hours:
    days: dict
    timezone: str


def _hours(session: Session, business_id: int) -> _Hours:
    rules = ai_service.rules_for(session, business_id=business_id)
    return _Hours(days=dict(rules.business_hours or {}), timezone=rules.timezone)


def _clocks(
    policy: SLAPolicy, handoff: Handoff, waiting: datetime | None, hours: _Hours
) -> list[sla.Clock]:
    return sla.running_clocks(
        _terms(policy),
        handed_over_at=handoff.created_at,
        first_response_at=handoff.first_response_at,
        waiting_since=waiting,
        hours=hours.days,
        timezone=hours.timezone,
    )


def _sla_view(
    policy: SLAPolicy, handoff: Handoff, waiting: datetime | None, hours: _Hours, now: datetime
) -> SLAView | None:
    clocks = _clocks(policy, handoff, waiting, hours)
    if not clocks:
        return None
    clock = clocks[0]
    return SLAView(
        policy_id=policy.id,
        policy_name=policy.name,
        metric=clock.metric,
        due_at=clock.due_at,
        seconds_left=int((clock.due_at - now).total_seconds()) if clock.due_at else None,
        state=clock.state(now),
        paused=policy.business_hours_only and not sla.is_open(hours.days, hours.timezone, now),
    )


def handoffs_of(
    session: Session, *, business_id: int, conversation_ids: list[int], now: datetime | None = None
) -> dict[int, HandoffInfo]:
    """The open handoff and SLA state of each of these conversations that has one (batched)."""
    now = now or utcnow()
    if not conversation_ids:
        return {}
    handoffs = repo.open_handoffs_of(
        session, business_id=business_id, conversation_ids=conversation_ids
    )
    if not handoffs:
        return {}
    policies = repo.policies_by_id(
        session, business_id=business_id, policy_ids=[h.sla_policy_id for h in handoffs.values()]
    )
    waiting = repo.waiting_since(
        session, business_id=business_id, handoff_ids=[h.id for h in handoffs.values()]
    )
    hours = _hours(session, business_id) if policies else None
    result = {}
    for conversation_id, handoff in handoffs.items():
        policy = policies.get(handoff.sla_policy_id)
        view = None
        if policy is not None and policy.is_active and hours is not None:
            view = _sla_view(policy, handoff, waiting.get(conversation_id), hours, now)
        result[conversation_id] = HandoffInfo(
            conversation_id=conversation_id,
            handoff_id=handoff.id,
            reason=handoff.reason,
            since=handoff.created_at,
            sla=view,
        )
    return result


def _members_with_role(session: Session, business_id: int, roles: tuple[str, ...]) -> list[int]:
    return [
        row.user.id
        for row in repo.agents(session, business_id=business_id)
        if row.membership.role in roles
    ]


def _record(handoff: Handoff, key: str, now: datetime) -> None:
    # Reassigned, not mutated: the ORM only notices a new JSON value.
    handoff.sla_events = {**(handoff.sla_events or {}), key: now.isoformat()}


def _warn(
    session: Session, conversation: Conversation, handoff: Handoff, clock: sla.Clock, now: datetime
) -> None:
    _record(handoff, f"{clock.key}:warning", now)
    recipients = (
        [conversation.assignee_user_id]
        if conversation.assignee_user_id
        else _members_with_role(session, conversation.business_id, repo.REPLY_ROLES)
    )
    minutes = max(0, int((clock.due_at - now).total_seconds() // 60)) if clock.due_at else None
    left = f" in {minutes} min" if minutes is not None else ""
    notifications.notify(
        session,
        business_id=conversation.business_id,
        kind=NotificationKind.SLA_ABOUT_TO_BREACH,
        user_ids=recipients,
        title=f"SLA about to breach: {_METRIC_LABELS[clock.metric]} for "
        f"{_who(session, conversation)}",
        body=f"The {_METRIC_LABELS[clock.metric]} is due{left}.",
        link=conversation_link(conversation.id),
        data={"conversation_id": conversation.id, "metric": clock.metric},
        dedup_key=f"sla:{handoff.id}:{clock.key}:warning",
    )
    events.publish(
        session,
        "sla.warning",
        business_id=conversation.business_id,
        conversation_id=conversation.id,
        metric=clock.metric,
        due_at=clock.due_at,
    )


def _raised(priority: str) -> str:
    index = PRIORITIES.index(priority) if priority in PRIORITIES else 1
    return PRIORITIES[min(index + 1, len(PRIORITIES) - 1)]


def _escalate(
    session: Session,
    conversation: Conversation,
    handoff: Handoff,
    policy: SLAPolicy,
    clock: sla.Clock,
    now: datetime,
) -> None:
    _record(handoff, f"{clock.key}:breached", now)
    business_id = conversation.business_id
    recipients: set[int] = set()
    if conversation.assignee_user_id:
        recipients.add(conversation.assignee_user_id)
    if policy.escalate_notify_owner:
        recipients.update(_members_with_role(session, business_id, ("owner",)))
    if not recipients:
        recipients.update(_members_with_role(session, business_id, repo.REPLY_ROLES))
    label = _METRIC_LABELS[clock.metric]
    actions = []
    if policy.escalate_raise_priority:
        raised = _raised(conversation.priority)
        if raised != conversation.priority:
            conversation.priority = raised
            session.add(conversation)
            actions.append(f"priority raised to {raised}")
    reassigned_to = None
    if policy.escalate_reassign:
        previous = conversation.assignee_user_id
        reassigned_to = _auto_assign(
            session, conversation, now=now, method=AssignmentMethod.ESCALATION, exclude=[previous]
        )
        if reassigned_to is not None:
            name = repo.user_name(session, business_id=business_id, user_id=reassigned_to)
            actions.append(f"reassigned to {name}")
        else:
            actions.append("nobody else online had room to take it")
    session.flush()
    body = f"The {label} was due {clock.due_at:%Y-%m-%d %H:%M} UTC." if clock.due_at else ""
    if actions:
        done = "; ".join(actions)
        body += f" {done[0].upper()}{done[1:]}."
    notifications.notify(
        session,
        business_id=business_id,
        kind=NotificationKind.SLA_BREACHED,
        user_ids=recipients,
        title=f"SLA breached: {label} for {_who(session, conversation)}",
        body=body.strip(),
        link=conversation_link(conversation.id),
        data={"conversation_id": conversation.id, "metric": clock.metric},
        dedup_key=f"sla:{handoff.id}:{clock.key}:breached",
    )
    events.publish(
        session,
        "sla.breached",
        business_id=business_id,
        conversation_id=conversation.id,
        metric=clock.metric,
        priority=conversation.priority,
        reassigned_to=reassigned_to,
    )


def check_sla(session: Session, *, business_id: int, now: datetime | None = None) -> SLARun:
    """One pass over the business's conversations in people's hands (the minute job).

    Routes handoffs nobody routed yet, assigns waiting ones to agents who came online, warns
    before deadlines and escalates breaches as each policy says. Idempotent: every warning and
    escalation is recorded on its handoff and happens once; two workers at once take turns.
    """
    now = now or utcnow()
    if not repo.try_lock_sla(session, business_id=business_id):
        return SLARun(skipped=True)
    pairs = repo.open_handoffs_with_people(session, business_id=business_id)
    routed = 0
    for handoff, conversation in pairs:
        if handoff.routed_at is None:
            _route(session, conversation, handoff, now=now)
            routed += 1
    assigned = assign_waiting(session, business_id=business_id, now=now)
    policies = repo.policies_by_id(
        session, business_id=business_id, policy_ids=[h.sla_policy_id for h, _ in pairs]
    )
    active = {pid: p for pid, p in policies.items() if p.is_active}
    if not active:
        return SLARun(routed=routed, assigned=assigned)
    hours = _hours(session, business_id)
    waiting = repo.waiting_since(
        session, business_id=business_id, handoff_ids=[h.id for h, _ in pairs]
    )
    warned = breached = 0
    for handoff, conversation in pairs:
        policy = active.get(handoff.sla_policy_id)
        if policy is None:
            continue
        for clock in _clocks(policy, handoff, waiting.get(conversation.id), hours):
            done = handoff.sla_events or {}
            state = clock.state(now)
            if state == "breached" and f"{clock.key}:breached" not in done:
                _escalate(session, conversation, handoff, policy, clock, now)
                breached += 1
            elif state == "warning" and f"{clock.key}:warning" not in done:
                _warn(session, conversation, handoff, clock, now)
                warned += 1
        session.add(handoff)
    session.flush()
    return SLARun(routed=routed, assigned=assigned, warned=warned, breached=breached)


def businesses_to_check(session: Session) -> list[int]:
    """Businesses with conversations in people's hands (the minute job, across tenants)."""
    return repo.businesses_with_open_handoffs(session)


# --- SLA policies ---------------------------------------------------------------------------


def _policy_view(policy: SLAPolicy) -> SLAPolicyView:
    return SLAPolicyView(
        id=policy.id,
        name=policy.name,
        first_response_minutes=policy.first_response_minutes,
        next_response_minutes=policy.next_response_minutes,
        resolution_minutes=policy.resolution_minutes,
        business_hours_only=policy.business_hours_only,
        warn_before_minutes=policy.warn_before_minutes,
        escalate_notify_owner=policy.escalate_notify_owner,
        escalate_reassign=policy.escalate_reassign,
        escalate_raise_priority=policy.escalate_raise_priority,
        applies_to_channels=list(policy.applies_to_channels or []),
        is_active=policy.is_active,
    )


def list_sla_policies(session: Session, *, actor: Actor) -> list[SLAPolicyView]:
    """The business's SLA policies."""
    actor.require(Permission.CONVERSATIONS_READ)
    return [_policy_view(p) for p in repo.list_policies(session, business_id=actor.business_id)]


def _minutes(value, name: str, *, high: int = MAX_SLA_MINUTES, optional: bool = True):
    if value is None or value == "":
        if optional:
            return None
        raise HandoffError(f"Enter a number of minutes for {name}.", field=name)
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise HandoffError(f"{name} must be a whole number of minutes.", field=name)
    try:
        number = int(value)
    except ValueError:
        raise HandoffError(
            f"{name} must be a whole number of minutes (got {value!r}).", field=name
        ) from None
    low = 1 if optional else 0
    if not low <= number <= high:
        raise HandoffError(
            f"{name} must be from {low} to {high} minutes (got {number}).", field=name
        )
    return number


def _flag(value, name: str) -> bool:
    if not isinstance(value, bool):
        raise HandoffError(f"{name} must be true or false.", field=name)
    return value


def save_sla_policy(
    session: Session,
    *,
    actor: Actor,
    name: str,
    policy_id: int | None = None,
    first_response_minutes: int | None = None,
    next_response_minutes: int | None = None,
    resolution_minutes: int | None = None,
    business_hours_only: bool = True,
    warn_before_minutes: int = 5,
    escalate_notify_owner: bool = True,
    escalate_reassign: bool = False,
    escalate_raise_priority: bool = True,
    applies_to_channels: Iterable[str] = (),
    is_active: bool = True,
) -> SLAPolicyView:
    """Create (no `policy_id`) or change an SLA policy (owners and admins)."""
    actor.require(Permission.MEMBERS_MANAGE)
    name = (name or "").strip()
    if not name:
        raise HandoffError("Give the policy a name, e.g. “Standard”.", field="name")
    if len(name) > 120:
        raise HandoffError("Keep the policy name under 120 characters.", field="name")
    first = _minutes(first_response_minutes, "first_response_minutes")
    following = _minutes(next_response_minutes, "next_response_minutes")
    resolution = _minutes(resolution_minutes, "resolution_minutes")
    if first is None and following is None and resolution is None:
        raise HandoffError(
            "Set at least one target: first response, next response or resolution minutes.",
            field="first_response_minutes",
        )
    warn = _minutes(warn_before_minutes, "warn_before_minutes", high=24 * 60, optional=False)
    kinds = [str(k) for k in applies_to_channels or []]
    known = [k.value for k in ChannelKind]
    for kind in kinds:
        if kind not in known:
            raise HandoffError(
                f"applies_to_channels: {kind!r} is not a channel; use "
                f"{', '.join(known)} (none: every channel).",
                field="applies_to_channels",
            )
    if policy_id is None:
        policy = SLAPolicy(business_id=actor.business_id, name=name)
    else:
        policy = repo.get_policy(session, business_id=actor.business_id, policy_id=policy_id)
        if policy is None:
            raise NotFound(f"SLA policy {policy_id} was not found in this business.")
    policy.name = name
    policy.first_response_minutes, policy.next_response_minutes = first, following
    policy.resolution_minutes, policy.warn_before_minutes = resolution, warn
    policy.business_hours_only = _flag(business_hours_only, "business_hours_only")
    policy.escalate_notify_owner = _flag(escalate_notify_owner, "escalate_notify_owner")
    policy.escalate_reassign = _flag(escalate_reassign, "escalate_reassign")
    policy.escalate_raise_priority = _flag(escalate_raise_priority, "escalate_raise_priority")
    policy.applies_to_channels = sorted(set(kinds))
    policy.is_active = _flag(is_active, "is_active")
    session.add(policy)
    session.flush()
    events.publish(
        session, "sla_policy.saved", business_id=actor.business_id, sla_policy_id=policy.id
    )
    return _policy_view(policy)


def delete_sla_policy(session: Session, *, actor: Actor, policy_id: int) -> None:
    """Delete an SLA policy; open handoffs under it stop being timed."""
    actor.require(Permission.MEMBERS_MANAGE)
    policy = repo.get_policy(session, business_id=actor.business_id, policy_id=policy_id)
    if policy is None:
        raise NotFound(f"SLA policy {policy_id} was not found in this business.")
    session.delete(policy)
    session.flush()
    events.publish(
        session, "sla_policy.deleted", business_id=actor.business_id, sla_policy_id=policy_id
    )
