"""Stripe: a hosted Checkout Session per payment, confirmed by signed webhooks.

Uses the official `stripe` SDK with a per-request `StripeClient` pointed at `cfg.base_url`
(https://api.stripe.com, or a local fake in tests). Webhooks are verified with the SDK's
`WebhookSignature` (HMAC-SHA256 over `{t}.{body}`, 300 s tolerance) on the raw body.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

import stripe

from backend.payments import registry
from backend.payments.base import (
    BadPayload,
    ConnectionInfo,
    InvalidSignature,
    PaymentEvent,
    PaymentRequest,
    PaymentStatus,
    ProviderConfig,
    ProviderError,
    Redirect,
)

TOLERANCE_SECONDS = 300
# Checkout Session events we act on, and what they mean for the payment.
SESSION_EVENTS = {
    "checkout.session.completed": None,  # paid, or pending for delayed methods (payment_status)
    "checkout.session.async_payment_succeeded": "succeeded",
    "checkout.session.async_payment_failed": "failed",
    "checkout.session.expired": "cancelled",
}
INTENT_EVENTS = {
    "payment_intent.succeeded": "succeeded",
    "payment_intent.payment_failed": "failed",
    "payment_intent.canceled": "cancelled",
}


def _client(cfg: ProviderConfig) -> stripe.StripeClient:
    return stripe.StripeClient(
        str(cfg.credentials.get("secret_key") or ""),
        base_addresses={"api": cfg.base_url},
        max_network_retries=2,
    )


def _error(exc: stripe.StripeError) -> ProviderError:
    message = exc.user_message or str(exc) or type(exc).__name__
    if isinstance(exc, stripe.AuthenticationError):
        message = f"{message} (check the secret key: it starts with sk_test_ or sk_live_)"
    return ProviderError(f"Stripe answered: {message}")


def _session_status(obj: Mapping[str, Any], event_status: str | None) -> str:
    if event_status:
        return event_status
    if obj.get("payment_status") in ("paid", "no_payment_required"):
        return "succeeded"
    if obj.get("status") == "expired":
        return "cancelled"
    return "pending"


def _session_result(obj: Mapping[str, Any], status: str) -> PaymentStatus:
    currency = obj.get("currency")
    return PaymentStatus(
        status=status,
        provider_reference=str(obj.get("id") or ""),
        amount=obj.get("amount_total"),
        currency=currency.upper() if isinstance(currency, str) else None,
        reference=obj.get("client_reference_id") or (obj.get("metadata") or {}).get("reference"),
        raw=dict(obj),
    )


def _intent_result(obj: Mapping[str, Any], status: str) -> PaymentStatus:
    currency = obj.get("currency")
    error = obj.get("last_payment_error") or {}
    return PaymentStatus(
        status=status,
        provider_reference=str(obj.get("id") or ""),
        amount=obj.get("amount_received") if status == "succeeded" else obj.get("amount"),
        currency=currency.upper() if isinstance(currency, str) else None,
        reason=error.get("message") if isinstance(error, Mapping) else None,
        reference=(obj.get("metadata") or {}).get("reference"),
        raw=dict(obj),
    )


class StripeProvider:
    """Stripe Checkout (cards, wallets and local methods Stripe offers the account)."""

    kind: ClassVar[str] = "stripe"
    label: ClassVar[str] = "Stripe"
    currencies: ClassVar[frozenset[str]] = frozenset()
    push: ClassVar[bool] = False
    needs_email: ClassVar[bool] = False
    default_base_url: ClassVar[str] = "https://api.stripe.com"
    credential_fields: ClassVar[tuple[str, ...]] = ("secret_key", "webhook_secret")

    def start(self, req: PaymentRequest, cfg: ProviderConfig) -> Redirect:
        """Create a Checkout Session for the order's total; the customer goes to its URL."""
        metadata = {"reference": req.reference, "order_number": str(req.order_number)}
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [
                {
                    "price_data": {
                        "currency": req.currency.lower(),
                        "unit_amount": req.amount,
                        "product_data": {"name": req.description},
                    },
                    "quantity": 1,
                }
            ],
            "client_reference_id": req.reference,
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata},
            "success_url": req.return_url,
            "cancel_url": req.cancel_url,
        }
        if req.payer_email:
            params["customer_email"] = req.payer_email
        try:
            session = (
                _client(cfg)
                .v1.checkout.sessions.create(params, {"idempotency_key": req.reference})
                .to_dict()
            )
        except stripe.StripeError as exc:
            raise _error(exc) from exc
        if not session.get("url"):
            raise ProviderError("Stripe answered without a checkout URL")
        return Redirect(url=session["url"], provider_reference=session["id"], raw=session)

    def verify_webhook(
        self, headers: Mapping[str, str], body: bytes, cfg: ProviderConfig
    ) -> PaymentEvent | None:
        """Check `Stripe-Signature`; then Checkout Session and PaymentIntent events."""
        secret = str(cfg.credentials.get("webhook_secret") or "")
        if not headers.get("stripe-signature"):
            raise InvalidSignature("the Stripe-Signature header is missing")
        try:
            stripe.WebhookSignature.verify_header(
                body, headers.get("stripe-signature"), secret, TOLERANCE_SECONDS
            )
        except stripe.SignatureVerificationError as exc:
            raise InvalidSignature(str(exc)) from None
        except UnicodeDecodeError:
            raise InvalidSignature(
                "the body is not UTF-8, so it was not signed by Stripe"
            ) from None
        try:
            event = json.loads(body)
            event_type, obj = event["type"], event["data"]["object"]
            event_id = str(event["id"])
        except (ValueError, KeyError, TypeError) as exc:
            raise BadPayload(f"not a Stripe event ({type(exc).__name__}: {exc})") from None
        if not isinstance(obj, Mapping):
            raise BadPayload("the event's data.object is not an object")
        if event_type in SESSION_EVENTS:
            status = _session_result(obj, _session_status(obj, SESSION_EVENTS[event_type]))
        elif event_type in INTENT_EVENTS:
            status = _intent_result(obj, INTENT_EVENTS[event_type])
        else:
            return None
        return PaymentEvent(event_id=event_id, status=status, reference=status.reference, raw=event)

    def confirm(self, provider_reference: str, cfg: ProviderConfig) -> PaymentStatus:
        """Read the Checkout Session (cs_…) or PaymentIntent (pi_…) back from Stripe."""
        client = _client(cfg)
        try:
            if provider_reference.startswith("pi_"):
                intent = client.v1.payment_intents.retrieve(provider_reference).to_dict()
                status = {
                    "succeeded": "succeeded",
                    "canceled": "cancelled",
                    "requires_payment_method": "pending",
                }.get(intent.get("status"), "pending")
                return _intent_result(intent, status)
            session = client.v1.checkout.sessions.retrieve(provider_reference).to_dict()
        except stripe.StripeError as exc:
            raise _error(exc) from exc
        return _session_result(session, _session_status(session, None))

    def connect(self, cfg: ProviderConfig) -> ConnectionInfo:
        """Read the account the secret key belongs to."""
        try:
            account = _client(cfg).v1.accounts.retrieve_current().to_dict()
        except stripe.StripeError as exc:
            return ConnectionInfo(ok=False, error=str(_error(exc)))
        dashboard = (account.get("settings") or {}).get("dashboard") or {}
        profile = account.get("business_profile") or {}
        name = dashboard.get("display_name") or profile.get("name") or account.get("email")
        return ConnectionInfo(
            ok=True,
            display_name=name or account.get("id", "Stripe account"),
            details={"account_id": account.get("id")},
        )


registry.register(StripeProvider())
