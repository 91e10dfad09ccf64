"""A local server speaking the parts of Paystack's API BizBot uses, for tests.

Initialize Transaction, Verify Transaction and Balance, with Paystack's envelope
`{"status": true|false, "message", "data"}` and Bearer secret-key auth. Webhooks are signed
like Paystack signs them: `x-paystack-signature` = hex HMAC-SHA512 of the raw body with the
secret key.

    with FakePaystack(secret_key="sk_test_1") as fake:
        ...                                   # BizBot initializes a transaction
        delivery = fake.pay(reference)        # the customer pays: charge.success, signed
        client.post(path, content=delivery.body, headers=delivery.headers)
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from tests.fakes.stripe_server import Delivery


def sign(body: bytes, secret_key: str) -> str:
    """The `x-paystack-signature` of `body`."""
    return hmac.new(secret_key.encode(), body, hashlib.sha512).hexdigest()


@dataclass
class PaystackState:
    """Transactions by reference, and every request received."""

    transactions: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)


class FakePaystack:
    """The fake Paystack API; a context manager that starts and stops it."""

    def __init__(self, *, secret_key: str = "sk_test_paystack") -> None:  # noqa: S107
        self.secret_key = secret_key
        self.state = PaystackState()
        self._ids = itertools.count(4099260516)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The API base URL (the provider's `base_url`)."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakePaystack:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- what tests do ----------------------------------------------------------------------

    def charge_success(self, reference: str, **overrides: Any) -> Delivery:
        """A signed `charge.success` about `reference` (the transaction itself is unchanged)."""
        tx = self.state.transactions[reference]
        data = {
            "id": tx["id"],
            "domain": "test",
            "status": "success",
            "reference": reference,
            "amount": tx["amount"],
            "currency": tx["currency"],
            "gateway_response": "Successful",
            "paid_at": datetime.now(UTC).isoformat(),
            "channel": "card",
            "customer": {"email": tx["email"]},
            "metadata": tx.get("metadata") or {},
            **overrides,
        }
        body = json.dumps({"event": "charge.success", "data": data}).encode()
        return Delivery(
            body=body,
            headers={
                "Content-Type": "application/json",
                "x-paystack-signature": sign(body, self.secret_key),
            },
        )

    def pay(self, reference: str, *, amount: int | None = None) -> Delivery:
        """The customer pays (`amount` pretends a different sum was taken): charge.success."""
        tx = self.state.transactions[reference]
        tx["status"] = "success"
        if amount is not None:
            tx["amount"] = amount
        return self.charge_success(reference)

    def initialized(self) -> list[dict[str, Any]]:
        """Every transaction BizBot initialized, oldest first."""
        return list(self.state.transactions.values())

    # --- the HTTP side -----------------------------------------------------------------------

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def _send(self, status: int, payload: Any) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _fail(self, status: int, message: str) -> None:
                self._send(status, {"status": False, "message": message})

            def _handle(self, method: str) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"null") if length else None
                fake.state.requests.append({"method": method, "path": parts.path, "body": body})
                key = (self.headers.get("authorization") or "").removeprefix("Bearer ").strip()
                if key != fake.secret_key:
                    return self._fail(401, "Invalid key")
                if parts.path == "/transaction/initialize" and method == "POST":
                    return self._initialize(body or {})
                if parts.path.startswith("/transaction/verify/") and method == "GET":
                    reference = unquote(parts.path[len("/transaction/verify/") :])
                    tx = fake.state.transactions.get(reference)
                    if tx is None:
                        return self._fail(400, "Transaction reference not found")
                    data = {k: v for k, v in tx.items() if k not in ("email",)}
                    data["customer"] = {"email": tx["email"]}
                    data["gateway_response"] = (
                        "Successful"
                        if tx["status"] == "success"
                        else "The transaction was not completed"
                    )
                    return self._send(
                        200, {"status": True, "message": "Verification successful", "data": data}
                    )
                if parts.path == "/balance" and method == "GET":
                    return self._send(
                        200,
                        {"status": True, "message": "Balances retrieved",
                         "data": [{"currency": "NGN", "balance": 0}]},
                    )  # fmt: skip
                return self._fail(404, f"Route not found: {method} {parts.path}")

            def _initialize(self, body: dict[str, Any]) -> None:
                for name in ("email", "amount"):
                    if not body.get(name):
                        return self._fail(400, f"{name.capitalize()} is required")
                if not str(body["amount"]).isdigit():
                    return self._fail(400, "Invalid Amount Sent")
                reference = body.get("reference") or f"ref{next(fake._ids)}"
                if reference in fake.state.transactions:
                    return self._fail(400, "Duplicate Transaction Reference")
                access_code = f"ac_{next(fake._ids)}"
                fake.state.transactions[reference] = {
                    "id": next(fake._ids),
                    "reference": reference,
                    "amount": int(body["amount"]),
                    "currency": body.get("currency") or "NGN",
                    "email": body["email"],
                    "status": "abandoned",
                    "metadata": body.get("metadata") or {},
                    "callback_url": body.get("callback_url"),
                }
                return self._send(
                    200,
                    {
                        "status": True,
                        "message": "Authorization URL created",
                        "data": {
                            "authorization_url": f"{fake.url}/checkout/{access_code}",
                            "access_code": access_code,
                            "reference": reference,
                        },
                    },
                )

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

        return Handler
