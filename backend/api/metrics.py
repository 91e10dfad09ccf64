"""`GET /metrics`: Prometheus text, for localhost or a caller with the configured bearer token."""

from __future__ import annotations

import hmac
import ipaddress

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.api.v1 import client_ip
from backend.core.config import settings
from backend.ops.metrics import PAYMENT_WEBHOOKS, WEBHOOK_REQUESTS, exposition


def _is_loopback(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


def allowed(request: Request) -> bool:
    """True for a loopback caller, or one presenting `Authorization: Bearer METRICS_TOKEN`."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if settings.metrics_token and scheme.lower() == "bearer":
        return hmac.compare_digest(token.strip().encode(), settings.metrics_token.encode())
    return _is_loopback(client_ip(request))


async def metrics(request: Request) -> Response:
    """The metrics of every BizBot process, or 403 saying how to get them."""
    if not allowed(request):
        return PlainTextResponse(
            "/metrics is served to localhost only; set METRICS_TOKEN and send "
            "`Authorization: Bearer <token>` to scrape it from elsewhere.\n",
            status_code=403,
        )
    body, content_type = await run_in_threadpool(exposition)
    return Response(body, media_type=content_type)


class WebhookMetrics:
    """ASGI middleware counting webhook requests by channel (or payment provider) and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith("/webhooks/"):
            await self.app(scope, receive, send)
            return
        parts = path.split("/")
        status = {"code": 500}

        async def send_and_note(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            if len(parts) > 3 and parts[2] == "payments":
                PAYMENT_WEBHOOKS.labels(provider=_label(parts[3]), result=str(status["code"])).inc()
            elif len(parts) > 2:
                WEBHOOK_REQUESTS.labels(channel=_label(parts[2]), status=str(status["code"])).inc()


def _label(value: str) -> str:
    """A path segment as a label value, bounded so random paths cannot explode the series."""
    return value if value.isascii() and value.isalpha() and len(value) <= 20 else "other"
