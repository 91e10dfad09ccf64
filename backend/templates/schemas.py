"""Plain data the templates domain hands out (never ORM rows), and its errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "BUTTON_TYPES",
    "CATEGORIES",
    "GraphFailed",
    "SegmentPreview",
    "TemplateError",
    "TemplateInput",
    "TemplateView",
]

CATEGORIES = ("marketing", "utility", "authentication")
BUTTON_TYPES = ("quick_reply", "url", "phone_number")


class TemplateError(ValueError):
    """Bad input for a template; `errors` maps each form field to what to fix."""

    def __init__(self, message: str, *, field: str | None = None, errors=None) -> None:
        self.errors: dict[str, str] = dict(errors or ({field: message} if field else {}))
        if not message and self.errors:
            message = "; ".join(f"{k}: {v}" for k, v in self.errors.items())
        super().__init__(message)
        self.message = message
        self.field = field or (next(iter(self.errors)) if self.errors else None)


class GraphFailed(RuntimeError):
    """The Graph API refused or could not be reached; the message is Meta's own reason."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass
class TemplateInput:
    """What the owner fills in on the template form.

    Variables are `{{1}}`, `{{2}}`, … in the body (and at most `{{1}}` in a text header); each
    needs an example, listed in order in `body_examples` / `header_examples`. A button is
    `{"type": "quick_reply" | "url" | "phone_number", "text", "url"?, "phone_number"?}`.
    """

    name: str
    language: str
    category: str
    body: str
    header_text: str = ""
    footer: str = ""
    buttons: list[dict[str, Any]] = field(default_factory=list)
    body_examples: list[str] = field(default_factory=list)
    header_examples: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TemplateView:
    """A template as the dashboard shows it."""

    id: int
    name: str
    language: str
    category: str
    status: str
    rejection_reason: str | None
    header_text: str
    body: str
    footer: str
    buttons: list[dict[str, Any]]
    body_examples: list[str]
    header_examples: list[str]
    variable_count: int
    external_id: str | None
    last_synced_at: datetime | None
    preview: str


@dataclass(frozen=True)
class RecipientView:
    """One contact of a broadcast and where their message is."""

    contact_id: int
    contact_name: str
    status: str  # queued, sent, delivered, read, failed, opted_out
    error: str | None


@dataclass(frozen=True)
class BroadcastView:
    """A broadcast with its counts per status, which cover every recipient, and only its first
    recipients (RECIPIENTS_SHOWN, more on request up to RECIPIENTS_MAX)."""

    id: int
    name: str
    template_id: int
    status: str
    segment: dict[str, Any]
    counts: dict[str, int]
    recipients: list[RecipientView]


@dataclass(frozen=True)
class SegmentPreview:
    """How many contacts a broadcast would reach, before it is sent."""

    total: int  # every contact of the segment
    will_send: int  # those who get the message
    opted_out: int  # those listed as opted out and skipped
