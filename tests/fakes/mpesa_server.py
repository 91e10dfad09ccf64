"""A local server speaking the parts of Safaricom's Daraja API BizBot uses, for tests.

OAuth (`GET /oauth/v1/generate`), the STK push (`POST /mpesa/stkpush/v1/processrequest`) and
the STK push query (`POST /mpesa/stkpushquery/v1/query`), checking the Basic credentials, the
bearer token and the Password (base64 of shortcode + passkey + timestamp) like Daraja does.
Production code runs unchanged with the provider's base URL pointed at `server.url`:

    with FakeMpesa() as mpesa:
        mpesa.add_app(consumer_key="ck", consumer_secret="cs", shortcode="174379", passkey="pk")
        ...  # the adapter pushes; then the customer "pays" on their phone:
        callback = mpesa.pay(checkout_id)           # or mpesa.cancel(checkout_id)
        client.post(callback.url, content=callback.body, headers=callback.headers)

Until `pay`/`cancel`, a query answers Daraja's "The transaction is being processed" error.
Every request is kept in `requests`; errors use Daraja's `{requestId, errorCode, errorMessage}`.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Recorded:
    """One request the server received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names in lower case
    body: Any


@dataclass(frozen=True)
class Delivery:
    """A callback as Daraja would POST it to the CallBackURL."""

    url: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Push:
    """One STK push the fake accepted."""

    checkout_id: str
    merchant_request_id: str
    request: dict[str, Any]
    result_code: int | None = None  # None while the customer has not answered
    result_desc: str = ""
    receipt: str | None = None


@dataclass
class _App:
    consumer_key: str
    consumer_secret: str
    shortcode: str
    passkey: str


@dataclass
class FakeMpesa:
    """The server: `with FakeMpesa() as mpesa:` binds 127.0.0.1 on a free port."""

    apps: list[_App] = field(default_factory=list)
    tokens: dict[str, _App] = field(default_factory=dict)
    pushes: dict[str, Push] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _httpd: ThreadingHTTPServer | None = None

    # --- set-up -----------------------------------------------------------------------------

    def add_app(
        self,
        *,
        consumer_key: str,
        consumer_secret: str,
        shortcode: str = "174379",
        passkey: str = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919",
    ) -> None:
        """A Daraja app allowed to push for `shortcode` with `passkey`."""
        self.apps.append(_App(consumer_key, consumer_secret, shortcode, passkey))

    @property
    def url(self) -> str:
        """The base URL to use instead of https://sandbox.safaricom.co.ke."""
        assert self._httpd is not None, "the fake M-Pesa server is not running"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def sent(self, path: str) -> list[Any]:
        """Bodies of the POSTs to `path`, in order."""
        return [r.body for r in self.requests if r.method == "POST" and r.path == path]

    # --- the customer's phone ---------------------------------------------------------------

    def pay(self, checkout_id: str, *, receipt: str = "NLJ7RT61SV") -> Delivery:
        """The customer enters their PIN: the push succeeds; returns Daraja's callback."""
        push = self.pushes[checkout_id]
        push.result_code, push.result_desc = 0, "The service request is processed successfully."
        push.receipt = receipt
        return self._callback(push)

    def cancel(self, checkout_id: str) -> Delivery:
        """The customer cancels the prompt (ResultCode 1032); returns Daraja's callback."""
        push = self.pushes[checkout_id]
        push.result_code, push.result_desc = 1032, "Request cancelled by user"
        return self._callback(push)

    def fail(self, checkout_id: str) -> Delivery:
        """The customer's balance is too low (ResultCode 1); returns Daraja's callback."""
        push = self.pushes[checkout_id]
        push.result_code, push.result_desc = 1, "The balance is insufficient for the transaction."
        return self._callback(push)

    def _callback(self, push: Push) -> Delivery:
        callback: dict[str, Any] = {
            "MerchantRequestID": push.merchant_request_id,
            "CheckoutRequestID": push.checkout_id,
            "ResultCode": push.result_code,
            "ResultDesc": push.result_desc,
        }
        if push.result_code == 0:
            callback["CallbackMetadata"] = {
                "Item": [
                    {"Name": "Amount", "Value": float(push.request["Amount"])},
                    {"Name": "MpesaReceiptNumber", "Value": push.receipt},
                    {"Name": "TransactionDate", "Value": 20191219102115},
                    {"Name": "PhoneNumber", "Value": int(push.request["PhoneNumber"])},
                ]
            }
        body = json.dumps({"Body": {"stkCallback": callback}}).encode()
        return Delivery(
            url=push.request["CallBackURL"],
            headers={"content-type": "application/json"},
            body=body,
        )

    # --- life cycle -------------------------------------------------------------------------

    def start(self) -> FakeMpesa:
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

    def __enter__(self) -> FakeMpesa:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- behaviour --------------------------------------------------------------------------

    def _next(self) -> int:
        with self._lock:
            return next(self._ids)

    def _app_for(self, shortcode: str, password: str, timestamp: str) -> _App | None:
        for app in self.apps:
            expected = base64.b64encode(f"{app.shortcode}{app.passkey}{timestamp}".encode())
            if app.shortcode == shortcode and expected.decode() == password:
                return app
        return None


class _Handler(BaseHTTPRequestHandler):
    fake: FakeMpesa

    def log_message(self, *args: Any) -> None:
        return

    def _send(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, code: str, message: str) -> None:
        self._send(
            status,
            {"requestId": secrets.token_hex(6), "errorCode": code, "errorMessage": message},
        )

    def _record(self, method: str) -> Recorded:
        parts = urlsplit(self.path)
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        record = Recorded(
            method,
            parts.path,
            {k: v[0] for k, v in parse_qs(parts.query).items()},
            {k.lower(): v for k, v in self.headers.items()},
            body,
        )
        self.fake.requests.append(record)
        return record

    def do_GET(self) -> None:
        record = self._record("GET")
        if record.path != "/oauth/v1/generate":
            return self._error(404, "404.001.01", "Resource not found")
        if record.query.get("grant_type") != "client_credentials":
            return self._error(400, "400.008.02", "Invalid grant type passed")
        auth = record.headers.get("authorization", "")
        try:
            key, _, secret = base64.b64decode(auth.removeprefix("Basic ")).decode().partition(":")
        except ValueError:
            key = secret = ""
        app = next(
            (a for a in self.fake.apps if (a.consumer_key, a.consumer_secret) == (key, secret)),
            None,
        )
        if app is None:
            return self._error(400, "400.008.01", "Invalid Authentication passed")
        token = secrets.token_urlsafe(20)
        self.fake.tokens[token] = app
        return self._send(200, {"access_token": token, "expires_in": "3599"})

    def do_POST(self) -> None:
        record = self._record("POST")
        token = record.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if token not in self.fake.tokens:
            return self._error(404, "404.001.03", "Invalid Access Token")
        body = record.body if isinstance(record.body, dict) else {}
        if record.path == "/mpesa/stkpush/v1/processrequest":
            return self._push(body)
        if record.path == "/mpesa/stkpushquery/v1/query":
            return self._query(body)
        return self._error(404, "404.001.01", "Resource not found")

    def _check_password(self, body: dict[str, Any]) -> bool:
        timestamp = str(body.get("Timestamp") or "")
        if not re.fullmatch(r"\d{14}", timestamp):
            self._error(400, "400.002.02", "Bad Request - Invalid Timestamp")
            return False
        app = self.fake._app_for(
            str(body.get("BusinessShortCode")), str(body.get("Password")), timestamp
        )
        if app is None:
            self._error(500, "500.001.1001", "Wrong credentials")
            return False
        return True

    def _push(self, body: dict[str, Any]) -> None:
        if not self._check_password(body):
            return None
        amount = body.get("Amount")
        if not isinstance(amount, int) or amount < 1:
            return self._error(400, "400.002.02", "Bad Request - Invalid Amount")
        for name in ("PartyA", "PhoneNumber"):
            if not re.fullmatch(r"254\d{9}", str(body.get(name) or "")):
                return self._error(400, "400.002.02", f"Bad Request - Invalid {name}")
        if not str(body.get("CallBackURL") or "").startswith(("http://", "https://")):
            return self._error(400, "400.002.02", "Bad Request - Invalid CallBackURL")
        if body.get("TransactionType") not in ("CustomerPayBillOnline", "CustomerBuyGoodsOnline"):
            return self._error(400, "400.002.02", "Bad Request - Invalid TransactionType")
        n = self.fake._next()
        push = Push(
            checkout_id=f"ws_CO_191220191020363925{n:04d}",
            merchant_request_id=f"29115-34620561-{n}",
            request=body,
        )
        self.fake.pushes[push.checkout_id] = push
        return self._send(
            200,
            {
                "MerchantRequestID": push.merchant_request_id,
                "CheckoutRequestID": push.checkout_id,
                "ResponseCode": "0",
                "ResponseDescription": "Success. Request accepted for processing",
                "CustomerMessage": "Success. Request accepted for processing",
            },
        )

    def _query(self, body: dict[str, Any]) -> None:
        if not self._check_password(body):
            return None
        push = self.fake.pushes.get(str(body.get("CheckoutRequestID")))
        if push is None:
            return self._error(400, "400.002.02", "Bad Request - Invalid CheckoutRequestID")
        if push.result_code is None:
            return self._error(500, "500.001.1001", "The transaction is being processed")
        return self._send(
            200,
            {
                "ResponseCode": "0",
                "ResponseDescription": "The service request has been accepted successsfully",
                "MerchantRequestID": push.merchant_request_id,
                "CheckoutRequestID": push.checkout_id,
                "ResultCode": str(push.result_code),
                "ResultDesc": push.result_desc,
            },
        )
