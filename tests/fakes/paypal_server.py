"""A local server speaking the parts of PayPal's REST API BizBot uses, for tests.

OAuth (`POST /v1/oauth2/token`), Orders v2 (create, get, capture — with PayPal-Request-Id
idempotency), webhook lookup (`GET /v1/notifications/webhooks/{id}`) and webhook verification
(`POST /v1/notifications/verify-webhook-signature`). Production code runs unchanged with the
provider's base URL pointed at `server.url`:

    with FakePayPal() as paypal:
        paypal.add_app(client_id="id", client_secret="secret", webhook_id="WH-1",
                       webhook_url="https://shop.example.com/webhooks/payments/paypal/1")
        ...  # the adapter creates an order; then the buyer approves it on PayPal:
        delivery = paypal.approve(order_id)     # a signed CHECKOUT.ORDER.APPROVED webhook
        client.post(delivery.url, content=delivery.body, headers=delivery.headers)

Deliveries carry the real transmission headers; the fake signs them with its own key, and
verify-webhook-signature answers SUCCESS only for a delivery it made, unchanged, checked
against the webhook id it was made for. Errors use PayPal's `{name, message, debug_id,
details: [{issue, description}]}` shape.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import re
import secrets
import threading
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

NO_DECIMALS = {"JPY", "HUF", "TWD"}
CURRENCIES = set(
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


@dataclass(frozen=True)
class Recorded:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: Any


@dataclass(frozen=True)
class Delivery:
    """A webhook as PayPal would POST it to the webhook's URL."""

    url: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class _App:
    client_id: str
    client_secret: str
    webhook_id: str
    webhook_url: str


@dataclass
class FakePayPal:
    """The server: `with FakePayPal() as paypal:` binds 127.0.0.1 on a free port."""

    apps: list[_App] = field(default_factory=list)
    tokens: dict[str, _App] = field(default_factory=dict)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    deliveries: dict[str, tuple[Delivery, str]] = field(default_factory=dict)  # id → (, webhook)
    requests: list[Recorded] = field(default_factory=list)
    decline_captures: bool = False
    _by_request_id: dict[str, str] = field(default_factory=dict)
    _key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _httpd: ThreadingHTTPServer | None = None

    # --- set-up -----------------------------------------------------------------------------

    def add_app(
        self, *, client_id: str, client_secret: str, webhook_id: str, webhook_url: str
    ) -> None:
        """A REST app with one webhook registered for `webhook_url`."""
        self.apps.append(_App(client_id, client_secret, webhook_id, webhook_url))

    @property
    def url(self) -> str:
        """The base URL to use instead of https://api-m.sandbox.paypal.com."""
        assert self._httpd is not None, "the fake PayPal server is not running"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def sent(self, method: str, path_pattern: str) -> list[Recorded]:
        """The requests whose method matches and whose path matches the regex, in order."""
        return [
            r for r in self.requests if r.method == method and re.fullmatch(path_pattern, r.path)
        ]

    # --- the buyer on PayPal ----------------------------------------------------------------

    def approve(self, order_id: str) -> Delivery:
        """The buyer approves the order; returns the signed CHECKOUT.ORDER.APPROVED webhook."""
        order = self.orders[order_id]
        order["status"] = "APPROVED"
        order["payer"] = {"email_address": "buyer@example.com", "payer_id": "QYR5Z8XDVJNXQ"}
        return self.webhook("CHECKOUT.ORDER.APPROVED", self._public(order), order["_app"])

    def capture_completed(self, order_id: str) -> Delivery:
        """The signed PAYMENT.CAPTURE.COMPLETED webhook of an order already captured."""
        order = self.orders[order_id]
        capture = dict(order["purchase_units"][0]["payments"]["captures"][0])
        capture["supplementary_data"] = {"related_ids": {"order_id": order_id}}
        return self.webhook("PAYMENT.CAPTURE.COMPLETED", capture, order["_app"])

    def webhook(self, event_type: str, resource: dict[str, Any], app: _App) -> Delivery:
        """A signed delivery of any event to `app`'s webhook (e.g. one BizBot ignores)."""
        n = self._next()
        event = {
            "id": f"WH-{n:04d}-8AB2C0D9E7F6G5H4",
            "event_version": "1.0",
            "create_time": datetime.now(UTC).isoformat(),
            "resource_type": "checkout-order" if "ORDER" in event_type else "capture",
            "resource_version": "2.0",
            "event_type": event_type,
            "summary": f"{event_type} event",
            "resource": resource,
        }
        body = json.dumps(event, indent=1).encode()  # PayPal's bodies are not compact JSON
        transmission_id = f"{n:08d}-{secrets.token_hex(4)}-11ee-a4c1-0242ac110002"
        transmission_time = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        headers = {
            "content-type": "application/json",
            "paypal-transmission-id": transmission_id,
            "paypal-transmission-time": transmission_time,
            "paypal-transmission-sig": self._sign(
                transmission_id, transmission_time, app.webhook_id, body
            ),
            "paypal-cert-url": f"{self.url}/v1/notifications/certs/CERT-360caa42-fca2a594",
            "paypal-auth-algo": "SHA256withRSA",
        }
        delivery = Delivery(url=app.webhook_url, headers=headers, body=body)
        self.deliveries[transmission_id] = (delivery, app.webhook_id)
        return delivery

    def _sign(self, transmission_id: str, time: str, webhook_id: str, body: bytes) -> str:
        message = f"{transmission_id}|{time}|{webhook_id}|{zlib.crc32(body)}".encode()
        return base64.b64encode(hmac.new(self._key, message, hashlib.sha256).digest()).decode()

    # --- life cycle -------------------------------------------------------------------------

    def start(self) -> FakePayPal:
        """Serve on 127.0.0.1 and a free port, in a background thread."""
        handler = type("Handler", (_Handler,), {"fake": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FakePayPal:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- behaviour --------------------------------------------------------------------------

    def _next(self) -> int:
        with self._lock:
            return next(self._ids)

    @staticmethod
    def _public(order: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in order.items() if not k.startswith("_")}


def _error(name: str, message: str, issue: str | None = None, description: str = "") -> dict:
    body: dict[str, Any] = {"name": name, "message": message, "debug_id": secrets.token_hex(6)}
    if issue:
        body["details"] = [{"issue": issue, "description": description}]
    return body


class _Handler(BaseHTTPRequestHandler):
    fake: FakePayPal

    def log_message(self, *args: Any) -> None:
        return

    def _send(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _record(self, method: str) -> Recorded:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            body: Any = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        else:
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode(errors="replace")
        record = Recorded(method, urlsplit(self.path).path, headers, body)
        self.fake.requests.append(record)
        return record

    def do_GET(self) -> None:
        self._route(self._record("GET"))

    def do_POST(self) -> None:
        self._route(self._record("POST"))

    def _route(self, r: Recorded) -> None:
        if r.method == "POST" and r.path == "/v1/oauth2/token":
            return self._token(r)
        app = self.fake.tokens.get(r.headers.get("authorization", "").removeprefix("Bearer "))
        if app is None:
            return self._send(
                401,
                {
                    "error": "invalid_token",
                    "error_description": "Token signature verification failed",
                },
            )
        if r.method == "POST" and r.path == "/v2/checkout/orders":
            return self._create(r, app)
        match = re.fullmatch(r"/v2/checkout/orders/([^/]+)(/capture)?", r.path)
        if match:
            order = self.fake.orders.get(match[1])
            if order is None or order["_app"] is not app:
                return self._send(
                    404,
                    _error(
                        "RESOURCE_NOT_FOUND",
                        "The specified resource does not exist.",
                        "INVALID_RESOURCE_ID",
                        "Specified resource ID does not exist.",
                    ),
                )
            if match[2] and r.method == "POST":
                return self._capture(order)
            return self._send(200, FakePayPal._public(order))
        match = re.fullmatch(r"/v1/notifications/webhooks/([^/]+)", r.path)
        if match and r.method == "GET":
            if match[1] != app.webhook_id:
                return self._send(
                    404,
                    _error(
                        "INVALID_RESOURCE_ID",
                        "Webhook id does not exist",
                        "INVALID_RESOURCE_ID",
                        "Webhook id does not exist",
                    ),
                )
            return self._send(
                200,
                {
                    "id": app.webhook_id,
                    "url": app.webhook_url,
                    "event_types": [
                        {"name": "CHECKOUT.ORDER.APPROVED"},
                        {"name": "PAYMENT.CAPTURE.COMPLETED"},
                    ],
                },
            )
        if r.method == "POST" and r.path == "/v1/notifications/verify-webhook-signature":
            return self._verify(r)
        return self._send(404, _error("RESOURCE_NOT_FOUND", f"No route {r.method} {r.path}"))

    def _token(self, r: Recorded) -> None:
        auth = r.headers.get("authorization", "").removeprefix("Basic ")
        try:
            client_id, _, secret = base64.b64decode(auth).decode().partition(":")
        except ValueError:
            client_id = secret = ""
        app = next(
            (a for a in self.fake.apps if (a.client_id, a.client_secret) == (client_id, secret)),
            None,
        )
        if app is None or (r.body or {}).get("grant_type") != "client_credentials":
            return self._send(
                401,
                {"error": "invalid_client", "error_description": "Client Authentication failed"},
            )
        token = "A21AA" + secrets.token_urlsafe(24)
        self.fake.tokens[token] = app
        return self._send(
            200,
            {
                "scope": "https://uri.paypal.com/services/payments/payment",
                "access_token": token,
                "token_type": "Bearer",
                "app_id": "APP-80W284485P519543T",
                "expires_in": 32400,
                "nonce": secrets.token_hex(8),
            },
        )

    def _create(self, r: Recorded, app: _App) -> None:
        request_id = r.headers.get("paypal-request-id")
        if request_id and request_id in self.fake._by_request_id:
            existing = self.fake.orders[self.fake._by_request_id[request_id]]
            return self._send(200, FakePayPal._public(existing))
        body = r.body if isinstance(r.body, dict) else {}
        if body.get("intent") not in ("CAPTURE", "AUTHORIZE"):
            return self._send(
                400,
                _error("INVALID_REQUEST", "Request is not well-formed.", "INVALID_PARAMETER_VALUE"),
            )
        units = body.get("purchase_units") or []
        if not units:
            return self._send(
                400,
                _error(
                    "INVALID_REQUEST", "Request is not well-formed.", "MISSING_REQUIRED_PARAMETER"
                ),
            )
        amount = units[0].get("amount") or {}
        currency, value = amount.get("currency_code"), str(amount.get("value"))
        if currency not in CURRENCIES:
            return self._send(
                422,
                _error(
                    "UNPROCESSABLE_ENTITY",
                    "The requested action could not be performed.",
                    "CURRENCY_NOT_SUPPORTED",
                ),
            )
        decimals = r"" if currency in NO_DECIMALS else r"(\.\d{1,2})?"
        if not re.fullmatch(r"\d{1,10}" + decimals, value):
            return self._send(
                422,
                _error(
                    "UNPROCESSABLE_ENTITY",
                    "The requested action could not be performed.",
                    "DECIMAL_PRECISION",
                    "Only two decimal place precision is supported.",
                ),
            )
        n = self.fake._next()
        order_id = f"5O190127TN36{n:05d}"
        context = ((body.get("payment_source") or {}).get("paypal") or {}).get("experience_context")
        rel = "payer-action" if context is not None else "approve"
        order = {
            "id": order_id,
            "intent": body["intent"],
            "status": "PAYER_ACTION_REQUIRED" if context is not None else "CREATED",
            "purchase_units": units,
            "links": [
                {
                    "href": f"{self.fake.url}/v2/checkout/orders/{order_id}",
                    "rel": "self",
                    "method": "GET",
                },
                {
                    "href": f"{self.fake.url}/checkoutnow?token={order_id}",
                    "rel": rel,
                    "method": "GET",
                },
            ],
            "_app": app,
            "_request": body,
        }
        self.fake.orders[order_id] = order
        if request_id:
            self.fake._by_request_id[request_id] = order_id
        return self._send(200, FakePayPal._public(order))

    def _capture(self, order: dict[str, Any]) -> None:
        if order["status"] == "COMPLETED":
            return self._send(
                422,
                _error(
                    "UNPROCESSABLE_ENTITY",
                    "The requested action could not be performed.",
                    "ORDER_ALREADY_CAPTURED",
                    "Order already captured.",
                ),
            )
        if order["status"] != "APPROVED":
            return self._send(
                422,
                _error(
                    "UNPROCESSABLE_ENTITY",
                    "The requested action could not be performed.",
                    "ORDER_NOT_APPROVED",
                    "Payer has not yet approved the Order for payment.",
                ),
            )
        if self.fake.decline_captures:
            return self._send(
                422,
                _error(
                    "UNPROCESSABLE_ENTITY",
                    "The requested action could not be performed.",
                    "INSTRUMENT_DECLINED",
                    "The instrument presented was declined by the processor or bank.",
                ),
            )
        unit = order["purchase_units"][0]
        capture = {
            "id": f"3C679366HH9{self.fake._next():06d}",
            "status": "COMPLETED",
            "amount": dict(unit["amount"]),
            "final_capture": True,
            "custom_id": unit.get("custom_id"),
            "create_time": datetime.now(UTC).isoformat(),
        }
        unit["payments"] = {"captures": [capture]}
        order["status"] = "COMPLETED"
        return self._send(201, FakePayPal._public(order))

    def _verify(self, r: Recorded) -> None:
        body = r.body if isinstance(r.body, dict) else {}
        required = (
            "auth_algo",
            "cert_url",
            "transmission_id",
            "transmission_sig",
            "transmission_time",
            "webhook_id",
            "webhook_event",
        )
        if any(not body.get(name) for name in required):
            return self._send(
                400,
                _error(
                    "VALIDATION_ERROR",
                    "Invalid request - see details",
                    "MISSING_REQUIRED_PARAMETER",
                ),
            )
        known = self.fake.deliveries.get(body["transmission_id"])
        ok = False
        if known is not None:
            delivery, webhook_id = known
            expected = self.fake._sign(
                body["transmission_id"], body["transmission_time"], webhook_id, delivery.body
            )
            ok = (
                body["webhook_id"] == webhook_id
                and hmac.compare_digest(expected, str(body["transmission_sig"]))
                and body["transmission_time"] == delivery.headers["paypal-transmission-time"]
                and body["webhook_event"] == json.loads(delivery.body)
            )
        return self._send(200, {"verification_status": "SUCCESS" if ok else "FAILURE"})
