"""M-Pesa (Safaricom Daraja): Lipa Na M-Pesa Online, the STK push to the customer's phone.

Credentials: `consumer_key`, `consumer_secret` (the Daraja app), `shortcode` (the paybill or
till number) and `passkey` (the Lipa Na M-Pesa Online passkey). Optional config:
`transaction_type` ("CustomerPayBillOnline", or "CustomerBuyGoodsOnline" for a till) and
`party_b` (the till number when it differs from the shortcode).

Daraja's STK callback is unsigned, so a callback is never proof: every one comes back with
`needs_confirmation=True` and only the STK push query (`confirm`) decides.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

import httpx

from backend.payments import registry
from backend.payments.base import (
    BadPayload,
    ConnectionInfo,
    PaymentEvent,
    PaymentRequest,
    PaymentStatus,
    ProviderConfig,
    ProviderError,
    PushPrompt,
    major_to_minor,
)

SANDBOX_URL = "https://sandbox.safaricom.co.ke"
LIVE_URL = "https://api.safaricom.co.ke"
TIMEOUT = 30.0
# Daraja's timestamps are Kenyan local time (EAT, UTC+3, no daylight saving).
EAT = timezone(timedelta(hours=3), "EAT")
KES_MINOR = 100  # ISO 4217 gives KES two decimals; M-Pesa takes whole shillings only
# Kenyan mobile numbers in the international form Daraja expects: 2547XXXXXXXX / 2541XXXXXXXX.
PHONE = re.compile(r"^254[17]\d{8}$")
# STK query ResultCodes that mean "not finished yet" (4999: still under processing).
PENDING_CODES = {"4999"}
CANCELLED_CODES = {"1032", "1031"}  # the customer cancelled, or dismissed the prompt
# Daraja answers a query for a push still waiting on the customer with this error.
PROCESSING_ERROR = "500.001.1001"


def shillings(amount: int, currency: str) -> int:
    """Whole shillings for an amount in cents; ProviderError if M-Pesa cannot take it."""
    if currency.upper() != "KES":
        msg = f"M-Pesa takes Kenyan shillings (KES) only, not {currency}; price the order in KES"
        raise ProviderError(msg)
    if amount <= 0:
        msg = f"the amount must be at least KES 1, got {amount / KES_MINOR:.2f}"
        raise ProviderError(msg)
    whole, cents = divmod(amount, KES_MINOR)
    if cents:
        msg = (
            f"M-Pesa takes whole shillings only, but the amount is KES {amount / KES_MINOR:.2f}; "
            "round the price to a whole shilling"
        )
        raise ProviderError(msg)
    return whole


def msisdn(phone: str | None) -> str:
    """The customer's number as Daraja wants it (2547XXXXXXXX); ProviderError naming the fix."""
    digits = re.sub(r"[\s\-()+]", "", phone or "")
    if digits.startswith("0") and len(digits) == 10:
        digits = "254" + digits[1:]
    if not PHONE.match(digits):
        msg = (
            f"M-Pesa needs the customer's Safaricom number like 254712345678, got {phone!r}; "
            "ask the customer for their M-Pesa phone number"
        )
        raise ProviderError(msg)
    return digits


def _daraja_error(response: httpx.Response) -> str:
    """Daraja's own words for a failed call (errorMessage / resultDesc), else the status."""
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict):
        for key in ("errorMessage", "resultDesc", "error_description", "ResponseDescription"):
            if data.get(key):
                code = data.get("errorCode") or data.get("resultCode") or data.get("ResponseCode")
                return f"{data[key]} ({code})" if code else str(data[key])
    text = response.text.strip()
    return f"HTTP {response.status_code}" + (f": {text[:200]}" if text else "")


class MpesaProvider:
    """Safaricom Daraja STK push (Lipa Na M-Pesa Online)."""

    kind: ClassVar[str] = "mpesa"
    label: ClassVar[str] = "M-Pesa"
    currencies: ClassVar[frozenset[str]] = frozenset({"KES"})
    push: ClassVar[bool] = True
    default_base_url: ClassVar[str] = SANDBOX_URL
    live_base_url: ClassVar[str] = LIVE_URL
    credential_fields: ClassVar[tuple[str, ...]] = (
        "consumer_key",
        "consumer_secret",
        "shortcode",
        "passkey",
    )

    # --- HTTP ------------------------------------------------------------------------------

    def _client(self, cfg: ProviderConfig) -> httpx.Client:
        return httpx.Client(base_url=cfg.base_url or self.default_base_url, timeout=TIMEOUT)

    def _credential(self, cfg: ProviderConfig, name: str) -> str:
        value = str(cfg.credentials.get(name) or "").strip()
        if not value:
            msg = f"the M-Pesa credential {name!r} is missing; add it in the provider settings"
            raise ProviderError(msg)
        return value

    def _token(self, client: httpx.Client, cfg: ProviderConfig) -> str:
        key = self._credential(cfg, "consumer_key")
        secret = self._credential(cfg, "consumer_secret")
        try:
            response = client.get(
                "/oauth/v1/generate",
                params={"grant_type": "client_credentials"},
                auth=(key, secret),
            )
        except httpx.HTTPError as exc:
            raise ProviderError(f"could not reach M-Pesa at {client.base_url}: {exc}") from exc
        token = None
        if response.status_code == 200:
            try:
                token = response.json().get("access_token")
            except ValueError:
                token = None
        if not token:
            msg = (
                f"M-Pesa refused the consumer key and secret: {_daraja_error(response)}; "
                "copy them again from your app on the Daraja portal (sandbox and live apps "
                "have different keys)"
            )
            raise ProviderError(msg)
        return str(token)

    def _password(self, cfg: ProviderConfig, timestamp: str) -> str:
        raw = self._credential(cfg, "shortcode") + self._credential(cfg, "passkey") + timestamp
        return base64.b64encode(raw.encode()).decode()

    def _post(self, client: httpx.Client, path: str, token: str, body: dict) -> httpx.Response:
        try:
            return client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError as exc:
            raise ProviderError(f"could not reach M-Pesa at {client.base_url}: {exc}") from exc

    # --- the protocol ----------------------------------------------------------------------

    def start(self, req: PaymentRequest, cfg: ProviderConfig) -> PushPrompt:
        """Push the STK prompt to the customer's phone; ProviderError with Daraja's answer."""
        amount = shillings(req.amount, req.currency)
        phone = msisdn(req.payer_phone)
        shortcode = self._credential(cfg, "shortcode")
        timestamp = datetime.now(EAT).strftime("%Y%m%d%H%M%S")
        body = {
            "BusinessShortCode": shortcode,
            "Password": self._password(cfg, timestamp),
            "Timestamp": timestamp,
            "TransactionType": cfg.config.get("transaction_type") or "CustomerPayBillOnline",
            "Amount": amount,
            "PartyA": phone,
            "PartyB": str(cfg.config.get("party_b") or shortcode),
            "PhoneNumber": phone,
            "CallBackURL": cfg.webhook_url,
            # Daraja limits: AccountReference 12 characters, TransactionDesc 13.
            "AccountReference": f"Order{req.order_number}"[:12],
            "TransactionDesc": (req.description or "Payment")[:13],
        }
        with self._client(cfg) as client:
            token = self._token(client, cfg)
            response = self._post(client, "/mpesa/stkpush/v1/processrequest", token, body)
        data = _json(response)
        if response.status_code != 200 or str(data.get("ResponseCode")) != "0":
            msg = f"M-Pesa did not send the payment prompt: {_daraja_error(response)}"
            raise ProviderError(msg)
        return PushPrompt(
            provider_reference=str(data["CheckoutRequestID"]),
            message=(
                f"Enter your M-Pesa PIN on the phone {phone} to pay KES {amount:,} "
                f"for order {req.order_number}."
            ),
            raw=data,
        )

    def verify_webhook(
        self, headers: Mapping[str, str], body: bytes, cfg: ProviderConfig
    ) -> PaymentEvent | None:
        """Parse an STK callback (unsigned: always needs confirmation); None if not one."""
        try:
            payload = json.loads(body)
        except ValueError as exc:
            raise BadPayload("the M-Pesa callback body is not JSON") from exc
        envelope = payload.get("Body") if isinstance(payload, dict) else None
        callback = envelope.get("stkCallback") if isinstance(envelope, dict) else None
        if not isinstance(callback, dict) or not callback.get("CheckoutRequestID"):
            return None
        checkout_id = str(callback["CheckoutRequestID"])
        code = str(callback.get("ResultCode"))
        metadata = callback.get("CallbackMetadata")
        items = metadata.get("Item") if isinstance(metadata, dict) else None
        meta = {i.get("Name"): i.get("Value") for i in items or [] if isinstance(i, dict)}
        amount = meta.get("Amount")
        if not isinstance(amount, int | float | str):
            amount = None
        status = PaymentStatus(
            status=_status_for(code),
            provider_reference=checkout_id,
            amount=major_to_minor(amount, "KES") if amount is not None else None,
            currency="KES",
            reason=None if code == "0" else str(callback.get("ResultDesc") or code),
            raw=callback,
        )
        # The receipt number is in the key so a forged callback (they are unsigned) stored
        # first cannot make Daraja's genuine one look like a replay.
        receipt = meta.get("MpesaReceiptNumber")
        return PaymentEvent(
            event_id=f"{checkout_id}:{code}" + (f":{receipt}" if receipt else ""),
            status=status,
            reference=None,
            needs_confirmation=True,
            raw=payload,
        )

    def confirm(self, provider_reference: str, cfg: ProviderConfig) -> PaymentStatus:
        """Ask Daraja (STK push query) how the push ended; `amount` is None (not reported)."""
        timestamp = datetime.now(EAT).strftime("%Y%m%d%H%M%S")
        body = {
            "BusinessShortCode": self._credential(cfg, "shortcode"),
            "Password": self._password(cfg, timestamp),
            "Timestamp": timestamp,
            "CheckoutRequestID": provider_reference,
        }
        with self._client(cfg) as client:
            token = self._token(client, cfg)
            response = self._post(client, "/mpesa/stkpushquery/v1/query", token, body)
        data = _json(response)
        if response.status_code != 200:
            if data.get("errorCode") == PROCESSING_ERROR and "process" in str(
                data.get("errorMessage", "")
            ):
                return PaymentStatus(
                    status="pending",
                    provider_reference=provider_reference,
                    currency="KES",
                    reason=str(data.get("errorMessage")),
                    raw=data,
                )
            msg = f"M-Pesa could not say how the payment went: {_daraja_error(response)}"
            raise ProviderError(msg)
        code = str(data.get("ResultCode"))
        return PaymentStatus(
            status=_status_for(code),
            provider_reference=provider_reference,
            currency="KES",
            reason=None if code == "0" else str(data.get("ResultDesc") or code),
            raw=data,
        )

    def connect(self, cfg: ProviderConfig) -> ConnectionInfo:
        """Check the consumer key and secret by getting an OAuth token."""
        try:
            shortcode = self._credential(cfg, "shortcode")
            self._credential(cfg, "passkey")
            with self._client(cfg) as client:
                self._token(client, cfg)
        except ProviderError as exc:
            return ConnectionInfo(ok=False, error=str(exc))
        mode = "sandbox" if cfg.is_test_mode else "live"
        return ConnectionInfo(
            ok=True,
            display_name=f"M-Pesa shortcode {shortcode} ({mode})",
            details={"shortcode": shortcode, "callback_url": cfg.webhook_url},
        )


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _status_for(code: str) -> str:
    if code == "0":
        return "succeeded"
    if code in PENDING_CODES:
        return "pending"
    if code in CANCELLED_CODES:
        return "cancelled"
    return "failed"


adapter = registry.register(MpesaProvider())
