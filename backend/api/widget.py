"""The website widget's HTTP side: `/widget.js` and the JSON + server-sent-events API it calls.

Every API call names the widget by its public key, must come from an allowed origin, and
answers with CORS headers for that origin only. Errors are JSON `{"error", "code"}`.
"""

from __future__ import annotations

import gzip
import json
import logging
from collections.abc import AsyncIterator, Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import rjsmin
from redis import asyncio as aioredis
from sse_starlette.sse import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from backend.core.config import PROJECT_ROOT
from backend.core.db import session_scope
from backend.core.redis import redis_url
from backend.live import tenant_channel
from backend.widget import service as widget_service
from backend.widget.service import Visitor, Widget, WidgetError

log = logging.getLogger(__name__)

WIDGET_JS = PROJECT_ROOT / "widget" / "widget.js"
MAX_BODY_BYTES = 64 * 1024
STREAM_PING_SECONDS = 15
_MESSAGE_EVENTS = {"message.created", "message.updated", "conversation.updated", "typing"}


# --- /widget.js ------------------------------------------------------------------------------


def minified_script(path: Path = WIDGET_JS) -> bytes:
    """widget.js as served: the readable source with comments and spacing stripped (rjsmin)."""
    return rjsmin.jsmin(path.read_text(encoding="utf-8")).encode()


@lru_cache(maxsize=4)
def _script(path: Path, mtime_ns: int) -> tuple[bytes, bytes, str]:
    raw = minified_script(path)
    return raw, gzip.compress(raw, 9, mtime=0), f'"{mtime_ns:x}-{len(raw):x}"'


async def widget_js(request: Request) -> Response:
    """The embeddable widget script, gzipped when the browser accepts it, cached briefly."""
    try:
        raw, packed, etag = _script(WIDGET_JS, WIDGET_JS.stat().st_mtime_ns)
    except FileNotFoundError:
        return Response("// widget.js is missing from this BizBot install\n", status_code=404,
                        media_type="application/javascript")  # fmt: skip
    headers = {
        "ETag": etag,
        "Cache-Control": "public, max-age=300",
        "Vary": "Accept-Encoding",
        "Access-Control-Allow-Origin": "*",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        body = packed
    else:
        body = raw
    return Response(body, media_type="application/javascript; charset=utf-8", headers=headers)


# --- the JSON API ----------------------------------------------------------------------------


def _cors(origin: str | None) -> dict[str, str]:
    headers = {"Vary": "Origin"}
    if origin:
        headers["Access-Control-Allow-Origin"] = origin
    return headers


def _error(exc: WidgetError, origin: str | None) -> JSONResponse:
    # Refusals carry CORS headers too, so the widget can tell the visitor why (not "offline").
    headers = _cors(origin)
    if "retry_after" in exc.extra:
        headers["Retry-After"] = str(exc.extra["retry_after"])
    return JSONResponse({"error": str(exc), "code": exc.code, **exc.extra},
                        status_code=exc.status, headers=headers)  # fmt: skip


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _body(request: Request) -> dict[str, Any]:
    if int(request.headers.get("content-length") or 0) > MAX_BODY_BYTES:
        raise WidgetError("The request is too large.", code="too_large")
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise WidgetError("The request is too large.", code="too_large")
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        raise WidgetError("The request body is not JSON.", code="invalid_json") from None
    if not isinstance(data, dict):
        raise WidgetError("The request body must be a JSON object.", code="invalid_json")
    return data


def _call(
    public_key: str, origin: str | None, work: Callable[..., Any], *, token: Any = None,
    needs_visitor: bool = True,
) -> Any:  # fmt: skip
    """In a worker thread: find the widget, check the origin (and the visitor), do the work."""
    with session_scope() as session:
        widget = widget_service.load_widget(session, public_key=public_key)
        widget_service.check_origin(widget, origin)
        if needs_visitor:
            visitor = widget_service.visitor_from_token(
                widget, token if isinstance(token, str) else None
            )
            return work(session, widget, visitor)
        return work(session, widget)


def _endpoint(
    handler: Callable[[Request, dict[str, Any]], Any], *, method: str = "POST", status: int = 200
):
    async def endpoint(request: Request) -> Response:
        origin = request.headers.get("origin")
        try:
            data = await _body(request) if method == "POST" else dict(request.query_params)
            result = await handler(request, data)
        except WidgetError as exc:
            return _error(exc, origin)
        return JSONResponse(result, status_code=status, headers=_cors(origin))

    endpoint.__name__ = handler.__name__
    return endpoint


async def _config(request: Request, data: dict[str, Any]) -> dict:
    def work(session, widget):
        return widget_service.public_config(session, widget=widget, language=data.get("lang"))

    return await run_in_threadpool(
        _call, request.path_params["key"], request.headers.get("origin"), work,
        needs_visitor=False,
    )  # fmt: skip


async def _session(request: Request, data: dict[str, Any]) -> dict:
    def work(session, widget):
        widget_service.limit_session(widget, _client_ip(request))
        return widget_service.open_session(
            session, widget=widget,
            token=data.get("visitor_token") if isinstance(data.get("visitor_token"), str) else None,
            user_id=str(data["user_id"]) if data.get("user_id") is not None else None,
            user_hash=str(data.get("user_hash") or "") or None,
            name=data.get("name"), email=data.get("email"), phone=data.get("phone"),
            language=str(data.get("language") or "")[:16] or None,
        )  # fmt: skip

    return await run_in_threadpool(
        _call, request.path_params["key"], request.headers.get("origin"), work,
        needs_visitor=False,
    )  # fmt: skip


async def _messages(request: Request, data: dict[str, Any]) -> dict:
    def work(session, widget, visitor):
        widget_service.post_message(
            session, widget=widget, visitor=visitor, client_id=data.get("client_id"),
            text=data.get("text"),
        )  # fmt: skip
        return {"accepted": True, "client_id": data.get("client_id")}

    return await run_in_threadpool(
        _call, request.path_params["key"], request.headers.get("origin"), work,
        token=data.get("visitor_token"),
    )  # fmt: skip


async def _handoff(request: Request, data: dict[str, Any]) -> dict:
    def work(session, widget, visitor):
        return {
            "conversation": widget_service.ask_for_human(session, widget=widget, visitor=visitor)
        }

    return await run_in_threadpool(
        _call, request.path_params["key"], request.headers.get("origin"), work,
        token=data.get("visitor_token"),
    )  # fmt: skip


async def _csat(request: Request, data: dict[str, Any]) -> dict:
    def work(session, widget, visitor):
        widget_service.rate(session, widget=widget, visitor=visitor, score=data.get("score"),
                            comment=data.get("comment"))  # fmt: skip
        return {"ok": True}

    return await run_in_threadpool(
        _call, request.path_params["key"], request.headers.get("origin"), work,
        token=data.get("visitor_token"),
    )  # fmt: skip


async def _offline(request: Request, data: dict[str, Any]) -> dict:
    def work(session, widget, visitor):
        widget_service.leave_email(
            session, widget=widget, visitor=visitor, email=data.get("email"),
            name=data.get("name"), message=data.get("message"),
        )  # fmt: skip
        return {"ok": True}

    return await run_in_threadpool(
        _call, request.path_params["key"], request.headers.get("origin"), work,
        token=data.get("visitor_token"),
    )  # fmt: skip


async def preflight(request: Request) -> Response:
    """CORS preflight: allowed origins may POST JSON."""
    origin = request.headers.get("origin")
    try:
        await run_in_threadpool(
            _call, request.path_params["key"], origin, lambda s, w: None, needs_visitor=False
        )
    except WidgetError as exc:
        return _error(exc, origin)
    headers = _cors(origin) | {
        "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type, Last-Event-ID",
        "Access-Control-Max-Age": "600",
    }
    return Response(status_code=204, headers=headers)


# --- the live stream (server-sent events) ----------------------------------------------------


@lru_cache(maxsize=1)
def _async_redis() -> aioredis.Redis:
    return aioredis.Redis.from_url(redis_url(), health_check_interval=30)


def reset_async_redis() -> None:
    """Forget the async Redis client (after the Redis URL changed, in tests)."""
    _async_redis.cache_clear()


def _open_stream(public_key: str, origin: str | None, token: str | None):
    with session_scope() as session:
        widget = widget_service.load_widget(session, public_key=public_key)
        widget_service.check_origin(widget, origin)
        visitor = widget_service.visitor_from_token(widget, token)
        contact_id = widget_service.contact_id_of(session, widget=widget, visitor=visitor)
        return widget, visitor, contact_id


def _fetch(widget: Widget, visitor: Visitor, after_id: int):
    with session_scope() as session:
        contact_id = widget_service.contact_id_of(session, widget=widget, visitor=visitor)
        conversation, messages = widget_service.updates(
            session, widget=widget, visitor=visitor, after_id=after_id
        )
        return contact_id, conversation, messages


async def stream(request: Request) -> Response:
    """Server-sent events for one visitor: their messages, conversation changes, typing."""
    origin = request.headers.get("origin")
    params = request.query_params
    try:
        widget, visitor, contact_id = await run_in_threadpool(
            _open_stream, request.path_params["key"], origin, params.get("visitor_token")
        )
    except WidgetError as exc:
        return _error(exc, origin)
    try:
        after = int(request.headers.get("last-event-id") or params.get("after") or 0)
    except ValueError:
        after = 0

    async def events() -> AsyncIterator[ServerSentEvent]:
        nonlocal after, contact_id
        pubsub = _async_redis().pubsub()
        await pubsub.subscribe(tenant_channel(widget.business_id))
        try:
            sent_conversation: dict | None = None
            refresh = True  # catch up once after subscribing, then on every relevant event
            conversations: set[int] = set()
            while True:
                if refresh:
                    contact_id, conversation, messages = await run_in_threadpool(
                        _fetch, widget, visitor, after
                    )
                    for message in messages:
                        after = max(after, message["id"])
                        yield ServerSentEvent(json.dumps(message), event="message",
                                              id=str(message["id"]))  # fmt: skip
                    if conversation is not None:
                        conversations.add(conversation["id"])
                        if conversation != sent_conversation:
                            sent_conversation = conversation
                            yield ServerSentEvent(json.dumps(conversation), event="conversation")
                    refresh = False
                item = await pubsub.get_message(ignore_subscribe_messages=True, timeout=30)
                if item is None:
                    continue
                try:
                    event = json.loads(item["data"])
                except ValueError:
                    continue
                name, conversation_id = event.get("event"), event.get("conversation_id")
                if name == "conversation.created":
                    refresh = contact_id is None or event.get("contact_id") == contact_id
                elif name in _MESSAGE_EVENTS and conversation_id in conversations:
                    if name == "typing":
                        yield ServerSentEvent(json.dumps({"typing": bool(event.get("typing"))}),
                                              event="typing")  # fmt: skip
                    else:
                        refresh = True
        finally:
            await pubsub.aclose()

    return EventSourceResponse(
        events(), ping=STREAM_PING_SECONDS, headers=_cors(origin) | {"X-Accel-Buffering": "no"}
    )


routes = [
    Route("/widget.js", widget_js, methods=["GET"]),
    Route("/api/widget/{key}/config", _endpoint(_config, method="GET"), methods=["GET"]),
    Route("/api/widget/{key}/session", _endpoint(_session), methods=["POST"]),
    Route("/api/widget/{key}/messages", _endpoint(_messages, status=202), methods=["POST"]),
    Route("/api/widget/{key}/handoff", _endpoint(_handoff), methods=["POST"]),
    Route("/api/widget/{key}/csat", _endpoint(_csat), methods=["POST"]),
    Route("/api/widget/{key}/offline", _endpoint(_offline), methods=["POST"]),
    Route("/api/widget/{key}/stream", stream, methods=["GET"]),
    Route("/api/widget/{key}/{action}", preflight, methods=["OPTIONS"]),
]
