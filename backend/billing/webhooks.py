"""Stripe billing webhooks: verified on the raw body, stored once by event id, then applied.

Handled: `checkout.session.completed` (subscription mode), `customer.subscription.created`,
`.updated`, `.deleted` and `invoice.payment_failed` (the owners are notified). Other event
types are acknowledged and ignored. The business comes from the checkout's
`client_reference_id`, the subscription's `metadata.business_id`, or its Stripe customer.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import stripe
from sqlmodel import Session

from backend.billing import repository as repo
from backend.billing.plans import BY_KEY, plan_for_price
from backend.billing.schemas import BadPayload, BillingError, InvalidSignature
from backend.core.config import settings
from backend.models import Subscription
from backend.models.notifications import NotificationKind
from backend.notifications import service as notifications

TOLERANCE_SECONDS = 300
SUBSCRIPTION_EVENTS = (
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
)
HANDLED = ("checkout.session.completed", *SUBSCRIPTION_EVENTS, "invoice.payment_failed")
# A dedicated kind once notifications has one; until then owners get it as a payment notice.
_FAILED_KIND = NotificationKind.BILLING.value


def _verify(headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
    secret = settings.billing_stripe_webhook_secret
    if not secret:
        raise BillingError(
            "Billing webhooks need BILLING_STRIPE_WEBHOOK_SECRET (the endpoint's whsec_… "
            "signing secret from the Stripe dashboard)."
        )
    signature = {k.lower(): v for k, v in headers.items()}.get("stripe-signature")
    if not signature:
        raise InvalidSignature("the Stripe-Signature header is missing")
    try:
        event = stripe.Webhook.construct_event(body, signature, secret, TOLERANCE_SECONDS)
    except stripe.SignatureVerificationError as exc:
        raise InvalidSignature(str(exc)) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadPayload(f"the body is not a Stripe event ({exc})") from None
    data = event.to_dict()
    if not isinstance(data.get("data", {}).get("object"), Mapping) or not data.get("id"):
        raise BadPayload("the event has no id or no data.object")
    return data


def _int(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) <= 12 else None


def _customer(obj: Mapping[str, Any]) -> str | None:
    customer = obj.get("customer")
    if isinstance(customer, Mapping):
        customer = customer.get("id")
    return str(customer) if customer else None


def _business_for(session: Session, event_type: str, obj: Mapping[str, Any]) -> int | None:
    named = None
    if event_type == "checkout.session.completed":
        named = _int(obj.get("client_reference_id"))
    if named is None:
        named = _int((obj.get("metadata") or {}).get("business_id"))
    if named is not None and repo.business_exists(session, business_id=named):
        return named
    customer = _customer(obj)
    if customer:
        return repo.find_business_by_stripe_customer(session, customer_id=customer)
    return None


def _period_end(obj: Mapping[str, Any]) -> datetime | None:
    # Newer API versions carry the period on each subscription item.
    end = obj.get("current_period_end")
    if end is None:
        items = (obj.get("items") or {}).get("data") or []
        ends = [item.get("current_period_end") for item in items if item.get("current_period_end")]
        end = max(ends) if ends else None
    return datetime.fromtimestamp(int(end), UTC) if end else None


def _plan_of(obj: Mapping[str, Any]) -> str | None:
    for item in (obj.get("items") or {}).get("data") or []:
        price = item.get("price") or {}
        plan = plan_for_price(price.get("id") if isinstance(price, Mapping) else str(price))
        if plan is not None:
            return plan.key
    named = (obj.get("metadata") or {}).get("plan")
    return named if named in BY_KEY and BY_KEY[named].paid else None


def _checkout_completed(sub: Subscription, obj: Mapping[str, Any]) -> None:
    if obj.get("mode") != "subscription":
        return
    subscription_id = obj.get("subscription")
    if isinstance(subscription_id, Mapping):
        subscription_id = subscription_id.get("id")
    sub.stripe_customer_id = _customer(obj) or sub.stripe_customer_id
    if subscription_id and subscription_id != sub.stripe_subscription_id:
        # A new subscription: active until its own events say otherwise.
        sub.stripe_subscription_id = str(subscription_id)
        sub.status = "active"
        sub.cancel_at_period_end = False
        plan = (obj.get("metadata") or {}).get("plan")
        if plan in BY_KEY and BY_KEY[plan].paid:
            sub.plan = plan


def _subscription_changed(sub: Subscription, event_type: str, obj: Mapping[str, Any]) -> str:
    subscription_id = str(obj.get("id") or "")
    if event_type == "customer.subscription.deleted" or obj.get("status") == "canceled":
        if sub.stripe_subscription_id not in (None, subscription_id):
            return "ignored"  # an older subscription ended; the current one stands
        sub.status, sub.plan, sub.cancel_at_period_end = "canceled", "free", False
        sub.current_period_end = None
        return "applied"
    if (
        sub.stripe_subscription_id not in (None, subscription_id)
        and sub.status in ("active", "trialing", "past_due")
        and event_type != "customer.subscription.created"
    ):
        return "ignored"  # an update to a subscription this business no longer uses
    sub.stripe_subscription_id = subscription_id or sub.stripe_subscription_id
    sub.stripe_customer_id = _customer(obj) or sub.stripe_customer_id
    sub.status = str(obj.get("status") or sub.status)[:32]
    sub.plan = _plan_of(obj) or sub.plan
    sub.current_period_end = _period_end(obj) or sub.current_period_end
    sub.cancel_at_period_end = bool(obj.get("cancel_at_period_end") or obj.get("cancel_at"))
    return "applied"


def _payment_failed(session: Session, *, business_id: int, event_id: str, obj: Mapping) -> None:
    amount, currency = obj.get("amount_due"), str(obj.get("currency") or "").upper()
    due = f" of {amount / 100:.2f} {currency}" if isinstance(amount, int) and currency else ""
    notifications.notify_roles(
        session,
        business_id=business_id,
        kind=_FAILED_KIND,
        roles=("owner",),
        title="BizBot subscription payment failed",
        body=(
            f"Stripe could not take the payment{due} for your BizBot plan. Update your card "
            "under Billing → Manage billing; Stripe retries automatically."
        ),
        link="/billing",
        data={"stripe_event_id": event_id, "invoice": obj.get("id")},
        dedup_key=f"billing:{event_id}",
    )


def handle_webhook(session: Session, *, headers: Mapping[str, str], body: bytes) -> str:
    """Verify, store once and apply a Stripe billing event.

    Returns "applied", "duplicate", "ignored" (a type BizBot does not use, or an older
    subscription) or "unknown_business". Raises InvalidSignature / BadPayload (HTTP 400).
    """
    event = _verify(headers, body)
    event_type, obj, event_id = str(event.get("type")), event["data"]["object"], str(event["id"])
    if event_type not in HANDLED:
        return "ignored"
    business_id = _business_for(session, event_type, obj)
    if business_id is None:
        return "unknown_business"
    if not repo.insert_event(session, business_id=business_id, event_id=event_id,
                             event_type=event_type, payload=event):  # fmt: skip
        return "duplicate"
    if event_type == "invoice.payment_failed":
        _payment_failed(session, business_id=business_id, event_id=event_id, obj=obj)
        return "applied"
    sub = repo.get_or_create_subscription(session, business_id=business_id)
    if event_type == "checkout.session.completed":
        _checkout_completed(sub, obj)
        outcome = "applied"
    else:
        outcome = _subscription_changed(sub, event_type, obj)
    session.add(sub)
    session.flush()
    return outcome
