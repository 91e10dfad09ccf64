"""`/api/integrations/meta/start` and `/callback`: "Connect with Facebook" for WhatsApp,
Messenger and Instagram (the OAuth code exchange in `backend.integrations.meta_oauth`).

Both end on the Integrations page, whose URL says what happened:
`/integrations?meta=connected&kind=…&message=…` or `?meta=error&kind=…&message=…`.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from backend.auth import service as auth
from backend.auth.permissions import Actor, PermissionDenied
from backend.core.db import session_scope
from backend.integrations import meta_oauth
from backend.integrations import service as integrations
from backend.integrations.service import ChannelSetupError

PAGE = "/integrations"


def _back(outcome: str, kind: str | None, message: str) -> RedirectResponse:
    query = urlencode({"meta": outcome, "kind": kind or "", "message": message[:500]})
    return RedirectResponse(f"{PAGE}?{query}", status_code=303)


def _actor(token: str | None) -> Actor | None:
    with session_scope() as session:
        info = auth.resolve_session(session, token=token)
    return info.actor if info else None


def _dialog(token: str | None, kind: str) -> tuple[str | None, str | None]:
    """(the Facebook dialog URL, None) or (None, why not)."""
    actor = _actor(token)
    if actor is None:
        return None, "login"
    try:
        return meta_oauth.dialog_url(actor=actor, kind=kind), None
    except (meta_oauth.MetaOAuthError, PermissionDenied) as exc:
        return None, str(exc)


async def start(request: Request) -> Response:
    """Send the signed-in owner to Facebook Login for the channel `?kind=`."""
    kind = request.query_params.get("kind", "")
    url, problem = await run_in_threadpool(_dialog, request.cookies.get(auth.SESSION_COOKIE), kind)
    if problem == "login":
        return RedirectResponse(f"/login?next={PAGE}", status_code=303)
    if url is None:
        return _back("error", kind, problem or "Facebook Login is not available.")
    return RedirectResponse(url, status_code=303)


def _complete(token: str | None, params: dict[str, str]) -> tuple[str, str | None, str]:
    """(outcome, kind, message) of Meta's answer, with the channel saved and tested."""
    try:
        state = meta_oauth.read_state(params.get("state"))
    except meta_oauth.MetaOAuthError as exc:
        return "error", None, str(exc)
    kind, label = state.kind, meta_oauth.label(state.kind)
    if params.get("error"):
        reason = params.get("error_description") or params.get("error_reason") or params["error"]
        return "error", kind, f"Facebook Login was not completed: {reason}"
    actor = _actor(token)
    if actor is None or (actor.business_id, actor.user_id) != (state.business_id, state.user_id):
        # The state is bound to who started it: a link from someone else connects nothing.
        return (
            "error",
            kind,
            ("Log in to BizBot as the person who clicked Connect with Facebook, then try again."),
        )
    try:
        account = meta_oauth.fetch_account(kind=kind, code=params.get("code", ""))
        with session_scope() as session:
            integrations.save_channel(session, actor=actor, kind=kind, values=account.values)
            cfg = integrations.channel_config(session, actor=actor, kind=kind)
    except (meta_oauth.MetaOAuthError, PermissionDenied) as exc:
        return "error", kind, str(exc)
    except ChannelSetupError as exc:
        return "error", kind, f"Meta's answer did not fit the {label} settings: {exc}"
    info = integrations.check_channel(cfg, register=True)
    with session_scope() as session:
        integrations.record_check(session, actor=actor, kind=kind, info=info)
    if not info.ok:
        return (
            "error",
            kind,
            (f"{label} was saved from Facebook, but the connection test failed: {info.error}"),
        )
    message = f"{label} connected: {info.display_name or account.name}."
    if account.others:
        message += (
            f" Facebook shared {account.others} more; to use another, enter its ID in the form."
        )
    return "connected", kind, message


async def callback(request: Request) -> Response:
    """Where Meta sends the owner back: exchange the code, save and test the channel."""
    outcome, kind, message = await run_in_threadpool(
        _complete, request.cookies.get(auth.SESSION_COOKIE), dict(request.query_params)
    )
    return _back(outcome, kind, message)


routes = [
    Route("/api/integrations/meta/start", start, methods=["GET"]),
    Route(meta_oauth.CALLBACK_PATH, callback, methods=["GET"]),
]
