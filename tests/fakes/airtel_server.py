"""A local server speaking the parts of Airtel Africa's Open API BizBot uses, for tests.

OAuth (`POST /auth/oauth2/token`), the collection USSD push (`POST /merchant/v1/payments/`,
with its X-Country / X-Currency headers) and the transaction enquiry
(`GET /standard/v1/payments/{id}`). Production code runs unchanged with the provider's base
URL pointed at `server.url`:

    with FakeAirtel() as airtel:
        airtel.add_app(client_id="id", client_secret="secret", country="UG")
        ...  # the adapter pushes; then the customer approves on their phone:
        callback = airtel.pay(transaction_id)     # or airtel.fail(transaction_id)
        client.post(webhook_url, content=callback.body, headers=callback.headers)

An app made with `callback_secret` gets "authenticated callbacks" (a `hash` field). Until
`pay`/`fail`, an enquiry answers TIP (in progress). Errors use Airtel's `status` object.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

CURRENCY = {"UG": "UGX", "KE": "KES", "TZ": "TZS", "ZM": "ZMW", "RW": "RWF", "MW": "MWK"}


@dataclass(frozen=True)
class Recorded:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: Any


@dataclass(frozen=True)
class Delivery:
    """A callback as Airtel would POST it to the app's callback URL."""

    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class _App:
    client_id: str
    client_secret: str
    country: str
    callback_secret: str | None = None


@dataclass
class Collection:
    """One USSD push the fake accepted."""

    id: str
    request: dict[str, Any]
    app: _App
    status: str = "TIP"
    message: str = "Transaction in progress"
    airtel_money_id: str | None = None


@dataclass
class FakeAirtel:
    """The server: `with FakeAirtel() as airtel:` binds 127.0.0.1 on a free port."""

    apps: list[_App] = field(default_factory=list)
    tokens: dict[str, _App] = field(default_factory=dict)
    collections: dict[str, Collection] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    _httpd: ThreadingHTTPServer | None = None

    # --- set-up -----------------------------------------------------------------------------

    def add_app(
        self,
        *,
        client_id: str,
        client_secret: str,
        country: str = "UG",
        callback_secret: str | None = None,
    ) -> None:
        """An Airtel Money merchant app for `country`."""
        self.apps.append(_App(client_id, client_secret, country, callback_secret))

    @property
    def url(self) -> str:
        """The base URL to use instead of https://openapiuat.airtel.africa."""
        assert self._httpd is not None, "the fake Airtel server is not running"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def sent(self, method: str, prefix: str) -> list[Recorded]:
        """The requests with `method` whose path starts with `prefix`, in order."""
        return [r for r in self.requests if r.method == method and r.path.startswith(prefix)]

    # --- the customer's phone ---------------------------------------------------------------

    def pay(self, transaction_id: str) -> Delivery:
        """The customer approves with their PIN (TS); returns Airtel's callback."""
        c = self.collections[transaction_id]
        amount = c.request["transaction"]["amount"]
        c.status, c.airtel_money_id = "TS", f"MP210603.1234.L{secrets.randbelow(99999):05d}"
        c.message = (
            f"Paid {c.request['transaction']['currency']} {amount:,} to SUNRISE BAKERY, "
            f"Trans ID {c.airtel_money_id}."
        )
        return self._callback(c)

    def fail(self, transaction_id: str) -> Delivery:
        """The customer's PIN is wrong or balance too low (TF); returns Airtel's callback."""
        c = self.collections[transaction_id]
        c.status, c.message = "TF", "Transaction failed: insufficient funds"
        return self._callback(c)

    def _callback(self, c: Collection) -> Delivery:
        transaction = {
            "id": c.id,
            "message": c.message,
            "status_code": c.status,
            "airtel_money_id": c.airtel_money_id or "",
        }
        payload: dict[str, Any] = {"transaction": transaction}
        if c.app.callback_secret:
            message = json.dumps(transaction, separators=(",", ":")).encode()
            digest = hmac.new(c.app.callback_secret.encode(), message, hashlib.sha256).digest()
            payload["hash"] = base64.b64encode(digest).decode()
        return Delivery(
            headers={"content-type": "application/json"}, body=json.dumps(payload).encode()
        )

    # --- life cycle -------------------------------------------------------------------------

    def start(self) -> FakeAirtel:
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

    def __enter__(self) -> FakeAirtel:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _status(code: str, message: str, response_code: str, *, success: bool) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "result_code": "ESB000010" if success else "ESB000001",
        "response_code": response_code,
        "success": success,
    }


class _Handler(BaseHTTPRequestHandler):
    fake: FakeAirtel

    def log_message(self, *args: Any) -> None:
        return

    def _send(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _fail(self, http: int, message: str, response_code: str) -> None:
        self._send(
            http,
            {"data": {}, "status": _status(str(http), message, response_code, success=False)},
        )

    def _record(self, method: str) -> Recorded:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        record = Recorded(
            method, urlsplit(self.path).path, {k.lower(): v for k, v in self.headers.items()}, body
        )
        self.fake.requests.append(record)
        return record

    def do_GET(self) -> None:
        self._route(self._record("GET"))

    def do_POST(self) -> None:
        self._route(self._record("POST"))

    def _route(self, r: Recorded) -> None:
        if r.method == "POST" and r.path == "/auth/oauth2/token":
            return self._token(r)
        app = self.fake.tokens.get(r.headers.get("authorization", "").removeprefix("Bearer "))
        if app is None:
            return self._send(
                401, {"error_description": "Access token is invalid", "error": "invalid_token"}
            )
        country, currency = r.headers.get("x-country"), r.headers.get("x-currency")
        if country != app.country or currency != CURRENCY.get(app.country):
            return self._fail(400, "Invalid country or currency header", "DP00800001000")
        if r.method == "POST" and r.path == "/merchant/v1/payments/":
            return self._collect(r, app)
        match = re.fullmatch(r"/standard/v1/payments/([^/]+)", r.path)
        if r.method == "GET" and match:
            c = self.fake.collections.get(match[1])
            if c is None or c.app is not app:
                return self._fail(404, "Transaction not found", "DP00800001013")
            return self._send(
                200,
                {
                    "data": {
                        "transaction": {
                            "airtel_money_id": c.airtel_money_id or "",
                            "id": c.id,
                            "message": c.message,
                            "status": c.status,
                        }
                    },
                    "status": _status("200", "SUCCESS", "DP00800001001", success=True),
                },
            )
        return self._fail(404, f"No route {r.method} {r.path}", "DP00800001000")

    def _token(self, r: Recorded) -> None:
        body = r.body if isinstance(r.body, dict) else {}
        app = next(
            (
                a
                for a in self.fake.apps
                if (a.client_id, a.client_secret)
                == (body.get("client_id"), body.get("client_secret"))
            ),
            None,
        )
        if app is None or body.get("grant_type") != "client_credentials":
            return self._send(
                401,
                {"error_description": "Invalid client authentication", "error": "invalid_client"},
            )
        token = secrets.token_urlsafe(24)
        self.fake.tokens[token] = app
        return self._send(200, {"access_token": token, "expires_in": "180", "token_type": "bearer"})

    def _collect(self, r: Recorded, app: _App) -> None:
        body = r.body if isinstance(r.body, dict) else {}
        transaction = body.get("transaction") or {}
        subscriber = body.get("subscriber") or {}
        if not isinstance(transaction.get("amount"), int | float) or transaction["amount"] <= 0:
            return self._fail(400, "Invalid amount", "DP00800001003")
        if not re.fullmatch(r"\d{7,10}", str(subscriber.get("msisdn") or "")):
            return self._fail(400, "Invalid msisdn: do not send the country code", "DP00800001004")
        tx_id = str(transaction.get("id") or "")
        if not tx_id:
            return self._fail(400, "Transaction id is mandatory", "DP00800001000")
        if tx_id in self.fake.collections:
            return self._fail(400, "Duplicate transaction id", "DP00800001009")
        self.fake.collections[tx_id] = Collection(tx_id, body, app)
        return self._send(
            200,
            {
                "data": {"transaction": {"id": tx_id, "status": "SUCCESS"}},
                "status": _status("200", "SUCCESS", "DP00800001006", success=True),
            },
        )
