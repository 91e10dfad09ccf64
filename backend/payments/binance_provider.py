"""Binance Pay: a signed order with a hosted checkout page, and RSA-signed order webhooks.

Credentials: `api_key` and `secret_key` (Binance Merchant Admin Portal → Developers → API
keys). Every request is signed with HMAC-SHA512 of "timestamp\\nnonce\\nbody\\n"; webhooks
carry an RSA-SHA256 signature over the same shape, checked with Binance's public key from
the certificates API (cached per account, fetched again when the serial changes).
Crypto amounts are stored like other currencies, in hundredths (USDT 12.50 → 1250).
Optional config `usd_as` ("USDT" by default, or "USDC"/"FDUSD", or "" to refuse USD): orders
priced in USD are charged 1:1 in that stablecoin (BizBot's catalogue uses 3-letter ISO codes,
so a USD price is how most shops will list), and reported back as USD.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import string
import threading
import time
from collections.abc import Mapping
from decimal import InvalidOperation
from typing import Any, ClassVar

import httpx
from cryptography.exceptions import InvalidSignature as BadRsaSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

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

LIVE_URL = "https://bpay.binanceapi.com"  # Binance Pay has no public sandbox
TIMEOUT = 30.0
STABLECOINS = frozenset({"USDT", "USDC", "FDUSD"})
CURRENCIES = STABLECOINS | {"USD"}
DEFAULT_USD_AS = "USDT"
SIGNATURE_HEADERS = (
    "binancepay-certificate-sn",
    "binancepay-nonce",
    "binancepay-timestamp",
    "binancepay-signature",
)
ORDER_STATUS = {
    "PAID": "succeeded",
    "INITIAL": "pending",
    "PENDING": "pending",
    "CANCELED": "cancelled",
    "EXPIRED": "cancelled",
    "ERROR": "failed",
    "REFUNDING": "refunded",
    "REFUNDED": "refunded",
    "FULL_REFUNDED": "refunded",
}
WEBHOOK_STATUS = {"PAY_SUCCESS": "succeeded", "PAY_CLOSED": "cancelled"}

# Binance's webhook public keys by (API root, api key): serial -> PEM.
_certificates: dict[tuple[str, str], dict[str, str]] = {}
_certificates_lock = threading.Lock()


def usd_as(cfg: ProviderConfig) -> str | None:
    """The stablecoin USD orders are charged in (config `usd_as`), or None if USD is refused."""
    value = str(cfg.config.get("usd_as", DEFAULT_USD_AS) or "").strip().upper()
    if not value:
        return None
    if value not in STABLECOINS:
        msg = f"usd_as must be one of {', '.join(sorted(STABLECOINS))} (or empty), not {value!r}"
        raise ProviderError(msg)
    return value


def order_amount(amount: int, currency: str) -> float:
    """Binance's `orderAmount` for an amount in hundredths, e.g. 1250 USDT → 12.5."""
    code = currency.upper()
    if code not in STABLECOINS:
        msg = (
            f"Binance Pay takes {', '.join(sorted(STABLECOINS))} (and USD through the usd_as "
            f"setting), not {currency}; price the order in one of those"
        )
        raise ProviderError(msg)
    if amount <= 0:
        raise ProviderError(f"the amount must be more than 0 {code}, got {amount}")
    return float(minor_to_major(amount, code))


def minor_amount(value: Any, currency: str | None) -> int | None:
    """A Binance amount (e.g. 12.50000000) back in the minor unit, None when absent."""
    if value is None or not currency:
        return None
    try:
        return major_to_minor(value, currency)
    except InvalidOperation:
        return None


def trade_number(reference: str) -> str:
    """BizBot's reference as a merchantTradeNo: letters and digits only, at most 32."""
    cleaned = re.sub(r"[^A-Za-z0-9]", "", reference)[:32]
    if not cleaned:
        raise ProviderError(f"the payment reference {reference!r} has no letters or digits")
    return cleaned


def sign(secret_key: str, timestamp: str, nonce: str, body: str) -> str:
    """The BinancePay-Signature of a request: upper hex HMAC-SHA512 of ts\\nnonce\\nbody\\n."""
    payload = f"{timestamp}\n{nonce}\n{body}\n".encode()
    return hmac.new(secret_key.encode(), payload, hashlib.sha512).hexdigest().upper()


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _binance_error(response: httpx.Response) -> str:
    data = _json(response)
    if data.get("errorMessage") or data.get("code"):
        return f"{data.get('errorMessage') or 'error'} ({data.get('code')})"
    text = response.text.strip()
    return f"HTTP {response.status_code}" + (f": {text[:200]}" if text else "")


class BinanceProvider:
    """Binance Pay merchant orders (v3 create, v2 query) with certificate-checked webhooks."""

    kind: ClassVar[str] = "binance"
    label: ClassVar[str] = "Binance Pay"
    currencies: ClassVar[frozenset[str]] = CURRENCIES
    push: ClassVar[bool] = False
    default_base_url: ClassVar[str] = LIVE_URL
    live_base_url: ClassVar[str] = LIVE_URL
    credential_fields: ClassVar[tuple[str, ...]] = ("api_key", "secret_key")

    # --- HTTP ------------------------------------------------------------------------------

    def _credential(self, cfg: ProviderConfig, name: str) -> str:
        value = str(cfg.credentials.get(name) or "").strip()
        if not value:
            msg = f"the Binance Pay credential {name!r} is missing; add it in the provider settings"
            raise ProviderError(msg)
        return value

    def _post(self, cfg: ProviderConfig, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """A signed POST: the answer when SUCCESS, else ProviderError with Binance's words."""
        api_key = self._credential(cfg, "api_key")
        secret_key = self._credential(cfg, "secret_key")
        text = json.dumps(body, separators=(",", ":"))
        timestamp = str(int(time.time() * 1000))
        nonce = "".join(secrets.choice(string.ascii_letters) for _ in range(32))
        headers = {
            "Content-Type": "application/json",
            "BinancePay-Timestamp": timestamp,
            "BinancePay-Nonce": nonce,
            "BinancePay-Certificate-SN": api_key,
            "BinancePay-Signature": sign(secret_key, timestamp, nonce, text),
        }
        base_url = cfg.base_url or self.default_base_url
        try:
            with httpx.Client(base_url=base_url, timeout=TIMEOUT) as client:
                response = client.post(path, content=text.encode(), headers=headers)
        except httpx.HTTPError as exc:
            raise ProviderError(f"could not reach Binance Pay at {base_url}: {exc}") from exc
        data = _json(response)
        if response.status_code != 200 or data.get("status") != "SUCCESS":
            raise ProviderError(f"Binance Pay refused the request: {_binance_error(response)}")
        return data

    # --- the protocol ----------------------------------------------------------------------

    def start(self, req: PaymentRequest, cfg: ProviderConfig) -> Redirect:
        """Create a Binance Pay order and send the customer to its checkout page."""
        currency = req.currency.upper()
        pass_through = {}
        if currency == "USD":
            stablecoin = usd_as(cfg)
            if stablecoin is None:
                msg = "this Binance Pay account does not take USD (usd_as is empty)"
                raise ProviderError(msg + "; set usd_as to USDT or USDC to charge USD orders 1:1")
            currency, pass_through = stablecoin, {"bizbot_currency": "USD"}
        amount = order_amount(req.amount, currency)
        description = (req.description or f"Order {req.order_number}")[:256]
        body = {
            "env": {"terminalType": "WEB"},
            "merchantTradeNo": trade_number(req.reference),
            "orderAmount": amount,
            "currency": currency,
            "description": description,
            "goodsDetails": [
                {
                    "goodsType": "02",
                    "goodsCategory": "Z000",
                    "referenceGoodsId": str(req.order_number),
                    "goodsName": description,
                }
            ],
            "returnUrl": req.return_url,
            "cancelUrl": req.cancel_url,
            "webhookUrl": cfg.webhook_url,
        }
        if pass_through:
            # Echoed in webhooks and queries: the stablecoin amount stands for the USD order.
            body["passThroughInfo"] = json.dumps(pass_through, separators=(",", ":"))
        try:
            data = self._post(cfg, "/binancepay/openapi/v3/order", body)
        except ProviderError as exc:
            raise ProviderError(
                str(exc).replace("refused the request", "did not create the order")
            ) from exc
        order = data.get("data") or {}
        if not order.get("prepayId") or not order.get("checkoutUrl"):
            raise ProviderError("Binance Pay created the order but sent no checkout URL; try again")
        return Redirect(
            url=str(order["checkoutUrl"]), provider_reference=str(order["prepayId"]), raw=data
        )

    def verify_webhook(
        self, headers: Mapping[str, str], body: bytes, cfg: ProviderConfig
    ) -> PaymentEvent | None:
        """Check the RSA signature with Binance's certificate, then parse a PAY event."""
        lower = {k.lower(): str(v) for k, v in headers.items()}
        for name in SIGNATURE_HEADERS:
            if not lower.get(name):
                raise InvalidSignature(f"the Binance Pay webhook has no {name} header")
        public_key = self._public_key(cfg, lower["binancepay-certificate-sn"])
        payload = (
            lower["binancepay-timestamp"].encode()
            + b"\n"
            + lower["binancepay-nonce"].encode()
            + b"\n"
            + body
            + b"\n"
        )
        try:
            signature = base64.b64decode(lower["binancepay-signature"], validate=True)
            public_key.verify(signature, payload, padding.PKCS1v15(), hashes.SHA256())
        except (BadRsaSignature, binascii.Error, ValueError) as exc:
            raise InvalidSignature("the Binance Pay webhook signature is not valid") from exc
        try:
            event = json.loads(body)
        except ValueError as exc:
            raise BadPayload("the Binance Pay webhook body is not JSON") from exc
        if not isinstance(event, dict) or event.get("bizType") != "PAY":
            return None
        status = WEBHOOK_STATUS.get(str(event.get("bizStatus")))
        if status is None:
            return None
        try:
            data = json.loads(event.get("data") or "{}")
        except (TypeError, ValueError):
            data = {}
        prepay_id = str(event.get("bizIdStr") or event.get("bizId"))
        return PaymentEvent(
            event_id=f"{prepay_id}:{event.get('bizStatus')}",
            status=PaymentStatus(
                status=status,
                provider_reference=prepay_id,
                amount=minor_amount(data.get("totalFee"), data.get("currency")),
                currency=_order_currency(data),
                raw=data,
            ),
            reference=None,  # merchantTradeNo is our reference stripped of symbols
            raw=event,
        )

    def _public_key(self, cfg: ProviderConfig, serial: str) -> rsa.RSAPublicKey:
        """Binance's webhook key with this serial, fetched when not already known."""
        key = (cfg.base_url or self.default_base_url, self._credential(cfg, "api_key"))
        with _certificates_lock:
            pem = _certificates.get(key, {}).get(serial)
        if pem is None:
            data = self._post(cfg, "/binancepay/openapi/certificates", {})
            fetched = {
                str(c.get("certSerial")): str(c.get("certPublic"))
                for c in data.get("data") or []
                if isinstance(c, dict)
            }
            with _certificates_lock:
                _certificates[key] = fetched
            pem = fetched.get(serial)
        if pem is None:
            msg = f"the Binance Pay webhook is signed with an unknown certificate {serial!r}"
            raise InvalidSignature(msg)
        public_key = serialization.load_pem_public_key(pem.encode())
        if not isinstance(public_key, rsa.RSAPublicKey):
            raise InvalidSignature("Binance Pay's webhook certificate is not an RSA key")
        return public_key

    def confirm(self, provider_reference: str, cfg: ProviderConfig) -> PaymentStatus:
        """Query the order (v2 order query) and report its status and amount."""
        data = self._post(
            cfg, "/binancepay/openapi/v2/order/query", {"prepayId": provider_reference}
        )
        order = data.get("data") or {}
        status = str(order.get("status"))
        return PaymentStatus(
            status=ORDER_STATUS.get(status, "pending"),
            provider_reference=provider_reference,
            amount=minor_amount(order.get("orderAmount"), order.get("currency")),
            currency=_order_currency(order),
            reason=None if status == "PAID" else f"the Binance Pay order is {status}",
            raw=order,
        )

    def connect(self, cfg: ProviderConfig) -> ConnectionInfo:
        """Check the API key and secret with a signed certificates call."""
        try:
            api_key = self._credential(cfg, "api_key")
            data = self._post(cfg, "/binancepay/openapi/certificates", {})
        except ProviderError as exc:
            message = str(exc)
            if "refused the request" in message:
                message += (
                    "; copy the API key and secret again from the Binance Merchant Admin "
                    "Portal (Developers → Settings → API Keys)"
                )
            return ConnectionInfo(ok=False, error=message)
        return ConnectionInfo(
            ok=True,
            display_name=f"Binance Pay merchant (API key {api_key[:6]}…)",
            details={"certificates": len(data.get("data") or []), "webhook_url": cfg.webhook_url},
        )


def _order_currency(data: Mapping[str, Any]) -> str | None:
    """The order's currency for BizBot: USD when a stablecoin stood in for it, else Binance's."""
    currency = data.get("currency")
    try:
        info = json.loads(data.get("passThroughInfo") or "{}")
    except (TypeError, ValueError):
        info = {}
    if isinstance(info, dict) and info.get("bizbot_currency") == "USD" and currency in STABLECOINS:
        return "USD"
    return str(currency) if currency else None


adapter = registry.register(BinanceProvider())
