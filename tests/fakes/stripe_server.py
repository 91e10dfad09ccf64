"""A local server speaking the parts of Stripe's API BizBot uses, for tests.

Checkout Sessions (create, retrieve; payment mode, and subscription mode for billing with
`subscribe`, `update_subscription`, `cancel_subscription`, `invoice_payment_failed` and
billing-portal sessions), PaymentIntents (retrieve), the current account, a hosted
"checkout page" with a Pay button (for browser tests) and signed webhooks. Production code
runs unchanged with the provider's `base_url` pointed at `server.url`:

    with FakeStripe(secret_key="sk_test_1", webhook_secret="whsec_1") as fake:
        ...  # BizBot creates a Checkout Session
        delivery = fake.pay(session_id)          # the customer pays
        client.post(path, content=delivery.body, headers=delivery.headers)

`pay` returns the `checkout.session.completed` webhook signed the way Stripe signs
(`Stripe-Signature: t=…,v1=HMAC-SHA256(secret, f"{t}.{body}")`); `deliver(url)` POSTs one.
Requests are form-encoded with Stripe's bracket notation (`line_items[0][quantity]=1`);
errors use Stripe's `{"error": {"type", "message", "code"}}` shape.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass(frozen=True)
class Delivery:
    """A webhook ready to send: the raw body and its headers."""

    body: bytes
    headers: dict[str, str]

    def deliver(self, url: str) -> int:
        """POST it to `url`; returns the HTTP status."""
        request = urllib.request.Request(  # noqa: S310 (the test gives an http:// URL)
            url, data=self.body, headers=self.headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (http only)
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header value for `body`."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def unflatten(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (`a[b][0][c]=v`) back into nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _lists(root)


def _lists(node: Any) -> Any:
    if isinstance(node, dict):
        if node and all(k.isdigit() for k in node):
            return [_lists(node[k]) for k in sorted(node, key=int)]
        return {k: _lists(v) for k, v in node.items()}
    return node


@dataclass
class StripeState:
    """What the fake knows."""

    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    # Subscription mode (billing): customers, subscriptions and customer-portal sessions.
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    portal_sessions: list[dict[str, Any]] = field(default_factory=list)


class FakeStripe:
    """The fake Stripe API; a context manager that starts and stops it."""

    def __init__(
        self,
        *,
        secret_key: str = "sk_test_fake",  # noqa: S107 (a fake's test key)
        webhook_secret: str = "whsec_fake",  # noqa: S107
        account_name: str = "Sunrise Bakery",
        port: int = 0,  # a fixed port, for an app started before the fake (0: any free one)
    ) -> None:
        self.secret_key = secret_key
        self.webhook_secret = webhook_secret
        self.account_name = account_name
        self.webhook_url: str | None = None  # where the hosted page's Pay button sends events
        self.state = StripeState()
        self.requests: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The API base URL (use as the provider's `base_url`)."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeStripe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _id(self, prefix: str) -> str:
        with self._lock:
            return f"{prefix}_test_{next(self._ids):06d}"

    # --- what tests do ----------------------------------------------------------------------

    def event(
        self, event_type: str, obj: dict[str, Any], *, event_id: str | None = None
    ) -> Delivery:
        """A signed webhook of `event_type` about `obj`."""
        event = {
            "id": event_id or self._id("evt"),
            "object": "event",
            "api_version": "2025-09-30.clover",
            "created": int(time.time()),
            "livemode": False,
            "type": event_type,
            "data": {"object": obj},
        }
        self.state.events.append(event)
        body = json.dumps(event).encode()
        return Delivery(
            body=body,
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": sign(body, self.webhook_secret),
            },
        )

    def pay(
        self, session_id: str, *, amount: int | None = None, currency: str | None = None
    ) -> Delivery:
        """The customer pays the session: it turns paid; returns `checkout.session.completed`.

        `amount` / `currency` pretend Stripe charged something other than the session's total.
        """
        session = self.state.sessions[session_id]
        intent_id = self._id("pi")
        amount = session["amount_total"] if amount is None else amount
        currency = (currency or session["currency"]).lower()
        self.state.intents[intent_id] = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_received": amount,
            "currency": currency,
            "status": "succeeded",
            "metadata": dict(session.get("metadata") or {}),
        }
        session.update(
            payment_status="paid",
            status="complete",
            payment_intent=intent_id,
            amount_total=amount,
            currency=currency,
        )
        return self.event("checkout.session.completed", dict(session))

    def intent_succeeded(self, session_id: str) -> Delivery:
        """`payment_intent.succeeded` for a paid session's PaymentIntent."""
        session = self.state.sessions[session_id]
        return self.event(
            "payment_intent.succeeded", dict(self.state.intents[session["payment_intent"]])
        )

    def created_sessions(self) -> list[dict[str, Any]]:
        """Every Checkout Session BizBot created, oldest first."""
        return list(self.state.sessions.values())

    # --- subscription mode (billing) ----------------------------------------------------------

    def subscribe(self, session_id: str, *, period_days: int = 30) -> list[Delivery]:
        """The customer completes a subscription-mode session: a customer and an active
        subscription exist; returns `checkout.session.completed` then
        `customer.subscription.created`, as Stripe sends them."""
        session = self.state.sessions[session_id]
        customer = session.get("customer") or self._id("cus")
        self.state.customers.setdefault(
            customer, {"id": customer, "object": "customer", "email": session.get("customer_email")}
        )
        sub_id = self._id("sub")
        now = int(time.time())
        price = (session.get("line_items") or [{}])[0].get("price")
        subscription = {
            "id": sub_id,
            "object": "subscription",
            "customer": customer,
            "status": "active",
            "cancel_at_period_end": False,
            "cancel_at": None,
            "metadata": dict((session.get("subscription_data") or {}).get("metadata") or {}),
            "items": {"object": "list", "data": [{
                "id": self._id("si"), "object": "subscription_item",
                "price": {"id": price, "object": "price"}, "quantity": 1,
                "current_period_start": now, "current_period_end": now + period_days * 86400,
            }]},
        }  # fmt: skip
        self.state.subscriptions[sub_id] = subscription
        session.update(customer=customer, subscription=sub_id, status="complete",
                       payment_status="paid")  # fmt: skip
        return [
            self.event("checkout.session.completed", dict(session)),
            self.event("customer.subscription.created", json.loads(json.dumps(subscription))),
        ]

    def update_subscription(self, sub_id: str, **changes: Any) -> Delivery:
        """Change a subscription (status, cancel_at_period_end, price=…); the `.updated` event."""
        subscription = self.state.subscriptions[sub_id]
        if "price" in changes:
            subscription["items"]["data"][0]["price"] = {"id": changes.pop("price"),
                                                         "object": "price"}  # fmt: skip
        subscription.update(changes)
        return self.event("customer.subscription.updated", json.loads(json.dumps(subscription)))

    def cancel_subscription(self, sub_id: str) -> Delivery:
        """The subscription ends now; `customer.subscription.deleted`."""
        subscription = self.state.subscriptions[sub_id]
        subscription.update(status="canceled", cancel_at_period_end=False)
        return self.event("customer.subscription.deleted", json.loads(json.dumps(subscription)))

    def invoice_payment_failed(self, sub_id: str, *, amount_due: int = 2900) -> Delivery:
        """Renewing the subscription failed; `invoice.payment_failed`."""
        subscription = self.state.subscriptions[sub_id]
        invoice = {"id": self._id("in"), "object": "invoice", "customer": subscription["customer"],
                   "subscription": sub_id, "amount_due": amount_due, "currency": "usd",
                   "status": "open", "attempt_count": 1}  # fmt: skip
        return self.event("invoice.payment_failed", invoice)

    def _create_portal_session(self, params: dict[str, Any]) -> dict[str, Any]:
        portal_id = self._id("bps")
        portal = {"id": portal_id, "object": "billing_portal.session",
                  "customer": params.get("customer"), "return_url": params.get("return_url"),
                  "flow": params.get("flow_data"), "url": f"{self.url}/p/session/{portal_id}",
                  "livemode": False}  # fmt: skip
        self.state.portal_sessions.append(portal)
        return portal

    # --- the HTTP side -----------------------------------------------------------------------

    def _create_session(self, params: dict[str, Any]) -> dict[str, Any]:
        items = params.get("line_items") or []
        total = 0
        currency = None
        for item in items:
            price = item.get("price_data") or {}
            total += int(price.get("unit_amount") or 0) * int(item.get("quantity") or 1)
            currency = price.get("currency") or currency
        session_id = self._id("cs")
        session = {
            "id": session_id,
            "object": "checkout.session",
            "amount_total": total,
            "currency": currency,
            "client_reference_id": params.get("client_reference_id"),
            "customer_email": params.get("customer_email"),
            "metadata": params.get("metadata") or {},
            "mode": params.get("mode", "payment"),
            "payment_intent": None,
            "payment_status": "unpaid",
            "status": "open",
            "success_url": params.get("success_url"),
            "cancel_url": params.get("cancel_url"),
            "url": f"{self.url}/c/pay/{session_id}",
            "livemode": False,
        }
        if session["mode"] == "subscription":
            session.update(
                customer=params.get("customer"),
                subscription=None,
                line_items=items,
                subscription_data=params.get("subscription_data"),
            )
        self.state.sessions[session_id] = session
        return session

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def _send(self, status: int, payload: Any, ctype: str = "application/json") -> None:
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", "req_fake")
                self.end_headers()
                self.wfile.write(data)

            def _error(self, status: int, message: str, kind: str = "invalid_request_error"):
                self._send(status, {"error": {"type": kind, "message": message}})

            def _handle(self, method: str) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                params = unflatten(parse_qsl(raw or parts.query, keep_blank_values=True))
                fake.requests.append(
                    {"method": method, "path": parts.path, "params": params,
                     "headers": {k.lower(): v for k, v in self.headers.items()}}
                )  # fmt: skip
                path = parts.path
                if path.startswith("/c/pay/"):
                    return self._hosted(method, path[len("/c/pay/") :])
                key = (self.headers.get("authorization") or "").removeprefix("Bearer ").strip()
                if key != fake.secret_key:
                    return self._error(
                        401,
                        f"Invalid API Key provided: {key[:8]}{'*' * 8}",
                        "invalid_request_error",
                    )
                state = fake.state
                if path == "/v1/checkout/sessions" and method == "POST":
                    return self._send(200, fake._create_session(params))
                if path == "/v1/billing_portal/sessions" and method == "POST":
                    if params.get("customer") not in state.customers:
                        return self._error(404, f"No such customer: '{params.get('customer')}'")
                    return self._send(200, fake._create_portal_session(params))
                match = re.fullmatch(r"/v1/checkout/sessions/([\w]+)", path)
                if match and method == "GET":
                    found = state.sessions.get(match[1])
                    if found is None:
                        return self._error(404, f"No such checkout.session: '{match[1]}'")
                    return self._send(200, found)
                match = re.fullmatch(r"/v1/payment_intents/([\w]+)", path)
                if match and method == "GET":
                    found = state.intents.get(match[1])
                    if found is None:
                        return self._error(404, f"No such payment_intent: '{match[1]}'")
                    return self._send(200, found)
                if path == "/v1/account" and method == "GET":
                    return self._send(
                        200,
                        {"id": "acct_fake", "object": "account", "email": "owner@example.com",
                         "settings": {"dashboard": {"display_name": fake.account_name}},
                         "business_profile": {"name": fake.account_name}},
                    )  # fmt: skip
                return self._error(404, f"Unrecognized request URL ({method}: {path}).")

            def _hosted(self, method: str, session_id: str) -> None:
                session = fake.state.sessions.get(session_id)
                if session is None:
                    return self._send(404, b"No such session", "text/plain")
                if method == "GET":
                    page = (
                        f"<html><body><h1>Pay {session['amount_total']} "
                        f"{session['currency']}</h1><form method='post'>"
                        "<button type='submit'>Pay</button></form></body></html>"
                    )
                    return self._send(200, page.encode(), "text/html")
                if session.get("mode") == "subscription":
                    for delivery in fake.subscribe(session_id):
                        if fake.webhook_url:
                            delivery.deliver(fake.webhook_url)
                    self.send_response(303)
                    self.send_header("Location", session["success_url"])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                delivery = fake.pay(session_id)
                if fake.webhook_url:
                    delivery.deliver(fake.webhook_url)
                self.send_response(303)
                self.send_header("Location", session["success_url"])
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

        return Handler
