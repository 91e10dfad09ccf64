"""Plain data the leads domain hands out (never ORM rows)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backend.auth.permissions import Permission, PermissionDenied

__all__ = [
    "Board",
    "BoardColumn",
    "LeadError",
    "LeadFilters",
    "LeadPage",
    "LeadView",
    "MemberOption",
    "NotAllowedToDelete",
]


class LeadError(ValueError):
    """Bad input for a lead; `field` names the form field, the message the fix."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotAllowedToDelete(PermissionDenied):
    """Only owners and admins delete leads (agents move them to "lost" instead)."""

    def __init__(self, role: str) -> None:
        super().__init__(role, Permission.LEADS_MANAGE)
        self.args = (
            f"Your role ({role}) cannot delete leads; move the lead to Lost, or ask an owner "
            "or admin to delete it.",
        )

    def __str__(self) -> str:
        return self.args[0]


@dataclass(frozen=True)
class LeadFilters:
    """What the list view narrows the leads to (every field optional)."""

    stage: str | None = None
    owner_user_id: int | None = None  # a member's id; 0 means "nobody"
    source: str | None = None
    search: str = ""
    follow_up_due: bool = False


@dataclass(frozen=True)
class LeadView:
    """A lead as the board, the list and the detail dialog show it."""

    id: int
    name: str | None
    email: str | None
    phone: str | None
    interest: str | None
    source: str
    stage: str
    position: int
    value_cents: int | None
    currency: str
    value_display: str  # "" when no value
    owner_user_id: int | None
    owner_name: str | None
    notes: str | None
    next_follow_up_at: datetime | None
    follow_up_local: str  # "2026-12-01T09:30" in the business's time zone; "" when none
    follow_up_due: bool
    contact_id: int | None
    conversation_id: int | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class LeadPage:
    """One page of the list view and how many leads match in all."""

    leads: list[LeadView]
    total: int


@dataclass(frozen=True)
class BoardColumn:
    """One stage of the board: its leads in order, how many and their total value."""

    stage: str
    label: str
    leads: list[LeadView]
    count: int
    value_cents: int
    value_display: str


@dataclass(frozen=True)
class Board:
    """The five columns of the pipeline board."""

    columns: list[BoardColumn]
    currency: str


@dataclass(frozen=True)
class MemberOption:
    """A member of the business a lead can be given to."""

    user_id: int
    name: str
    email: str
    role: str
