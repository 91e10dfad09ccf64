"""What the payments service hands to the dashboard, the CLI and the /pay page: plain data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class PaymentError(ValueError):
    """A payments request that cannot be done; the message names the problem and the fix.

    `status` is the HTTP status a route answers with, `code` a stable machine-readable name.
    """

    def __init__(self, message: str, *, status: int = 400, code: str = "bad_request") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class ProviderView:
    """A business's provider account as the dashboard shows it: never a secret, only which keys
    are set."""

    id: int
    kind: str
    label: str
    is_enabled: bool
    is_test_mode: bool
    currencies: list[str]
    config: dict[str, Any]
    credentials_set: list[str]  # names of the credential keys that have a value
    missing: list[str]  # required credential keys without a value
    push: bool
    webhook_url: str


@dataclass(frozen=True)
class PaymentLinkView:
    """A payment link of an order, with the URL to send the customer."""

    id: int
    order_id: int
    token: str
    url: str
    status: str
    expires_at: datetime | None


@dataclass(frozen=True)
class LinkItem:
    """One line of the order on the /pay page."""

    name: str
    quantity: int
    unit_price: str
    line_total: str


@dataclass(frozen=True)
class ProviderChoice:
    """A button on the /pay page."""

    kind: str
    label: str
    push: bool  # the customer enters a phone number (mobile money)
    needs_email: bool  # the customer enters an email address


@dataclass(frozen=True)
class LinkPage:
    """Everything the /pay/{token} page shows.

    `state` is what the customer sees: "open" (pay now), "pending" (a payment is waiting for
    the provider's confirmation), "paid", "expired", "cancelled" or "review" (the business is
    checking a payment that did not match the order).
    """

    token: str
    business_name: str
    order_number: int
    order_status: str
    state: str
    currency: str
    total_cents: int
    total: str
    items: list[LinkItem]
    providers: list[ProviderChoice] = field(default_factory=list)
    expires_at: datetime | None = None
