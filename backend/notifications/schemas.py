"""Plain data the notifications domain hands out (never ORM rows)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from backend.models.notifications import NotificationKind


class NotificationError(ValueError):
    """Bad input for notifications; `field` names the form field."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class NotificationNotFound(LookupError):
    """A job names a notification that does not exist."""


class EmailFailed(RuntimeError):
    """The SMTP server refused or failed to take an email; the job is retried with backoff."""


@dataclass(frozen=True)
class KindInfo:
    """How a kind of notification is described on the preferences page, and its defaults."""

    kind: str
    label: str
    description: str
    in_app: bool
    email: bool


KINDS: dict[str, KindInfo] = {
    info.kind: info
    for info in (
        KindInfo(
            NotificationKind.NEW_HANDOFF,
            "New handoff",
            "The AI or a customer asked for a person.",
            True,
            False,
        ),
        KindInfo(
            NotificationKind.ASSIGNED_TO_ME,
            "Assigned to me",
            "A conversation was assigned to you.",
            True,
            True,
        ),
        KindInfo(
            NotificationKind.SLA_ABOUT_TO_BREACH,
            "SLA about to breach",
            "A conversation you handle is close to its response or resolution deadline.",
            True,
            False,
        ),
        KindInfo(
            NotificationKind.SLA_BREACHED,
            "SLA breached",
            "A response or resolution deadline was missed.",
            True,
            True,
        ),
        KindInfo(NotificationKind.NEW_LEAD, "New lead", "A new lead was captured.", True, False),
        KindInfo(
            NotificationKind.PAYMENT_RECEIVED,
            "Payment received",
            "A customer paid an order or a payment link.",
            True,
            False,
        ),
        KindInfo(
            NotificationKind.LEAD_FOLLOW_UP,
            "Lead follow-up due",
            "A lead you own is due for a follow-up.",
            True,
            True,
        ),
        KindInfo(
            NotificationKind.WEBHOOK_DISABLED,
            "Webhook endpoint disabled",
            "An outgoing webhook endpoint kept failing and was switched off.",
            True,
            True,
        ),
        KindInfo(
            NotificationKind.TEMPLATE_STATUS,
            "Template status",
            "Meta approved, rejected, paused or recategorised a WhatsApp template.",
            True,
            True,
        ),
        KindInfo(
            NotificationKind.SETUP_COMPLETE,
            "Setup complete",
            "Every step of the getting-started checklist is done.",
            True,
            False,
        ),
        KindInfo(
            NotificationKind.BILLING,
            "Billing",
            "A payment for BizBot failed, or the plan's conversation limit was reached.",
            True,
            True,
        ),
    )
}


@dataclass(frozen=True)
class NotificationView:
    """One notification as the bell's list shows it."""

    id: int
    kind: str
    title: str
    body: str | None
    link: str | None
    data: dict[str, Any]
    created_at: datetime
    read: bool


@dataclass(frozen=True)
class NotificationPage:
    """A page of the member's notifications, newest first, and their unread count."""

    items: list[NotificationView]
    unread_count: int
    # Pass as `before_id` for the next (older) page; None when there is none.
    next_before_id: int | None


@dataclass(frozen=True)
class PreferenceView:
    """What a member receives for one kind of notification."""

    kind: str
    label: str
    description: str
    in_app: bool
    email: bool


@dataclass(frozen=True)
class PreferencesView:
    """A member's notification preferences, and whether email can be sent at all."""

    items: list[PreferenceView]
    email_address: str
    # False when SMTP_HOST is not set: the page says email needs the SMTP settings.
    email_available: bool
    email_unavailable_reason: str | None = None
    kinds: list[str] = field(default_factory=lambda: list(KINDS))


@dataclass(frozen=True)
class KindFilter:
    """One choice of the Notifications page's kind filter: a few related kinds."""

    key: str
    label: str
    kinds: tuple[str, ...]


KIND_FILTERS: dict[str, KindFilter] = {
    f.key: f
    for f in (
        KindFilter("handoff", "Handoffs", (NotificationKind.NEW_HANDOFF,)),
        KindFilter("assignment", "Assignments", (NotificationKind.ASSIGNED_TO_ME,)),
        KindFilter(
            "sla", "SLA", (NotificationKind.SLA_ABOUT_TO_BREACH, NotificationKind.SLA_BREACHED)
        ),
        KindFilter("lead", "Leads", (NotificationKind.NEW_LEAD, NotificationKind.LEAD_FOLLOW_UP)),
        KindFilter("payment", "Payments", (NotificationKind.PAYMENT_RECEIVED,)),
        KindFilter("template", "Templates", (NotificationKind.TEMPLATE_STATUS,)),
        KindFilter("billing", "Billing", (NotificationKind.BILLING,)),
        KindFilter("webhook", "Webhooks", (NotificationKind.WEBHOOK_DISABLED,)),
        KindFilter("setup", "Setup", (NotificationKind.SETUP_COMPLETE,)),
    )
}


@dataclass(frozen=True)
class KindCount:
    """How many of the member's notifications (in the chosen dates) one kind filter matches."""

    key: str
    label: str
    count: int
    unread: int
