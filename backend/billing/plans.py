"""The plans, defined in code: their limits and the price shown on the Billing page.

A limit of None means unlimited. Without BILLING_STRIPE_SECRET_KEY billing is off and every
business is on UNLIMITED, so a self-hosted installation is never limited by default.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.core.config import settings

LIMITS = ("conversations", "members", "channels")
# How each limit is worded in messages and on the page.
LIMIT_LABELS = {
    "conversations": "conversations a month",
    "members": "team members",
    "channels": "channels besides the website widget",
}
_SINGULAR = {
    "conversations": "conversation a month",
    "members": "team member",
    "channels": "channel besides the website widget",
}


def limit_text(count: int | None, what: str) -> str:
    """A count of `what` in words: "100 conversations a month", "1 channel besides …"."""
    if count is None:
        return f"Unlimited {LIMIT_LABELS[what]}"
    return f"{count:,} {_SINGULAR[what] if count == 1 else LIMIT_LABELS[what]}"


@dataclass(frozen=True)
class Plan:
    """One plan: its key, its name, the price shown, and its limits (None = unlimited)."""

    key: str
    name: str
    price: str
    conversations: int | None
    members: int | None
    channels: int | None
    paid: bool = True

    def limit(self, what: str) -> int | None:
        """This plan's limit on `what` (one of LIMITS); None when unlimited."""
        return getattr(self, what)


FREE = Plan("free", "Free", "$0", conversations=100, members=2, channels=1, paid=False)
PRO = Plan("pro", "Pro", "$29 / month", conversations=2_000, members=10, channels=5)
BUSINESS = Plan("business", "Business", "$99 / month", conversations=20_000, members=50,
                channels=None)  # fmt: skip
UNLIMITED = Plan("unlimited", "Unlimited (self-hosted)", "Free", conversations=None,
                 members=None, channels=None, paid=False)  # fmt: skip

# The plans a business can choose, smallest first (UNLIMITED is never offered: it is "off").
PLANS: tuple[Plan, ...] = (FREE, PRO, BUSINESS)
BY_KEY: dict[str, Plan] = {plan.key: plan for plan in (*PLANS, UNLIMITED)}


def billing_enabled() -> bool:
    """Whether this installation charges for BizBot (BILLING_STRIPE_SECRET_KEY is set)."""
    return bool(settings.billing_stripe_secret_key)


def price_id(plan: Plan) -> str | None:
    """The Stripe Price id configured for a paid plan (BILLING_STRIPE_PRICE_<PLAN>)."""
    return {
        "pro": settings.billing_stripe_price_pro,
        "business": settings.billing_stripe_price_business,
    }.get(plan.key)


def plan_for_price(price: str | None) -> Plan | None:
    """The paid plan whose configured Stripe Price id is `price`, or None."""
    if not price:
        return None
    return next((plan for plan in PLANS if plan.paid and price_id(plan) == price), None)


def next_plan(plan: Plan) -> Plan | None:
    """The next bigger plan a business can upgrade to, or None for the biggest."""
    keys = [p.key for p in PLANS]
    if plan.key not in keys or keys.index(plan.key) == len(keys) - 1:
        return None
    return PLANS[keys.index(plan.key) + 1]
