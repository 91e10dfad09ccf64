"""Plain data of outgoing webhooks: the event types, errors, and the views the page shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from backend.models.notifications import NotificationKind

# Event types an endpoint can choose, and what each means.
EVENT_TYPES: dict[str, str] = {
    "message.created": "A message was received from a customer or sent to one",
    "conversation.handoff": "The AI or a customer asked for a person",
    "order.paid": "An order was paid",
    "lead.created": "A new lead was captured",
}
# BizBot's internal event names → the public type receivers see.
DOMAIN_EVENTS: dict[str, str] = {
    "message.created": "message.created",
    "handoff.requested": "conversation.handoff",
    "order.paid": "order.paid",
    "lead.created": "lead.created",
}
TEST_EVENT = "webhook.test"

# The owners' notification when an endpoint is switched off after failing again and again.
WEBHOOK_DISABLED = NotificationKind.WEBHOOK_DISABLED.value


class WebhookError(ValueError):
    """Bad input for outgoing webhooks; the message names the field and the fix."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class UnsafeDestination(WebhookError):
    """The endpoint's address is private, loopback or link-local and settings forbid it."""


class EndpointNotFound(LookupError):
    """No such endpoint in this business."""


class DeliveryNotFound(LookupError):
    """No such delivery in this business (or a job names one that is gone)."""


@dataclass(frozen=True)
class EndpointView:
    """One endpoint as the Webhooks page lists it (never the secret)."""

    id: int
    url: str
    description: str | None
    events: list[str]
    secret_hint: str
    is_enabled: bool
    disabled_reason: str | None
    consecutive_failures: int
    created_at: datetime
    last_success_at: datetime | None
    last_failure_at: datetime | None


@dataclass(frozen=True)
class CreatedEndpoint:
    """A new endpoint (or a rotated secret) with its signing secret, shown this once."""

    endpoint: EndpointView
    secret: str


@dataclass(frozen=True)
class AttemptView:
    """One POST of a delivery."""

    number: int
    created_at: datetime
    status_code: int | None
    response_body: str | None
    error: str | None
    duration_ms: int
    succeeded: bool


@dataclass(frozen=True)
class DeliveryView:
    """One event sent (or being sent) to one endpoint, with its attempts, newest first."""

    id: int
    endpoint_id: int
    webhook_id: str
    event_type: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    payload: dict[str, Any]
    attempt_log: list[AttemptView] = field(default_factory=list)


@dataclass(frozen=True)
class AttemptResult:
    """What one POST to a receiver came to."""

    status_code: int | None
    response_body: str | None
    error: str | None
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        """A 2xx answer."""
        return self.status_code is not None and 200 <= self.status_code < 300
