"""Flutterwave: a Standard payment link (hosted checkout), confirmed by Verify Transaction.

Webhooks carry `verif-hash`, which must equal the secret hash the owner set in the Flutterwave
dashboard (and gave BizBot as `secret_hash`). A signed `charge.completed` is only a hint:
BizBot asks `GET /v3/transactions/{id}/verify` and trusts that answer. Flutterwave amounts are
in the major unit (100.50 NGN); BizBot converts both ways.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from typing import Any, ClassVar

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
    major_to_minor,
    minor_to_major,
)

TIMEOUT = httpx.Timeout(20.0, connect=10.0)
STATUSES = {
    "successful": "succeeded",
    "succeeded": "succeeded",
    "failed": "failed",
    "cancelled": "cancelled",
    "pending": "pending",
}


def _call(cfg: ProviderConfig, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    secret = str(cfg.credentials.get("secret_key") or "")
    try:
        with httpx.Client(base_url=cfg.base_url, timeout=TIMEOUT) as client:
            response = client.request(
                method, path, headers={"Authorization": f"Bearer {secret}"}, **kwargs
            )
    except httpx.HTTPError as exc:
        raise ProviderError(f"Flutterwave could not be reached at {cfg.base_url} ({exc})") from exc
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code >= 400 or body.get("status") != "success":
        message = body.get("message") or f"HTTP {response.status_code}"
        if response.status_code == 401:
            message += " (check the secret key: FLWSECK_TEST-… or FLWSECK-…)"
        raise ProviderError(f"Flutterwave answered: {message}")
    return body


def _result(data: Mapping[str, Any]) -> PaymentStatus:
    currency = data.get("currency")
    amount = data.get("amount")
    try:
        minor = major_to_minor(amount, currency) if amount is not None and currency else None
    except (ArithmeticError, ValueError):
        minor = None
    return PaymentStatus(
        status=STATUSES.get(str(data.get("status")).lower(), "pending"),
        provider_reference=str(data.get("id") or data.get("tx_ref") or ""),
        amount=minor,
        currency=currency.upper() if isinstance(currency, str) else None,
        reason=data.get("processor_response"),
        reference=data.get("tx_ref"),
        raw=dict(data),
    )


class FlutterwaveProvider:
    """Flutterwave Standard (cards, bank transfer, USSD and mobile money across Africa)."""

    kind: ClassVar[str] = "flutterwave"
    label: ClassVar[str] = "Flutterwave"
    currencies: ClassVar[frozenset[str]] = frozenset()
    push: ClassVar[bool] = False
    needs_email: ClassVar[bool] = True  # Flutterwave requires customer.email
    default_base_url: ClassVar[str] = "https://api.flutterwave.com"
    credential_fields: ClassVar[tuple[str, ...]] = ("secret_key", "secret_hash")

    def start(self, req: PaymentRequest, cfg: ProviderConfig) -> Redirect:
        """Create a Standard payment link with our reference as `tx_ref`."""
        if not req.payer_email:
            raise ProviderError("Flutterwave needs the customer's email address")
        customer: dict[str, Any] = {"email": req.payer_email}
        if req.payer_phone:
            customer["phonenumber"] = req.payer_phone
        if req.payer_name:
            customer["name"] = req.payer_name
        body = _call(
            cfg,
            "POST",
            "/v3/payments",
            json={
                "tx_ref": req.reference,
                "amount": str(minor_to_major(req.amount, req.currency)),
                "currency": req.currency,
                "redirect_url": req.return_url,
                "customer": customer,
                "customizations": {"title": req.description[:100]},
                "meta": {"reference": req.reference, "order_number": req.order_number},
            },
        )
        link = (body.get("data") or {}).get("link")
        if not link:
            raise ProviderError("Flutterwave answered without a payment link")
        return Redirect(url=link, provider_reference=req.reference, raw=body.get("data") or {})

    def verify_webhook(
        self, headers: Mapping[str, str], body: bytes, cfg: ProviderConfig
    ) -> PaymentEvent | None:
        """Check `verif-hash`; `charge.completed` then needs Verify Transaction."""
        expected = str(cfg.credentials.get("secret_hash") or "").encode()
        given = (headers.get("verif-hash") or "").encode()
        if not expected or not hmac.compare_digest(expected, given):
            raise InvalidSignature("verif-hash is not the configured secret hash")
        try:
            event = json.loads(body)
            name = event.get("event") or event.get("type")
            data = event["data"]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BadPayload(f"not a Flutterwave event ({type(exc).__name__}: {exc})") from None
        if name != "charge.completed":
            return None
        if not isinstance(data, Mapping) or not data.get("id"):
            raise BadPayload("charge.completed without data.id")
        status = _result(data)
        return PaymentEvent(
            event_id=f"charge.completed:{data['id']}:{data.get('status')}",
            status=status,
            reference=status.reference,
            needs_confirmation=True,
            raw=event,
        )

    def confirm(self, provider_reference: str, cfg: ProviderConfig) -> PaymentStatus:
        """Verify Transaction by Flutterwave's id (or by our tx_ref before an id is known)."""
        if provider_reference.isdigit():
            body = _call(cfg, "GET", f"/v3/transactions/{provider_reference}/verify")
        else:
            body = _call(
                cfg,
                "GET",
                "/v3/transactions/verify_by_reference",
                params={"tx_ref": provider_reference},
            )
        return _result(body.get("data") or {})

    def connect(self, cfg: ProviderConfig) -> ConnectionInfo:
        """Read the account's balances (harmless, needs a valid secret key)."""
        try:
            body = _call(cfg, "GET", "/v3/balances")
        except ProviderError as exc:
            return ConnectionInfo(ok=False, error=str(exc))
        balances = body.get("data") or []
        currencies = sorted(
            {b.get("currency") for b in balances if isinstance(b, Mapping)} - {None}
        )
        mode = "test" if "TEST" in str(cfg.credentials.get("secret_key", "")) else "live"
        return ConnectionInfo(
            ok=True, display_name=f"Flutterwave ({mode})", details={"currencies": currencies}
        )


registry.register(FlutterwaveProvider())
