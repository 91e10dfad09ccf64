"""What billing returns and raises: plain data for the page, errors that name the fix."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from backend.billing.plans import Plan, limit_text


class BillingError(ValueError):
    """Billing cannot do what was asked; the message says why and what to do."""


class InvalidSignature(BillingError):
    """A billing webhook's Stripe-Signature is missing or wrong (HTTP 400, nothing stored)."""


class BadPayload(BillingError):
    """An authentic billing webhook body BizBot cannot read (HTTP 400, nothing stored)."""


class PlanLimitReached(ValueError):
    """The business's plan does not allow one more of something; the message says how to upgrade."""

    def __init__(self, *, what: str, plan: Plan, limit: int, used: int, upgrade: Plan | None):
        how = (
            f"upgrade to {upgrade.name} ({limit_text(upgrade.limit(what), what).lower()}) on "
            "the Billing page (/billing)"
            if upgrade is not None
            else "this is the largest plan; remove some first or contact the installation's "
            "administrator"
        )
        when = " this month" if what == "conversations" else ""
        super().__init__(
            f"The {plan.name} plan allows {limit_text(limit, what)} and this business has "
            f"{used:,}{when}; {how}."
        )
        self.what, self.plan, self.limit, self.used, self.upgrade = what, plan, limit, used, upgrade


@dataclass(frozen=True)
class Usage:
    """What a business uses now: conversations started this calendar month (UTC), members
    (with pending invitations) and channels besides the website widget."""

    conversations: int
    members: int
    channels: int

    def of(self, what: str) -> int:
        """The usage of `what` (one of LIMITS)."""
        return getattr(self, what)


@dataclass(frozen=True)
class UsageLine:
    """One limit on the Billing page: what, how much is used, the limit, the percentage."""

    what: str
    label: str
    used: int
    limit: int | None
    percent: int  # 0-100 of the limit (0 when unlimited)


@dataclass(frozen=True)
class PlanOption:
    """A plan card: the plan, whether it is the current one, and its action label."""

    key: str
    name: str
    price: str
    limits: list[str]
    current: bool
    action: str  # "Upgrade", "Switch", "" (current or not purchasable)


@dataclass(frozen=True)
class BillingOverview:
    """Everything the Billing page shows."""

    enabled: bool
    plan_key: str
    plan_name: str
    status: str
    usage: list[UsageLine]
    plans: list[PlanOption] = field(default_factory=list)
    current_period_end: datetime | None = None
    cancel_at_period_end: bool = False
    has_customer: bool = False
