"""The two HTTP routes that set and clear the httponly session cookie.

The dashboard checks passwords over its websocket, which cannot set an httponly cookie;
it hands the browser a one-time ticket, and `/api/auth/session` swaps it for the cookie.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse

from backend.api.v1 import client_ip
from backend.auth import service as auth
from backend.core.config import settings
from backend.core.db import session_scope


def safe_next(value: str | None) -> str:
    """A same-site path to go to after sign-in; anything else becomes `/`."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def _client_ip(request: Request) -> str | None:
    # The trusted-proxy rule of the API (TRUSTED_PROXY_HOPS), so sessions list the real address.
    return client_ip(request)


def _open_session(code: str, ip: str | None, user_agent: str | None) -> str | None:
    ticket = auth.redeem_login_ticket(code)
    if ticket is None:
        return None
    with session_scope() as session:
        return auth.start_session(session, ticket=ticket, ip_address=ip, user_agent=user_agent)


async def open_session(request: Request) -> RedirectResponse:
    """Exchange a login ticket for the session cookie, then go where the user was heading."""
    token = await run_in_threadpool(
        _open_session,
        request.query_params.get("ticket", ""),
        _client_ip(request),
        request.headers.get("user-agent"),
    )
    if token is None:
        return RedirectResponse("/login?expired=1", status_code=303)
    response = RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    response.set_cookie(
        auth.SESSION_COOKIE,
        token,
        max_age=settings.session_days * 86400,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
        path="/",
    )
    return response


def _close_session(token: str | None) -> None:
    with session_scope() as session:
        auth.end_session(session, token=token)


async def close_session(request: Request) -> RedirectResponse:
    """Revoke this browser's session, clear its cookie and show the login page."""
    await run_in_threadpool(_close_session, request.cookies.get(auth.SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response
