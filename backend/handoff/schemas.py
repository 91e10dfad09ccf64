"""Plain data the handoff domain hands out (never ORM rows)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


class HandoffError(ValueError):
    """Bad input or a move the conversation's state does not allow; `field` names the field."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class NotFound(LookupError):
    """No such conversation (or policy, member) in the actor's business.

    Another business's ids are not found either: they never leak that they exist.
    """


class ConversationNotFound(NotFound):
    """A job names a conversation that does not exist."""


@dataclass(frozen=True)
class SLAView:
    """The nearest deadline of a conversation in people's hands."""

    policy_id: int
    policy_name: str
    metric: str  # first_response | next_response | resolution
    due_at: datetime | None  # None: the business hours never open again
    # Wall-clock seconds until due_at, negative once breached.
    seconds_left: int | None
    state: str  # ok | warning (about to breach) | breached
    # True while the business is closed and the policy counts business hours only.
    paused: bool


@dataclass(frozen=True)
class HandoffInfo:
    """A conversation's open handoff: why, since when, and its SLA (if a policy applies)."""

    conversation_id: int
    handoff_id: int
    reason: str
    since: datetime
    sla: SLAView | None


@dataclass(frozen=True)
class ConversationState:
    """Who handles a conversation after an action (for the page to update in place)."""

    conversation_id: int
    status: str
    assignee_user_id: int | None
    assignee_name: str | None
    priority: str


@dataclass(frozen=True)
class AgentView:
    """A member who can answer customers, with presence and load (assignment, the board)."""

    user_id: int
    name: str
    email: str
    role: str
    availability: str  # online | away
    open_conversations: int  # assigned, waiting or human
    capacity: int  # most open conversations round-robin gives them
    has_capacity: bool
    last_assigned_at: datetime | None


@dataclass(frozen=True)
class SLAPolicyView:
    """An SLA policy as the settings page edits it."""

    id: int
    name: str
    first_response_minutes: int | None
    next_response_minutes: int | None
    resolution_minutes: int | None
    business_hours_only: bool
    warn_before_minutes: int
    escalate_notify_owner: bool
    escalate_reassign: bool
    escalate_raise_priority: bool
    applies_to_channels: list[str] = field(default_factory=list)  # empty: every channel
    is_active: bool = True


@dataclass(frozen=True)
class SLARun:
    """What one SLA check of a business did."""

    routed: int = 0
    assigned: int = 0
    warned: int = 0
    breached: int = 0
    skipped: bool = False  # another worker was checking this business
