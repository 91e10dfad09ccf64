"""A local server speaking the parts of Flutterwave's v3 API BizBot uses, for tests.

Standard payments (`POST /v3/payments` → hosted link), Verify Transaction by id and by
reference, and balances, with Flutterwave's envelope `{"status": "success"|"error", "message",
"data"}` and Bearer secret-key auth. Amounts are in the major unit, as Flutterwave sends them.
Webhooks carry `verif-hash`: the secret hash configured in the dashboard.

    with FakeFlutterwave(secret_key="FLWSECK_TEST-1", secret_hash="h1") as fake:
        ...                                   # BizBot creates a payment link
        delivery = fake.pay(tx_ref)           # the customer pays: charge.completed
        client.post(path, content=delivery.body, headers=delivery.headers)
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.stripe_server import Delivery


@dataclass
class FlutterwaveState:
    """Payments by tx_ref, transactions by id, and every request received."""

    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    transactions: dict[int, dict[str, Any]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)


class FakeFlutterwave:
    """The fake Flutterwave API; a context manager that starts and stops it."""

    def __init__(
        self,
        *,
        secret_key: str = "FLWSECK_TEST-fake-X",  # noqa: S107
        secret_hash: str = "fake-secret-hash",  # noqa: S107
    ) -> None:
        self.secret_key = secret_key
        self.secret_hash = secret_hash
        self.state = FlutterwaveState()
        self._ids = itertools.count(285959875)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The API base URL (the provider's `base_url`)."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeFlutterwave:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- what tests do ----------------------------------------------------------------------

    def pay(self, tx_ref: str, *, amount: float | None = None) -> Delivery:
        """The customer pays the link (`amount` in the major unit pretends another sum was
        taken); returns the signed `charge.completed` webhook."""
        payment = self.state.payments[tx_ref]
        tx_id = next(self._ids)
        transaction = {
            "id": tx_id,
            "tx_ref": tx_ref,
            "flw_ref": f"FLW-MOCK-{tx_id}",
            "amount": payment["amount"] if amount is None else amount,
            "charged_amount": payment["amount"] if amount is None else amount,
            "currency": payment["currency"],
            "status": "successful",
            "processor_response": "Approved by Financial Institution",
            "payment_type": "card",
            "customer": payment["customer"],
        }
        self.state.transactions[tx_id] = transaction
        return self.webhook(transaction)

    def webhook(self, data: dict[str, Any], *, event: str = "charge.completed") -> Delivery:
        """A `verif-hash`-carrying webhook with `data`."""
        body = json.dumps({"event": event, "data": data, "event.type": "CARD_TRANSACTION"})
        return Delivery(
            body=body.encode(),
            headers={"Content-Type": "application/json", "verif-hash": self.secret_hash},
        )

    def created(self) -> list[dict[str, Any]]:
        """Every payment BizBot created, oldest first."""
        return list(self.state.payments.values())

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
                self._send(status, {"status": "error", "message": message, "data": None})

            def _found(self, transaction: dict[str, Any] | None) -> None:
                if transaction is None:
                    return self._fail(400, "No transaction was found for this id")
                return self._send(
                    200,
                    {"status": "success", "message": "Transaction fetched successfully",
                     "data": transaction},
                )  # fmt: skip

            def _handle(self, method: str) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"null") if length else None
                fake.state.requests.append({"method": method, "path": parts.path, "body": body})
                key = (self.headers.get("authorization") or "").removeprefix("Bearer ").strip()
                if key != fake.secret_key:
                    return self._fail(401, "Invalid authorization key")
                path = parts.path
                if path == "/v3/payments" and method == "POST":
                    return self._create(body or {})
                if path == "/v3/transactions/verify_by_reference" and method == "GET":
                    tx_ref = (parse_qs(parts.query).get("tx_ref") or [""])[0]
                    found = [t for t in fake.state.transactions.values() if t["tx_ref"] == tx_ref]
                    return self._found(found[-1] if found else None)
                segments = path.strip("/").split("/")
                if (
                    method == "GET"
                    and len(segments) == 4
                    and segments[:2] == ["v3", "transactions"]
                    and segments[3] == "verify"
                    and segments[2].isdigit()
                ):
                    return self._found(fake.state.transactions.get(int(segments[2])))
                if path == "/v3/balances" and method == "GET":
                    return self._send(
                        200,
                        {"status": "success", "message": "Wallet balances fetched",
                         "data": [{"currency": "NGN", "available_balance": 0,
                                   "ledger_balance": 0}]},
                    )  # fmt: skip
                return self._fail(404, f"Route not found: {method} {path}")

            def _create(self, body: dict[str, Any]) -> None:
                for name in ("tx_ref", "amount", "redirect_url"):
                    if not body.get(name):
                        return self._fail(400, f"{name} is required")
                if not (body.get("customer") or {}).get("email"):
                    return self._fail(400, "customer.email is required")
                fake.state.payments[body["tx_ref"]] = {
                    "tx_ref": body["tx_ref"],
                    "amount": float(body["amount"]),
                    "currency": body.get("currency") or "NGN",
                    "customer": body["customer"],
                    "redirect_url": body["redirect_url"],
                    "meta": body.get("meta") or {},
                }
                return self._send(
                    200,
                    {"status": "success", "message": "Hosted Link",
                     "data": {"link": f"{fake.url}/hosted/pay/{body['tx_ref']}"}},
                )  # fmt: skip

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

        return Handler
