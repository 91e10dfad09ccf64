"""Paystack: initialize a transaction (hosted checkout), confirmed by Verify Transaction.

Webhooks carry `x-paystack-signature`, the hex HMAC-SHA512 of the raw body keyed with the
secret key. Even a signed `charge.success` is only a hint: BizBot asks
`GET /transaction/verify/{reference}` and trusts that answer (`needs_confirmation`).
Amounts are in the currency's subunit (kobo, pesewas, cents), as BizBot keeps them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

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

TIMEOUT = httpx.Timeout(20.0, connect=10.0)
# Paystack's transaction statuses, as BizBot's payment statuses.
STATUSES = {
    "success": "succeeded",
    "failed": "failed",
    "abandoned": "pending",
    "ongoing": "pending",
    "pending": "pending",
    "processing": "pending",
    "queued": "pending",
    "reversed": "refunded",
}


def _call(cfg: ProviderConfig, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    secret = str(cfg.credentials.get("secret_key") or "")
    try:
        with httpx.Client(base_url=cfg.base_url, timeout=TIMEOUT) as client:
            response = client.request(
                method, path, headers={"Authorization": f"Bearer {secret}"}, **kwargs
            )
    except httpx.HTTPError as exc:
        raise ProviderError(f"Paystack could not be reached at {cfg.base_url} ({exc})") from exc
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code >= 400 or not body.get("status"):
        message = body.get("message") or f"HTTP {response.status_code}"
        if response.status_code == 401:
            message += " (check the secret key: it starts with sk_test_ or sk_live_)"
        raise ProviderError(f"Paystack answered: {message}")
    return body


def _result(data: Mapping[str, Any]) -> PaymentStatus:
    currency = data.get("currency")
    amount = str(data.get("amount"))
    return PaymentStatus(
        status=STATUSES.get(str(data.get("status")), "pending"),
        provider_reference=str(data.get("reference") or ""),
        amount=int(amount) if amount.isdigit() else None,
        currency=currency.upper() if isinstance(currency, str) else None,
        reason=data.get("gateway_response"),
        reference=str(data.get("reference") or "") or None,
        raw=dict(data),
    )


class PaystackProvider:
    """Paystack (Nigeria, Ghana, Kenya, South Africa, Côte d'Ivoire, Egypt)."""

    kind: ClassVar[str] = "paystack"
    label: ClassVar[str] = "Paystack"
    currencies: ClassVar[frozenset[str]] = frozenset(
        {"NGN", "GHS", "KES", "ZAR", "USD", "XOF", "EGP"}
    )
    push: ClassVar[bool] = False
    needs_email: ClassVar[bool] = True  # Paystack requires the customer's email
    default_base_url: ClassVar[str] = "https://api.paystack.co"
    credential_fields: ClassVar[tuple[str, ...]] = ("secret_key",)

    def start(self, req: PaymentRequest, cfg: ProviderConfig) -> Redirect:
        """Initialize a transaction with our reference; the customer goes to its checkout."""
        if not req.payer_email:
            raise ProviderError("Paystack needs the customer's email address")
        body = _call(
            cfg,
            "POST",
            "/transaction/initialize",
            json={
                "email": req.payer_email,
                "amount": str(req.amount),
                "currency": req.currency,
                "reference": req.reference,
                "callback_url": req.return_url,
                "metadata": {
                    "reference": req.reference,
                    "order_number": req.order_number,
                    "cancel_action": req.cancel_url,
                },
            },
        )
        data = body.get("data") or {}
        if not data.get("authorization_url"):
            raise ProviderError("Paystack answered without an authorization_url")
        return Redirect(
            url=data["authorization_url"],
            provider_reference=str(data.get("reference") or req.reference),
            raw=data,
        )

    def verify_webhook(
        self, headers: Mapping[str, str], body: bytes, cfg: ProviderConfig
    ) -> PaymentEvent | None:
        """Check `x-paystack-signature`; `charge.success` then needs Verify Transaction."""
        secret = str(cfg.credentials.get("secret_key") or "").encode()
        given = headers.get("x-paystack-signature") or ""
        expected = hmac.new(secret, body, hashlib.sha512).hexdigest()
        if not secret or not hmac.compare_digest(expected, given.strip().lower()):
            raise InvalidSignature("x-paystack-signature does not match the body")
        try:
            event = json.loads(body)
            name, data = event["event"], event["data"]
        except (ValueError, KeyError, TypeError) as exc:
            raise BadPayload(f"not a Paystack event ({type(exc).__name__}: {exc})") from None
        if name != "charge.success":
            return None
        if not isinstance(data, Mapping) or not data.get("reference"):
            raise BadPayload("charge.success without data.reference")
        status = _result(data)
        return PaymentEvent(
            event_id=f"charge.success:{data.get('id') or data['reference']}",
            status=status,
            reference=status.reference,
            needs_confirmation=True,
            raw=event,
        )

    def confirm(self, provider_reference: str, cfg: ProviderConfig) -> PaymentStatus:
        """Verify Transaction: what Paystack says it took for this reference."""
        body = _call(cfg, "GET", f"/transaction/verify/{quote(provider_reference, safe='')}")
        return _result(body.get("data") or {})

    def connect(self, cfg: ProviderConfig) -> ConnectionInfo:
        """List the account's balances (harmless, needs a valid secret key)."""
        try:
            body = _call(cfg, "GET", "/balance")
        except ProviderError as exc:
            return ConnectionInfo(ok=False, error=str(exc))
        balances = body.get("data") or []
        currencies = sorted(
            {b.get("currency") for b in balances if isinstance(b, Mapping)} - {None}
        )
        mode = (
            "test" if str(cfg.credentials.get("secret_key", "")).startswith("sk_test") else "live"
        )
        return ConnectionInfo(
            ok=True,
            display_name=f"Paystack ({mode})",
            details={"currencies": currencies},
        )


registry.register(PaystackProvider())
