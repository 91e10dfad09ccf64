"""Billing: which plan a business is on, what it uses, its limits, and Stripe Checkout/portal.

Billing is off unless BILLING_STRIPE_SECRET_KEY is set: then every business is on the
"Unlimited (self-hosted)" plan and `check_limit` never refuses anything. Webhooks from Stripe
are handled in `backend.billing.webhooks` (kept apart so the pipeline may call `check_limit`
without depending on notifications).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import stripe
from sqlmodel import Session

from backend.auth.permissions import Actor, Permission
from backend.billing import repository as repo
from backend.billing.plans import (
    BY_KEY,
    FREE,
    LIMIT_LABELS,
    LIMITS,
    PLANS,
    UNLIMITED,
    Plan,
    billing_enabled,
    limit_text,
    next_plan,
    price_id,
)
from backend.billing.schemas import (
    BillingError,
    BillingOverview,
    PlanLimitReached,
    PlanOption,
    Usage,
    UsageLine,
)
from backend.core.config import settings
from backend.models.base import utcnow
from backend.models.billing import SubscriptionStatus

__all__ = [
    "BillingError",
    "PlanLimitReached",
    "check_limit",
    "current_plan",
    "overview",
    "portal_url",
    "start_checkout",
    "usage",
]

# Statuses in which the paid plan applies (past_due: Stripe is still retrying the card).
PAID_STATUSES = frozenset({"active", "trialing", "past_due"})


def _month_start(now: datetime | None = None) -> datetime:
    now = (now or utcnow()).astimezone(UTC)
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def current_plan(session: Session, *, business_id: int) -> Plan:
    """The plan whose limits apply to the business now (UNLIMITED when billing is off)."""
    if not billing_enabled():
        return UNLIMITED
    sub = repo.get_subscription(session, business_id=business_id)
    if sub is None or sub.status not in PAID_STATUSES:
        return FREE
    return BY_KEY.get(sub.plan, FREE)


def usage(session: Session, *, business_id: int, now: datetime | None = None) -> Usage:
    """Conversations started this calendar month (UTC), members and channels, counted in SQL."""
    conversations, members, channels = repo.usage_counts(
        session, business_id=business_id, month_start=_month_start(now)
    )
    return Usage(conversations=conversations, members=members, channels=channels)


def check_limit(session: Session, *, business_id: int, what: str) -> None:
    """Raise PlanLimitReached if the business may not add one more `what` on its plan.

    `what` is "conversations", "members" or "channels". Call it before creating the thing.
    """
    if what not in LIMITS:
        msg = f"Unknown plan limit {what!r}; use one of {', '.join(LIMITS)}."
        raise ValueError(msg)
    plan = current_plan(session, business_id=business_id)
    limit = plan.limit(what)
    if limit is None:
        return
    used = usage(session, business_id=business_id).of(what)
    if used >= limit:
        raise PlanLimitReached(
            what=what, plan=plan, limit=limit, used=used, upgrade=next_plan(plan)
        )


def grant_plan(session: Session, *, business_id: int, plan: str) -> None:
    """Put a business on a plan without Stripe (the demo business, a partner's account)."""
    if plan not in BY_KEY:
        msg = f"Unknown plan {plan!r}; use one of {', '.join(BY_KEY)}."
        raise ValueError(msg)
    sub = repo.get_or_create_subscription(session, business_id=business_id)
    if sub.stripe_subscription_id is None:  # a paying business keeps what it pays for
        sub.plan, sub.status = plan, SubscriptionStatus.ACTIVE
        session.add(sub)
        session.flush()


def overview(session: Session, *, actor: Actor) -> BillingOverview:
    """Everything the Billing page shows: plan, status, renewal, usage against limits, plans."""
    actor.require(Permission.BILLING_MANAGE)
    plan = current_plan(session, business_id=actor.business_id)
    used = usage(session, business_id=actor.business_id)
    lines = []
    for what in LIMITS:
        limit, count = plan.limit(what), used.of(what)
        percent = 0 if not limit else min(100, round(100 * count / limit))
        lines.append(UsageLine(what=what, label=LIMIT_LABELS[what], used=count, limit=limit,
                               percent=percent))  # fmt: skip
    if not billing_enabled():
        return BillingOverview(enabled=False, plan_key=plan.key, plan_name=plan.name,
                               status="active", usage=lines)  # fmt: skip
    sub = repo.get_subscription(session, business_id=actor.business_id)
    status = sub.status if sub is not None else "none"
    subscribed = sub is not None and sub.status in PAID_STATUSES and plan.paid
    options = []
    for option in PLANS:
        current = option.key == plan.key
        # Back to Free means cancelling, which the Stripe portal does.
        action = "" if current or not option.paid else "Switch" if subscribed else "Upgrade"
        options.append(
            PlanOption(
                key=option.key, name=option.name, price=option.price, current=current,
                limits=[_limit_line(option, what) for what in LIMITS], action=action,
            )
        )  # fmt: skip
    return BillingOverview(
        enabled=True,
        plan_key=plan.key,
        plan_name=plan.name,
        status=status,
        usage=lines,
        plans=options,
        current_period_end=sub.current_period_end if subscribed else None,
        cancel_at_period_end=bool(subscribed and sub.cancel_at_period_end),
        has_customer=bool(sub is not None and sub.stripe_customer_id),
    )


def _limit_line(plan: Plan, what: str) -> str:
    return limit_text(plan.limit(what), what)


def _client() -> stripe.StripeClient:
    return stripe.StripeClient(
        str(settings.billing_stripe_secret_key or ""),
        base_addresses={"api": settings.billing_stripe_api_base},
        max_network_retries=2,
    )


def _stripe_error(exc: stripe.StripeError) -> BillingError:
    message = exc.user_message or str(exc) or type(exc).__name__
    if isinstance(exc, stripe.AuthenticationError):
        message += " (check BILLING_STRIPE_SECRET_KEY: it starts with sk_test_ or sk_live_)"
    return BillingError(f"Stripe answered: {message}")


def _require_enabled() -> None:
    if not billing_enabled():
        raise BillingError(
            "Billing is off on this installation, so every business is unlimited; to charge "
            "for BizBot set BILLING_STRIPE_SECRET_KEY (see docs/billing.md)."
        )


def _billing_url(query: str = "") -> str:
    return f"{settings.public_url}/billing" + (f"?{query}" if query else "")


def start_checkout(session: Session, *, actor: Actor, plan: str) -> str:
    """A Stripe Checkout URL (subscription mode) for `plan`; owners only.

    A business already paying is sent to the Stripe customer portal to switch plans instead,
    so it is never charged for two subscriptions at once.
    """
    actor.require(Permission.BILLING_MANAGE)
    _require_enabled()
    chosen = BY_KEY.get(plan)
    paid = [p.key for p in PLANS if p.paid]
    if chosen is None or not chosen.paid:
        msg = f"{plan!r} is not a plan you can buy; choose one of {', '.join(paid)}."
        raise BillingError(msg)
    price = price_id(chosen)
    if not price:
        msg = (
            f"The {chosen.name} plan has no Stripe price on this installation; set "
            f"BILLING_STRIPE_PRICE_{chosen.key.upper()} to its recurring price id (price_…)."
        )
        raise BillingError(msg)
    sub = repo.get_or_create_subscription(session, business_id=actor.business_id)
    if sub.status in PAID_STATUSES and sub.stripe_subscription_id and sub.stripe_customer_id:
        if sub.plan == chosen.key:
            raise BillingError(f"This business is already on the {chosen.name} plan.")
        return _portal(sub.stripe_customer_id, flow_subscription=sub.stripe_subscription_id)
    business = str(actor.business_id)
    params: dict[str, Any] = {
        "mode": "subscription",
        "line_items": [{"price": price, "quantity": 1}],
        "client_reference_id": business,
        "metadata": {"business_id": business, "plan": chosen.key},
        "subscription_data": {"metadata": {"business_id": business, "plan": chosen.key}},
        "success_url": _billing_url("checkout=success"),
        "cancel_url": _billing_url("checkout=cancelled"),
    }
    if sub.stripe_customer_id:
        params["customer"] = sub.stripe_customer_id
    else:
        email = repo.owner_email(session, business_id=actor.business_id, user_id=actor.user_id)
        if email:
            params["customer_email"] = email
    try:
        checkout = _client().v1.checkout.sessions.create(params).to_dict()
    except stripe.StripeError as exc:
        raise _stripe_error(exc) from exc
    if not checkout.get("url"):
        raise BillingError("Stripe answered without a checkout URL; try again.")
    return str(checkout["url"])


def _portal(customer: str, *, flow_subscription: str | None = None) -> str:
    params: dict[str, Any] = {"customer": customer, "return_url": _billing_url()}
    if flow_subscription:
        params["flow_data"] = {
            "type": "subscription_update",
            "subscription_update": {"subscription": flow_subscription},
        }
    try:
        portal = _client().v1.billing_portal.sessions.create(params).to_dict()
    except stripe.StripeError as exc:
        raise _stripe_error(exc) from exc
    if not portal.get("url"):
        raise BillingError("Stripe answered without a portal URL; try again.")
    return str(portal["url"])


def portal_url(session: Session, *, actor: Actor) -> str:
    """A Stripe customer portal URL (invoices, card, cancel); owners only."""
    actor.require(Permission.BILLING_MANAGE)
    _require_enabled()
    sub = repo.get_subscription(session, business_id=actor.business_id)
    if sub is None or not sub.stripe_customer_id:
        raise BillingError(
            "This business has no Stripe customer yet: choose a paid plan first, then manage "
            "billing here."
        )
    return _portal(sub.stripe_customer_id)
