"""Security headers on every response BizBot serves (pages, `/_event`, API routes).

A pure ASGI middleware, so streaming responses and websockets pass through untouched. The
website widget's endpoints run inside other sites, so they may be framed and keep their own
cross-origin policy.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.core.config import settings

# Reflex's pages need inline styles (emotion) and inline bootstrap scripts, evaluate the
# scripts event handlers send (`rx.call_script`: without 'unsafe-eval' log-in redirects stop
# working), and talk to the backend over the `/_event` websocket of the same host.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob: https:",
        "font-src 'self' data:",
        "media-src 'self' blob: data:",
        "connect-src 'self' ws: wss:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
WIDGET_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors *"
HSTS = "max-age=31536000; includeSubDomains"


def is_widget_path(path: str) -> bool:
    """Whether `path` is served to other sites (the widget script and its API)."""
    return path == "/widget.js" or path == "/api/widget" or path.startswith("/api/widget/")


def headers_for(path: str, *, https: bool) -> list[tuple[bytes, bytes]]:
    """The security headers for a response to `path`."""
    out = [
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"strict-origin-when-cross-origin"),
    ]
    if is_widget_path(path):
        out.append((b"content-security-policy", WIDGET_CONTENT_SECURITY_POLICY.encode()))
    else:
        out += [
            (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
            (b"x-frame-options", b"DENY"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
        ]
    if https:
        out.append((b"strict-transport-security", HSTS.encode()))
    return out


def _merge(existing: Iterable[tuple[bytes, bytes]], extra: list[tuple[bytes, bytes]]):
    present = {name.lower() for name, _ in existing}
    return [*existing, *((name, value) for name, value in extra if name not in present)]


class SecurityHeaders:
    """ASGI middleware adding `headers_for(path)` to every HTTP response (a route's own win)."""

    def __init__(self, app: ASGIApp, *, https: bool | None = None) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = self.https
        if https is None:
            https = settings.public_url.startswith("https://")
        extra = headers_for(scope.get("path", ""), https=https)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": _merge(list(message.get("headers", [])), extra)}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def security_headers(app: ASGIApp) -> ASGIApp:
    """The `api_transformer` step that wraps Reflex's whole backend app."""
    return SecurityHeaders(app)
