"""A local server speaking the parts of the Binance Pay merchant API BizBot uses, for tests.

Create order v3 (`POST /binancepay/openapi/v3/order`), query order v2
(`POST /binancepay/openapi/v2/order/query`) and the webhook certificates
(`POST /binancepay/openapi/certificates`), each checking the HMAC-SHA512 request signature
(BinancePay-Timestamp / -Nonce / -Certificate-SN / -Signature) like Binance does. Webhooks are
signed with the fake's own RSA key, whose public half the certificates call hands out:

    with FakeBinance() as binance:
        binance.add_merchant(api_key="key", secret_key="secret")
        ...  # the adapter creates an order; then the customer pays in the Binance app:
        delivery = binance.pay(prepay_id)       # a signed PAY / PAY_SUCCESS webhook
        client.post(webhook_url, content=delivery.body, headers=delivery.headers)

Answers use Binance's `{status, code, data, errorMessage}` envelope.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import re
import secrets
import string
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

CURRENCIES = {"USDT", "USDC", "FDUSD", "BNB", "BTC", "ETH"}


@dataclass(frozen=True)
class Recorded:
    """One request the server received."""

    path: str
    headers: dict[str, str]  # names in lower case
    body: Any


@dataclass(frozen=True)
class Delivery:
    """A webhook as Binance Pay would POST it to the order's webhookUrl."""

    url: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class FakeBinance:
    """The server: `with FakeBinance() as binance:` binds 127.0.0.1 on a free port."""

    merchants: dict[str, str] = field(default_factory=dict)  # api key -> secret key
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)  # prepayId -> order
    requests: list[Recorded] = field(default_factory=list)
    _key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _httpd: ThreadingHTTPServer | None = None

    # --- set-up -----------------------------------------------------------------------------

    def add_merchant(self, *, api_key: str, secret_key: str) -> None:
        """A merchant whose API key and secret may call the API."""
        self.merchants[api_key] = secret_key

    @property
    def url(self) -> str:
        """The base URL to use instead of https://bpay.binanceapi.com."""
        assert self._httpd is not None, "the fake Binance Pay server is not running"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def public_pem(self) -> str:
        return (
            self._key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    @property
    def cert_serial(self) -> str:
        """The BinancePay-Certificate-SN of the webhooks: MD5 of the public key."""
        return hashlib.md5(self.public_pem.encode()).hexdigest()  # noqa: S324 (Binance's choice)

    def sent(self, path: str) -> list[Any]:
        """Bodies of the requests to `path`, in order."""
        return [r.body for r in self.requests if r.path == path]

    # --- the customer in the Binance app ----------------------------------------------------

    def pay(self, prepay_id: str) -> Delivery:
        """The customer pays: the order turns PAID; returns the signed PAY_SUCCESS webhook."""
        order = self.orders[prepay_id]
        order["status"] = "PAID"
        order["transactTime"] = int(time.time() * 1000)
        order["transactionId"] = f"M_P_{secrets.randbelow(10**12):012d}"
        return self._notify(order, "PAY_SUCCESS")

    def close(self, prepay_id: str) -> Delivery:
        """The order expires unpaid: it turns EXPIRED; returns the signed PAY_CLOSED webhook."""
        order = self.orders[prepay_id]
        order["status"] = "EXPIRED"
        return self._notify(order, "PAY_CLOSED")

    def webhook(self, event: dict[str, Any], url: str = "") -> Delivery:
        """Any event (e.g. a PAYOUT one BizBot ignores), signed like Binance signs."""
        return self._deliver(url, json.dumps(event).encode())

    def _notify(self, order: dict[str, Any], biz_status: str) -> Delivery:
        request = order["_request"]
        data = {
            "merchantTradeNo": order["merchantTradeNo"],
            "productType": "02",
            "productName": request["description"],
            "transactTime": order.get("transactTime"),
            "tradeType": "WEB",
            "totalFee": order["orderAmount"],
            "currency": order["currency"],
            "transactionId": order.get("transactionId"),
            "openUserId": "1211HS10K81f4273ac031",
            "commission": 0,
        }
        if request.get("passThroughInfo"):
            data["passThroughInfo"] = request["passThroughInfo"]
        event = {
            "bizType": "PAY",
            "bizId": int(order["prepayId"]),
            "bizIdStr": order["prepayId"],
            "bizStatus": biz_status,
            "data": json.dumps(data),
        }
        return self._deliver(request.get("webhookUrl", ""), json.dumps(event).encode())

    def _deliver(self, url: str, body: bytes) -> Delivery:
        timestamp = str(int(time.time() * 1000))
        nonce = "".join(secrets.choice(string.ascii_letters) for _ in range(32))
        payload = timestamp.encode() + b"\n" + nonce.encode() + b"\n" + body + b"\n"
        signature = self._key.sign(payload, padding.PKCS1v15(), hashes.SHA256())
        headers = {
            "content-type": "application/json",
            "binancepay-certificate-sn": self.cert_serial,
            "binancepay-nonce": nonce,
            "binancepay-timestamp": timestamp,
            "binancepay-signature": base64.b64encode(signature).decode(),
        }
        return Delivery(url=url, headers=headers, body=body)

    # --- life cycle -------------------------------------------------------------------------

    def start(self) -> FakeBinance:
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

    def __enter__(self) -> FakeBinance:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    fake: FakeBinance

    def log_message(self, *args: Any) -> None:
        return

    def _send(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _ok(self, data: Any) -> None:
        self._send(200, {"status": "SUCCESS", "code": "000000", "data": data, "errorMessage": ""})

    def _fail(self, status: int, code: str, message: str) -> None:
        self._send(status, {"status": "FAIL", "code": code, "errorMessage": message})

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        self.fake.requests.append(Recorded(self.path, headers, body))
        secret = self.fake.merchants.get(headers.get("binancepay-certificate-sn", ""))
        if secret is None:
            return self._fail(400, "400004", "Invalid API key or IP")
        timestamp = headers.get("binancepay-timestamp", "")
        nonce = headers.get("binancepay-nonce", "")
        if not timestamp.isdigit() or abs(int(timestamp) - time.time() * 1000) > 60_000:
            return self._fail(
                400, "400003", "Timestamp for this request is outside of the time window."
            )
        if not re.fullmatch(r"[A-Za-z0-9]{32}", nonce):
            return self._fail(400, "400002", "Signature for this request is not valid.")
        payload = timestamp.encode() + b"\n" + nonce.encode() + b"\n" + raw + b"\n"
        expected = hmac.new(secret.encode(), payload, hashlib.sha512).hexdigest().upper()
        if not hmac.compare_digest(expected, headers.get("binancepay-signature", "")):
            return self._fail(400, "400002", "Signature for this request is not valid.")
        if not isinstance(body, dict):
            return self._fail(400, "400001", "Invalid request: the body is not a JSON object.")
        if self.path == "/binancepay/openapi/v3/order":
            return self._create(body)
        if self.path == "/binancepay/openapi/v2/order/query":
            return self._query(body)
        if self.path == "/binancepay/openapi/certificates":
            return self._ok(
                [{"certSerial": self.fake.cert_serial, "certPublic": self.fake.public_pem}]
            )
        return self._fail(404, "404000", f"No route {self.path}")

    def _create(self, body: dict[str, Any]) -> None:
        trade_no = str(body.get("merchantTradeNo") or "")
        if not re.fullmatch(r"[A-Za-z0-9]{1,32}", trade_no):
            return self._fail(400, "400201", "merchantTradeNo is invalid or duplicated")
        if any(o["merchantTradeNo"] == trade_no for o in self.fake.orders.values()):
            return self._fail(400, "400201", "merchantTradeNo is invalid or duplicated")
        if body.get("currency") not in CURRENCIES:
            return self._fail(400, "400202", "Currency is not supported.")
        amount = body.get("orderAmount")
        if not isinstance(amount, int | float) or amount <= 0:
            return self._fail(400, "400203", "orderAmount is invalid.")
        if Decimal(str(amount)).as_tuple().exponent < -8:
            return self._fail(400, "400203", "orderAmount has more than 8 decimals.")
        if not body.get("description") or not isinstance(body.get("goodsDetails"), list):
            return self._fail(400, "400001", "description and goodsDetails are mandatory.")
        if (body.get("env") or {}).get("terminalType") not in (
            "WEB",
            "APP",
            "WAP",
            "MINI_PROGRAM",
            "OTHERS",
        ):
            return self._fail(400, "400001", "env.terminalType is invalid.")
        with self.fake._lock:
            n = next(self.fake._ids)
        prepay_id = f"29383937493038{n:06d}"
        code = secrets.token_hex(8)
        order = {
            "prepayId": prepay_id,
            "merchantTradeNo": trade_no,
            "status": "INITIAL",
            "currency": body["currency"],
            "orderAmount": f"{Decimal(str(amount)):.8f}",
            "createTime": int(time.time() * 1000),
            "_request": body,
            "_checkout": f"{self.fake.url}/en/checkout/{code}",
        }
        self.fake.orders[prepay_id] = order
        return self._ok(
            {
                "prepayId": prepay_id,
                "terminalType": "WEB",
                "expireTime": order["createTime"] + 3_600_000,
                "qrcodeLink": f"{self.fake.url}/qr/{code}.jpg",
                "qrContent": f"{self.fake.url}/qr/{code}",
                "checkoutUrl": order["_checkout"],
                "deeplink": f"bnc://app.binance.com/payment/secpay?tempToken={code}",
                "universalUrl": f"{self.fake.url}/en/checkout/universal/{code}",
                "totalFee": order["orderAmount"],
                "currency": order["currency"],
            }
        )

    def _query(self, body: dict[str, Any]) -> None:
        prepay_id = body.get("prepayId")
        order = self.fake.orders.get(str(prepay_id)) if prepay_id else None
        if order is None and body.get("merchantTradeNo"):
            order = next(
                (
                    o
                    for o in self.fake.orders.values()
                    if o["merchantTradeNo"] == body["merchantTradeNo"]
                ),
                None,
            )
        if order is None:
            return self._fail(400, "400202", "Order not found.")
        return self._ok(
            {
                "merchantId": 98765987,
                "prepayId": order["prepayId"],
                "transactionId": order.get("transactionId"),
                "merchantTradeNo": order["merchantTradeNo"],
                "status": order["status"],
                "currency": order["currency"],
                "orderAmount": order["orderAmount"],
                "openUserId": "1211HS10K81f4273ac031" if order["status"] == "PAID" else "",
                "transactTime": order.get("transactTime"),
                "createTime": order["createTime"],
                "passThroughInfo": order["_request"].get("passThroughInfo", ""),
            }
        )
