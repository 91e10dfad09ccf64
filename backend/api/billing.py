"""`POST /webhooks/billing/stripe`: Stripe's events about businesses paying for BizBot.

Verified on the raw body, stored once by event id, applied (backend.billing.webhooks).
Answers 200 (also for replays, ignored types and unknown customers), 400 a bad signature or an
unreadable body (nothing stored), 404 when billing is off, 413 over 1 MB, 503 when the
database could not be reached (Stripe retries). JSON `{"error", "code"}` on errors.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from backend.billing import webhooks
from backend.billing.plans import billing_enabled
from backend.billing.schemas import BadPayload, BillingError, InvalidSignature
from backend.core.config import settings
from backend.core.db import session_scope

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024


class _TooLarge(Exception):
    pass


def _error(message: str, code: str, status: int, **headers: str) -> JSONResponse:
    return JSONResponse({"error": message, "code": code}, status_code=status, headers=headers)


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


def _receive(headers: Mapping[str, str], body: bytes) -> str:
    with session_scope() as session:
        return webhooks.handle_webhook(session, headers=headers, body=body)


async def billing_webhook(request: Request) -> Response:
    """Stripe's billing webhook: 200 once stored (or a replay), 400 when not from Stripe."""
    if not billing_enabled() or not settings.billing_stripe_webhook_secret:
        return _error(
            "Billing is off on this installation (BILLING_STRIPE_SECRET_KEY and "
            "BILLING_STRIPE_WEBHOOK_SECRET are not set).",
            "billing_off",
            404,
        )
    try:
        body = await _read_body(request)
        outcome = await run_in_threadpool(_receive, dict(request.headers), body)
    except InvalidSignature as exc:
        return _error(f"Invalid signature: {exc}", "invalid_signature", 400)
    except (BadPayload, BillingError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("billing webhook unreadable: %r", exc)
        return _error(f"The body could not be read: {exc}", "bad_payload", 400)
    except _TooLarge:
        return _error("The body is larger than 1 MB.", "too_large", 413)
    except (OperationalError, DBAPIError) as exc:
        log.error("billing webhook could not reach the database: %s", exc)
        return _error(
            "BizBot could not store the event right now; it will be redelivered.",
            "unavailable",
            503,
            **{"Retry-After": "30"},
        )
    return JSONResponse({"received": True, "result": outcome})


routes = [Route("/webhooks/billing/stripe", billing_webhook, methods=["POST"])]
