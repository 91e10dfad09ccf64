"""`GET /metrics`: Prometheus text, for localhost or a caller with the configured bearer token."""

from __future__ import annotations

import hmac
import ipaddress

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from backend.api.v1 import client_ip
from backend.core.config import settings
from backend.ops.metrics import exposition


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
