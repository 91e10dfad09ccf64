"""Airtel Money collections: a USSD push asks the customer to approve with their PIN.

Credentials: `client_id` and `client_secret` (the Airtel Africa developer app) and `country`
(ISO 3166 alpha-2 of the Airtel Money account, e.g. UG, KE, TZ). Optional `callback_secret`:
the private key for Airtel's "authenticated callback"; when set, a callback without the
right `hash` is refused. Signed or not, a callback is never proof: it always comes back with
`needs_confirmation=True` and only the status enquiry (`confirm`) decides.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
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
    PushPrompt,
    currency_exponent,
)

SANDBOX_URL = "https://openapiuat.airtel.africa"
LIVE_URL = "https://openapi.airtel.africa"
TIMEOUT = 30.0
# Airtel Money countries: their currency and international dialling code.
COUNTRIES: dict[str, tuple[str, str]] = {
    "CD": ("CDF", "243"),
    "CG": ("XAF", "242"),
    "GA": ("XAF", "241"),
    "KE": ("KES", "254"),
    "MG": ("MGA", "261"),
    "MW": ("MWK", "265"),
    "NE": ("XOF", "227"),
    "NG": ("NGN", "234"),
    "RW": ("RWF", "250"),
    "SC": ("SCR", "248"),
    "TD": ("XAF", "235"),
    "TZ": ("TZS", "255"),
    "UG": ("UGX", "256"),
    "ZM": ("ZMW", "260"),
}
# Transaction status codes of callbacks and enquiries.
STATUS = {
    "TS": "succeeded",
    "TF": "failed",
    "TE": "failed",  # expired: the customer never answered the prompt
    "TA": "pending",  # ambiguous: Airtel is still reconciling; ask again later
    "TIP": "pending",
}


def major_units(amount: int, currency: str) -> int:
    """The whole amount Airtel takes for an amount in minor units; ProviderError if not whole."""
    exponent = currency_exponent(currency)
    whole, fraction = divmod(amount, 10**exponent)
    if amount <= 0:
        raise ProviderError(f"the amount must be more than 0 {currency}")
    if fraction:
        msg = (
            f"Airtel Money takes whole amounts only, but the amount is "
            f"{amount / 10**exponent:.2f} {currency}; round the price to a whole {currency}"
        )
        raise ProviderError(msg)
    return whole


def _airtel_error(response: httpx.Response) -> str:
    """Airtel's own words for a failed call: status.message with its codes, or the OAuth error."""
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict):
        status = data.get("status")
        if isinstance(status, dict) and status.get("message"):
            code = status.get("response_code") or status.get("result_code") or status.get("code")
            return f"{status['message']} ({code})" if code else str(status["message"])
        if data.get("error_description") or data.get("error"):
            return f"{data.get('error_description') or data['error']} ({data.get('error')})"
    text = response.text.strip()
    return f"HTTP {response.status_code}" + (f": {text[:200]}" if text else "")


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


class AirtelProvider:
    """Airtel Money collection API (USSD push) with status enquiry."""

    kind: ClassVar[str] = "airtel"
    label: ClassVar[str] = "Airtel Money"
    currencies: ClassVar[frozenset[str]] = frozenset(c for c, _ in COUNTRIES.values())
    push: ClassVar[bool] = True
    default_base_url: ClassVar[str] = SANDBOX_URL
    live_base_url: ClassVar[str] = LIVE_URL
    credential_fields: ClassVar[tuple[str, ...]] = ("client_id", "client_secret", "country")
    optional_credential_fields: ClassVar[tuple[str, ...]] = ("callback_secret",)

    # --- HTTP ------------------------------------------------------------------------------

    def _credential(self, cfg: ProviderConfig, name: str) -> str:
        value = str(cfg.credentials.get(name) or "").strip()
        if not value:
            msg = (
                f"the Airtel Money credential {name!r} is missing; add it in the provider settings"
            )
            raise ProviderError(msg)
        return value

    def _country(self, cfg: ProviderConfig) -> tuple[str, str, str]:
        country = self._credential(cfg, "country").upper()
        if country not in COUNTRIES:
            msg = (
                f"Airtel Money does not serve the country {country!r}; set 'country' to one of "
                f"{', '.join(sorted(COUNTRIES))}"
            )
            raise ProviderError(msg)
        currency, dial = COUNTRIES[country]
        return country, currency, dial

    @contextmanager
    def _client(self, cfg: ProviderConfig) -> Iterator[httpx.Client]:
        """A client for Airtel's API, already holding an OAuth access token."""
        body = {
            "client_id": self._credential(cfg, "client_id"),
            "client_secret": self._credential(cfg, "client_secret"),
            "grant_type": "client_credentials",
        }
        base_url = cfg.base_url or self.default_base_url
        with httpx.Client(base_url=base_url, timeout=TIMEOUT) as client:
            response = self._call(client, "POST", "/auth/oauth2/token", json=body)
            token = _json(response).get("access_token") if response.status_code == 200 else None
            if not token:
                msg = (
                    f"Airtel Money refused the client ID and secret: {_airtel_error(response)}; "
                    "copy them again from your app on developers.airtel.africa (staging and "
                    "production apps have different keys)"
                )
                raise ProviderError(msg)
            client.headers["Authorization"] = f"Bearer {token}"
            yield client

    def _call(self, client: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            msg = f"could not reach Airtel Money at {client.base_url}: {exc}"
            raise ProviderError(msg) from exc

    # --- the protocol ----------------------------------------------------------------------

    def start(self, req: PaymentRequest, cfg: ProviderConfig) -> PushPrompt:
        """Push the USSD prompt to the customer's phone; ProviderError with Airtel's answer."""
        country, currency, dial = self._country(cfg)
        if req.currency.upper() != currency:
            msg = (
                f"this Airtel Money account ({country}) takes {currency}, not {req.currency}; "
                f"price the order in {currency}"
            )
            raise ProviderError(msg)
        amount = major_units(req.amount, currency)
        msisdn = self._msisdn(req.payer_phone, country, dial)
        body = {
            "reference": f"Order {req.order_number}",
            "subscriber": {"country": country, "currency": currency, "msisdn": msisdn},
            "transaction": {
                "amount": amount,
                "country": country,
                "currency": currency,
                "id": req.reference,
            },
        }
        headers = {"X-Country": country, "X-Currency": currency}
        with self._client(cfg) as client:
            response = self._call(
                client, "POST", "/merchant/v1/payments/", json=body, headers=headers
            )
        data = _json(response)
        if response.status_code != 200 or not (data.get("status") or {}).get("success"):
            msg = f"Airtel Money did not send the payment prompt: {_airtel_error(response)}"
            raise ProviderError(msg)
        return PushPrompt(
            # Airtel knows the payment by the transaction id we gave it; enquiries use it.
            provider_reference=req.reference,
            message=(
                f"Approve the Airtel Money prompt on your phone with your PIN to pay "
                f"{currency} {amount:,} for order {req.order_number}."
            ),
            raw=data,
        )

    @staticmethod
    def _msisdn(phone: str | None, country: str, dial: str) -> str:
        """The number without the country code, as Airtel wants it; ProviderError naming the fix."""
        digits = re.sub(r"[\s\-()+]", "", phone or "")
        if digits.startswith(dial):
            digits = digits[len(dial) :]
        digits = digits.removeprefix("0")
        if not re.fullmatch(r"\d{7,10}", digits):
            msg = (
                f"Airtel Money needs the customer's Airtel number in {country} "
                f"(e.g. {dial}7XXXXXXXX), got {phone!r}; ask the customer for their number"
            )
            raise ProviderError(msg)
        return digits

    def verify_webhook(
        self, headers: Mapping[str, str], body: bytes, cfg: ProviderConfig
    ) -> PaymentEvent | None:
        """Parse a collection callback (checking its hash when configured); None if not one."""
        try:
            payload = json.loads(body)
        except ValueError as exc:
            raise BadPayload("the Airtel Money callback body is not JSON") from exc
        transaction = payload.get("transaction") if isinstance(payload, dict) else None
        secret = str(cfg.credentials.get("callback_secret") or "")
        if secret:
            # Authenticated callbacks: base64 HMAC-SHA256 of the transaction object.
            message = json.dumps(transaction, separators=(",", ":")).encode()
            expected = base64.b64encode(
                hmac.new(secret.encode(), message, hashlib.sha256).digest()
            ).decode()
            if not hmac.compare_digest(expected, str(payload.get("hash") or "")):
                raise InvalidSignature("the Airtel Money callback hash does not match")
        if not isinstance(transaction, dict) or not transaction.get("id"):
            return None
        transaction_id = str(transaction["id"])
        code = str(transaction.get("status_code"))
        # Airtel's own id is in the key so a forged callback (unless signed) stored first
        # cannot make the genuine one look like a replay.
        airtel_id = transaction.get("airtel_money_id")
        return PaymentEvent(
            event_id=f"{transaction_id}:{code}" + (f":{airtel_id}" if airtel_id else ""),
            status=PaymentStatus(
                status=STATUS.get(code, "pending"),
                provider_reference=transaction_id,
                reason=None if code == "TS" else str(transaction.get("message") or code),
                raw=transaction,
                reference=transaction_id,
            ),
            reference=transaction_id,
            needs_confirmation=True,
            raw=payload,
        )

    def confirm(self, provider_reference: str, cfg: ProviderConfig) -> PaymentStatus:
        """Ask Airtel (transaction enquiry) how the payment ended; `amount` is not reported."""
        country, currency, _ = self._country(cfg)
        headers = {"X-Country": country, "X-Currency": currency}
        with self._client(cfg) as client:
            response = self._call(
                client, "GET", f"/standard/v1/payments/{provider_reference}", headers=headers
            )
        data = _json(response)
        transaction = (data.get("data") or {}).get("transaction") or {}
        if response.status_code != 200 or not transaction.get("status"):
            msg = f"Airtel Money could not say how the payment went: {_airtel_error(response)}"
            raise ProviderError(msg)
        code = str(transaction["status"])
        return PaymentStatus(
            status=STATUS.get(code, "pending"),
            provider_reference=provider_reference,
            currency=currency,
            reason=None if code == "TS" else str(transaction.get("message") or code),
            raw=data,
            reference=str(transaction.get("id") or provider_reference),
        )

    def connect(self, cfg: ProviderConfig) -> ConnectionInfo:
        """Check the country and the client ID and secret by getting an OAuth token."""
        try:
            country, currency, _ = self._country(cfg)
            with self._client(cfg):
                pass
        except ProviderError as exc:
            return ConnectionInfo(ok=False, error=str(exc))
        mode = "staging" if cfg.is_test_mode else "production"
        return ConnectionInfo(
            ok=True,
            display_name=f"Airtel Money {country} ({mode})",
            details={"country": country, "currency": currency, "callback_url": cfg.webhook_url},
        )


adapter = registry.register(AirtelProvider())
