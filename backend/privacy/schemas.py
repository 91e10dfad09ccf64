"""Plain data of the privacy domain: errors and the views the Privacy page shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

ERASED = "[erased]"
MAX_RETENTION_DAYS = 3650


class PrivacyError(ValueError):
    """Bad input for a privacy action; the message names the field and the fix."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ContactNotFound(LookupError):
    """No such contact in this business."""


@dataclass(frozen=True)
class ContactMatch:
    """A contact as the Privacy page's search lists it."""

    id: int
    name: str | None
    email: str | None
    phone: str | None
    conversations: int
    created_at: datetime
    erased: bool


@dataclass(frozen=True)
class ErasureSummary:
    """What erasing a contact changed (counts only: no personal data)."""

    contact_id: int
    messages_redacted: int
    files_deleted: int
    identities_removed: int
    leads_deleted: int
    orders_anonymised: int
    audit_entries_redacted: int


@dataclass(frozen=True)
class RetentionView:
    """The business's retention setting and the last purge."""

    conversation_days: int | None
    last_purge_at: datetime | None
    last_purge_count: int


@dataclass(frozen=True)
class PurgeResult:
    """One batch of the retention purge in one business."""

    conversations: int
    messages: int
    files: list[str]
