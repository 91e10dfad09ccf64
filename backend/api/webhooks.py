"""`/webhooks/{kind}/{integration_id}`: where WhatsApp, Telegram, Messenger and Instagram call.

A POST does three things and returns: verify the signature on the raw body, store its events
once (on-conflict-do-nothing on the provider's id), enqueue their processing after commit.
Answers: 200 (also for duplicates); 401 missing / 403 wrong signature (nothing stored); 400 an
authentic body BizBot cannot use (kept raw for the owner, no events); 404 / 410 an unknown or
disconnected integration; 413 over 3 MB; 429 with Retry-After over WEBHOOK_RATE_LIMIT per
integration; 503 only when BizBot could not store the event (the platforms retry 5xx).
Errors are JSON `{"error", "code"}`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import anyio
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from backend.channels import registry, webhook_cache
from backend.channels import service as channels
from backend.channels.base import (
    BadPayload,
    ChannelEvent,
    InvalidSignature,
    MissingSignature,
)
from backend.channels.service import WEBHOOK_KINDS, WebhookRefused
from backend.conversations import service as conversations
from backend.core.config import settings
from backend.core.db import get_engine, session_scope
from backend.core.ratelimit import RateLimited, hit
from backend.templates import service as templates

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 3 * 1024 * 1024
_MAX_ID = 255


class _TooLarge(Exception):
    pass


def _error(message: str, code: str, status: int, **headers: str) -> JSONResponse:
    return JSONResponse({"error": message, "code": code}, status_code=status, headers=headers)


def _target(request: Request) -> tuple[str, int]:
    kind, raw_id = request.path_params["kind"], request.path_params["integration_id"]
    if kind not in WEBHOOK_KINDS:
        raise WebhookRefused(
            f"No webhook for channel {kind!r}: use one of {', '.join(WEBHOOK_KINDS)}.",
            status=404,
            code="unknown_channel",
        )
    if not raw_id.isdigit() or len(raw_id) > 12:
        raise WebhookRefused(
            f"{raw_id!r} is not an integration id: the webhook URL ends in a number.",
            status=404,
            code="unknown_integration",
        )
    return kind, int(raw_id)


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _TooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _check_ids(events_in: list[ChannelEvent]) -> None:
    for event in events_in:
        sender = getattr(event, "sender_id", None)
        if sender is not None and len(str(sender)) > _MAX_ID:
            raise BadPayload(f"a sender id is longer than {_MAX_ID} characters")


_limiter: anyio.CapacityLimiter | None = None


def _db_threads() -> anyio.CapacityLimiter:
    """As many accept threads as the database pool keeps connections: a burst queues here
    instead of opening (and closing) a PostgreSQL connection per request beyond the pool."""
    global _limiter
    if _limiter is None:
        _limiter = anyio.CapacityLimiter(max(1, get_engine().pool.size()))
    return _limiter


def _challenge(kind: str, integration_id: int, query: Mapping[str, str]) -> str:
    hit(settings.webhook_rate_limit, "webhook", str(integration_id))
    cfg = webhook_cache.webhook_config(integration_id=integration_id, kind=kind)
    return registry.get_adapter(kind).challenge(query, cfg)


def _receive(
    kind: str, integration_id: int, headers: Mapping[str, str], body: bytes
) -> tuple[int, dict[str, Any]]:
    """In one worker thread: rate limit, verify, then store the events and the raw body once."""
    # Per integration, however many senders: a flood cannot starve the other tenants.
    hit(settings.webhook_rate_limit, "webhook", str(integration_id))
    adapter = registry.get_adapter(kind)
    cfg = webhook_cache.webhook_config(integration_id=integration_id, kind=kind)
    adapter.verify(headers, body, cfg)  # nothing is written before this passes
    content_type = headers.get("content-type")
    try:
        events_in = adapter.parse(body, cfg)
        _check_ids(events_in)
    except Exception as exc:  # An authentic body of an unexpected shape: kept, refused.
        reason = (
            str(exc)
            if isinstance(exc, BadPayload)
            else (f"unexpected payload shape ({type(exc).__name__}: {exc})")
        )
        with session_scope() as session:
            channels.record_delivery(
                session,
                cfg=cfg,
                body=body,
                content_type=content_type,
                outcome="rejected",
                error=reason,
            )
        log.warning("webhook %s/%s refused an authentic body: %s", kind, integration_id, reason)
        return 400, {"error": f"The body could not be used: {reason}.", "code": "bad_payload"}
    try:
        with session_scope() as session:
            # One statement stores the events and the raw body atomically; in autocommit it is
            # its own transaction, sparing the BEGIN and COMMIT round trips.
            session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            new_ids = conversations.receive(
                session, cfg=cfg, events_in=events_in, raw_body=body, content_type=content_type
            )
            templates.after_webhook(session, events_in=events_in, new_ids=new_ids)
    except IntegrityError:
        # The integration or its business went since its config was cached: say so (404/410).
        webhook_cache.forget(kind, integration_id)
        webhook_cache.webhook_config(integration_id=integration_id, kind=kind)
        raise
    reply = getattr(adapter, "webhook_response", None)
    extra = reply(events_in) if reply else None
    if extra:
        return 200, extra
    return 200, {"received": len(events_in), "new": len(new_ids)}


async def webhook(request: Request) -> Response:
    """GET: the platform's verification handshake. POST: verify, store once, enqueue."""
    try:
        kind, integration_id = _target(request)
        if request.method == "GET":
            challenge = await run_in_threadpool(
                _challenge, kind, integration_id, dict(request.query_params)
            )
            return PlainTextResponse(challenge)
        body = await _read_body(request)
        status, payload = await anyio.to_thread.run_sync(
            _receive, kind, integration_id, dict(request.headers), body, limiter=_db_threads()
        )
        return JSONResponse(payload, status_code=status)
    except WebhookRefused as exc:
        return _error(str(exc), exc.code, exc.status)
    except RateLimited as exc:
        return _error(
            f"Too many webhook requests for this integration; try again in {exc.retry_after} s.",
            "rate_limited",
            429,
            **{"Retry-After": str(exc.retry_after)},
        )
    except MissingSignature as exc:
        return _error(f"Missing signature: {exc}.", "missing_signature", 401)
    except InvalidSignature as exc:
        return _error(f"Invalid signature: {exc}.", "invalid_signature", 403)
    except BadPayload as exc:
        return _error(f"{exc}.", "bad_request", 400)
    except _TooLarge:
        return _error(
            f"The body is larger than {MAX_BODY_BYTES // (1024 * 1024)} MB.", "too_large", 413
        )
    except (OperationalError, DBAPIError) as exc:
        # BizBot could not store the event: 503 makes the platform deliver it again later.
        log.error("webhook %s could not reach the database: %s", request.url.path, exc)
        return _error(
            "BizBot could not store the event right now; it will be redelivered.",
            "unavailable",
            503,
            **{"Retry-After": "30"},
        )


routes = [Route("/webhooks/{kind}/{integration_id}", webhook, methods=["GET", "POST"])]
