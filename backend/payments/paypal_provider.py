"""PayPal Checkout (Orders v2): an order with an approve link, captured once the buyer approves.

Credentials: `client_id` and `client_secret` (a REST app on developer.paypal.com) and
`webhook_id` (the id PayPal gives the webhook registered on that app for BizBot's URL).
Webhooks are verified by PayPal itself (`POST /v1/notifications/verify-webhook-signature`)
with the transmission headers; `CHECKOUT.ORDER.APPROVED` is not money yet, so it asks for
confirmation and `confirm` captures the order; `PAYMENT.CAPTURE.COMPLETED` is the money.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

import httpx

from backend.payments import registry
from backend.payments.base import (
    ConnectionInfo,
    InvalidSignature,
    PaymentEvent,
    PaymentRequest,
    PaymentStatus,
    ProviderConfig,
    ProviderError,
    Redirect,
    currency_exponent,
    major_to_minor,
)

SANDBOX_URL = "https://api-m.sandbox.paypal.com"
LIVE_URL = "https://api-m.paypal.com"
TIMEOUT = 30.0
# Currencies PayPal accepts for payments (its currency-codes reference).
CURRENCIES = frozenset(
    {
        "AUD",
        "BRL",
        "CAD",
        "CNY",
        "CZK",
        "DKK",
        "EUR",
        "HKD",
        "HUF",
        "ILS",
        "JPY",
        "MYR",
        "MXN",
        "TWD",
        "NZD",
        "NOK",
        "PHP",
        "PLN",
        "GBP",
        "SGD",
        "SEK",
        "CHF",
        "THB",
        "USD",
    }
)
# HUF and TWD have cents in ISO 4217 (so in BizBot), but PayPal takes whole units only.
PAYPAL_NO_DECIMALS = frozenset({"JPY", "HUF", "TWD"})
TRANSMISSION_HEADERS = {
    "transmission_id": "paypal-transmission-id",
    "transmission_time": "paypal-transmission-time",
    "transmission_sig": "paypal-transmission-sig",
    "cert_url": "paypal-cert-url",
    "auth_algo": "paypal-auth-algo",
}
CAPTURE_STATUS = {
    "COMPLETED": "succeeded",
    "PENDING": "pending",
    "DECLINED": "failed",
    "FAILED": "failed",
    "REFUNDED": "refunded",
    "PARTIALLY_REFUNDED": "succeeded",
}


def paypal_value(amount: int, currency: str) -> str:
    """PayPal's `amount.value` for an amount in minor units, e.g. 1050 USD → "10.50"."""
    code = currency.upper()
    if code not in CURRENCIES:
        msg = (
            f"PayPal does not take {currency}; price the order in one of "
            f"{', '.join(sorted(CURRENCIES))}"
        )
        raise ProviderError(msg)
    if amount <= 0:
        raise ProviderError(f"the amount must be more than 0 {code}, got {amount}")
    major = Decimal(amount).scaleb(-currency_exponent(code))
    if code in PAYPAL_NO_DECIMALS:
        if major != major.to_integral_value():
            msg = (
                f"PayPal takes whole {code} only, but the amount is {major:.2f} {code}; "
                f"round the price to a whole {code}"
            )
            raise ProviderError(msg)
        return f"{major:.0f}"
    return f"{major:.2f}"


def minor_amount(value: str | None, currency: str | None) -> int | None:
    """An `amount.value` from PayPal back in minor units (None when absent)."""
    if value is None or not currency:
        return None
    try:
        return major_to_minor(value, currency)
    except InvalidOperation:
        return None


def _paypal_error(response: httpx.Response) -> str:
    """PayPal's own words: `message` and the first detail's issue, or `error_description`."""
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict):
        if data.get("error_description"):
            return f"{data['error_description']} ({data.get('error')})"
        if data.get("message"):
            text = str(data["message"])
            details = data.get("details") or []
            if details and isinstance(details[0], dict):
                issue = details[0].get("issue")
                description = details[0].get("description")
                text += f" [{issue}" + (f": {description}" if description else "") + "]"
            return text
    text = response.text.strip()
    return f"HTTP {response.status_code}" + (f": {text[:200]}" if text else "")


def _issue(response: httpx.Response) -> str | None:
    try:
        details = response.json().get("details") or []
        return str(details[0].get("issue"))
    except (ValueError, AttributeError, IndexError, TypeError):
        return None


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


class PaypalProvider:
    """PayPal Orders v2 with capture on approval."""

    kind: ClassVar[str] = "paypal"
    label: ClassVar[str] = "PayPal"
    currencies: ClassVar[frozenset[str]] = CURRENCIES
    push: ClassVar[bool] = False
    default_base_url: ClassVar[str] = SANDBOX_URL
    live_base_url: ClassVar[str] = LIVE_URL
    credential_fields: ClassVar[tuple[str, ...]] = ("client_id", "client_secret", "webhook_id")

    # --- HTTP ------------------------------------------------------------------------------

    def _credential(self, cfg: ProviderConfig, name: str) -> str:
        value = str(cfg.credentials.get(name) or "").strip()
        if not value:
            msg = f"the PayPal credential {name!r} is missing; add it in the provider settings"
            raise ProviderError(msg)
        return value

    @contextmanager
    def _client(self, cfg: ProviderConfig) -> Iterator[httpx.Client]:
        """A client for PayPal's REST API, already holding an OAuth access token."""
        auth = (self._credential(cfg, "client_id"), self._credential(cfg, "client_secret"))
        with httpx.Client(
            base_url=cfg.base_url or self.default_base_url, timeout=TIMEOUT
        ) as client:
            response = self._call(
                client,
                "POST",
                "/v1/oauth2/token",
                data={"grant_type": "client_credentials"},
                auth=auth,
            )
            token = _json(response).get("access_token") if response.status_code == 200 else None
            if not token:
                msg = (
                    f"PayPal refused the client ID and secret: {_paypal_error(response)}; copy "
                    "them again from your REST app on developer.paypal.com (sandbox and live "
                    "apps have different credentials)"
                )
                raise ProviderError(msg)
            client.headers["Authorization"] = f"Bearer {token}"
            yield client

    def _call(self, client: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ProviderError(f"could not reach PayPal at {client.base_url}: {exc}") from exc

    # --- the protocol ----------------------------------------------------------------------

    def start(self, req: PaymentRequest, cfg: ProviderConfig) -> Redirect:
        """Create a PayPal order and hand the customer its approve link."""
        currency = req.currency.upper()
        value = paypal_value(req.amount, currency)
        body = {
            "intent": "CAPTURE",
            "purchase_units": [
                {
                    "reference_id": req.reference,
                    "custom_id": req.reference,
                    "description": (req.description or f"Order {req.order_number}")[:127],
                    "amount": {"currency_code": currency, "value": value},
                }
            ],
            "payment_source": {
                "paypal": {
                    "experience_context": {
                        "return_url": req.return_url,
                        "cancel_url": req.cancel_url,
                        "user_action": "PAY_NOW",
                        "shipping_preference": "NO_SHIPPING",
                    }
                }
            },
        }
        with self._client(cfg) as client:
            # The same PayPal-Request-Id returns the same order: a retry is not a second order.
            response = self._call(
                client,
                "POST",
                "/v2/checkout/orders",
                json=body,
                headers={"PayPal-Request-Id": req.reference, "Prefer": "return=representation"},
            )
        data = _json(response)
        if response.status_code not in (200, 201):
            raise ProviderError(f"PayPal did not create the order: {_paypal_error(response)}")
        links = {link.get("rel"): link.get("href") for link in data.get("links") or []}
        url = links.get("payer-action") or links.get("approve")
        if not url or not data.get("id"):
            raise ProviderError("PayPal created the order but sent no approve link; try again")
        return Redirect(url=url, provider_reference=str(data["id"]), raw=data)

    def verify_webhook(
        self, headers: Mapping[str, str], body: bytes, cfg: ProviderConfig
    ) -> PaymentEvent | None:
        """Have PayPal verify the delivery (InvalidSignature unless SUCCESS), then parse it."""
        lower = {k.lower(): v for k, v in headers.items()}
        fields: dict[str, str] = {}
        for name, header in TRANSMISSION_HEADERS.items():
            if not lower.get(header):
                raise InvalidSignature(f"the PayPal webhook has no {header} header")
            fields[name] = str(lower[header])
        webhook_id = str(cfg.credentials.get("webhook_id") or "").strip()
        if not webhook_id:
            msg = "the PayPal webhook_id is not set; copy it from your app's webhook settings"
            raise InvalidSignature(msg)
        try:
            event = json.loads(body)
        except ValueError as exc:
            raise InvalidSignature("the PayPal webhook body is not JSON") from exc
        if not isinstance(event, dict):
            raise InvalidSignature("the PayPal webhook body is not a JSON object")
        # The event goes back byte for byte: re-serialising it can change what PayPal checks.
        parts = [f"{json.dumps(k)}:{json.dumps(v)}" for k, v in fields.items()]
        parts.append(f'"webhook_id":{json.dumps(webhook_id)}')
        payload = "{" + ",".join(parts) + ',"webhook_event":' + body.decode() + "}"
        with self._client(cfg) as client:
            response = self._call(
                client,
                "POST",
                "/v1/notifications/verify-webhook-signature",
                content=payload.encode(),
                headers={"Content-Type": "application/json"},
            )
        if response.status_code != 200:
            msg = f"PayPal could not verify the webhook: {_paypal_error(response)}"
            raise ProviderError(msg)
        if _json(response).get("verification_status") != "SUCCESS":
            raise InvalidSignature("PayPal says this webhook's signature is not valid")
        return _event(event)

    def confirm(self, provider_reference: str, cfg: ProviderConfig) -> PaymentStatus:
        """Read the order; capture it if the buyer approved it; report what PayPal took."""
        with self._client(cfg) as client:
            order = self._order(client, provider_reference)
            if order.get("status") == "APPROVED":
                response = self._call(
                    client,
                    "POST",
                    f"/v2/checkout/orders/{provider_reference}/capture",
                    json={},
                    headers={
                        "PayPal-Request-Id": f"capture-{provider_reference}",
                        "Prefer": "return=representation",
                    },
                )
                issue = _issue(response)
                if response.status_code in (200, 201):
                    order = _json(response)
                elif issue == "ORDER_ALREADY_CAPTURED":
                    order = self._order(client, provider_reference)
                elif issue in ("INSTRUMENT_DECLINED", "PAYER_CANNOT_PAY"):
                    return PaymentStatus(
                        status="failed",
                        provider_reference=provider_reference,
                        reason=_paypal_error(response),
                        raw=_json(response),
                    )
                else:
                    msg = f"PayPal did not capture the order: {_paypal_error(response)}"
                    raise ProviderError(msg)
        return _order_status(order, provider_reference)

    def _order(self, client: httpx.Client, order_id: str) -> dict[str, Any]:
        response = self._call(client, "GET", f"/v2/checkout/orders/{order_id}")
        if response.status_code != 200:
            raise ProviderError(
                f"PayPal could not find order {order_id}: {_paypal_error(response)}"
            )
        return _json(response)

    def connect(self, cfg: ProviderConfig) -> ConnectionInfo:
        """Check the client ID and secret, and that the webhook exists and points at BizBot."""
        try:
            webhook_id = self._credential(cfg, "webhook_id")
            with self._client(cfg) as client:
                response = self._call(client, "GET", f"/v1/notifications/webhooks/{webhook_id}")
        except ProviderError as exc:
            return ConnectionInfo(ok=False, error=str(exc))
        if response.status_code != 200:
            return ConnectionInfo(
                ok=False,
                error=(
                    f"PayPal has no webhook {webhook_id} for this app ({_paypal_error(response)}); "
                    f"add a webhook for {cfg.webhook_url} in the app's settings and copy its ID"
                ),
            )
        webhook = _json(response)
        if cfg.public_url and webhook.get("url") != cfg.webhook_url:
            return ConnectionInfo(
                ok=False,
                error=(
                    f"PayPal webhook {webhook_id} sends to {webhook.get('url')}, not to "
                    f"{cfg.webhook_url}; change its URL in the app's webhook settings"
                ),
            )
        mode = "sandbox" if cfg.is_test_mode else "live"
        return ConnectionInfo(
            ok=True,
            display_name=f"PayPal app {self._credential(cfg, 'client_id')[:12]}… ({mode})",
            details={"webhook_url": webhook.get("url"), "webhook_id": webhook_id},
        )


def _order_status(order: dict[str, Any], order_id: str) -> PaymentStatus:
    """A PaymentStatus from an order: its first capture when there is one, else its status."""
    units = order.get("purchase_units") or [{}]
    captures = ((units[0].get("payments") or {}).get("captures")) or []
    if captures:
        capture = captures[0]
        amount = capture.get("amount") or {}
        return PaymentStatus(
            status=CAPTURE_STATUS.get(str(capture.get("status")), "pending"),
            provider_reference=order_id,
            amount=minor_amount(amount.get("value"), amount.get("currency_code")),
            currency=amount.get("currency_code"),
            reason=(capture.get("status_details") or {}).get("reason"),
            raw=order,
            reference=capture.get("custom_id") or units[0].get("custom_id"),
        )
    status = str(order.get("status"))
    return PaymentStatus(
        status="cancelled" if status == "VOIDED" else "pending",
        provider_reference=order_id,
        reason=f"the PayPal order is {status}",
        raw=order,
        reference=units[0].get("custom_id"),
    )


def _event(event: dict[str, Any]) -> PaymentEvent | None:
    """The PaymentEvent for the event types BizBot uses; None for the rest."""
    kind = event.get("event_type")
    resource = event.get("resource") or {}
    if kind == "CHECKOUT.ORDER.APPROVED":
        unit = (resource.get("purchase_units") or [{}])[0]
        amount = unit.get("amount") or {}
        return PaymentEvent(
            event_id=str(event.get("id")),
            status=PaymentStatus(
                status="pending",
                provider_reference=str(resource.get("id")),
                amount=minor_amount(amount.get("value"), amount.get("currency_code")),
                currency=amount.get("currency_code"),
                raw=resource,
                reference=unit.get("custom_id") or unit.get("reference_id"),
            ),
            reference=unit.get("custom_id") or unit.get("reference_id"),
            needs_confirmation=True,  # approved is not paid: confirm captures it
            raw=event,
        )
    if kind in ("PAYMENT.CAPTURE.COMPLETED", "PAYMENT.CAPTURE.DENIED"):
        amount = resource.get("amount") or {}
        related = (resource.get("supplementary_data") or {}).get("related_ids") or {}
        return PaymentEvent(
            event_id=str(event.get("id")),
            status=PaymentStatus(
                status="succeeded" if kind.endswith("COMPLETED") else "failed",
                provider_reference=str(related.get("order_id") or resource.get("id")),
                amount=minor_amount(amount.get("value"), amount.get("currency_code")),
                currency=amount.get("currency_code"),
                raw=resource,
                reference=resource.get("custom_id"),
            ),
            reference=resource.get("custom_id"),
            raw=event,
        )
    return None


adapter = registry.register(PaypalProvider())
