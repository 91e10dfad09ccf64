"""Payment routes: provider webhooks and the customer's /pay/{token} page.

`POST /webhooks/payments/{kind}/{provider_id}`: verify on the raw body, store once, act.
Answers 200 (also for replays and events BizBot ignores), 400 a bad signature or an unreadable
body (nothing stored), 404 an unknown provider (or one of another kind), 413 over 1 MB, 503
when BizBot or the provider's confirmation could not be reached (providers retry). JSON
`{"error", "code"}` on errors.

`GET /pay/{token}` is a small server-rendered page (no scripts, inline CSS, everything escaped)
with the order and one button per provider; `POST /pay/{token}` starts the payment and sends the
customer on (303) or says to check their phone.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from backend.core.config import settings
from backend.core.db import session_scope
from backend.payments import registry
from backend.payments import service as payments
from backend.payments.base import BadPayload, InvalidSignature, ProviderError, PushPrompt
from backend.payments.schemas import LinkPage, PaymentError

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
_TOKEN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


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


def _receive(kind: str, provider_id: int, headers: Mapping[str, str], body: bytes) -> str:
    with session_scope() as session:
        return payments.handle_webhook(
            session, kind=kind, provider_id=provider_id, headers=headers, body=body
        )


async def payment_webhook(request: Request) -> Response:
    """A provider's webhook: verified, stored once, acted on; 200 for replays and ignored types."""
    kind, raw_id = request.path_params["kind"], request.path_params["provider_id"]
    if kind not in registry.kinds():
        return _error(
            f"No payment provider {kind!r}: use one of {', '.join(registry.kinds())}.",
            "unknown_provider",
            404,
        )
    if not raw_id.isdigit() or len(raw_id) > 12:
        return _error(
            f"{raw_id!r} is not a provider id: the webhook URL ends in a number.",
            "unknown_provider",
            404,
        )
    try:
        body = await _read_body(request)
        outcome = await run_in_threadpool(_receive, kind, int(raw_id), dict(request.headers), body)
    except PaymentError as exc:
        return _error(str(exc), exc.code, exc.status)
    except InvalidSignature as exc:
        return _error(f"Invalid signature: {exc}", "invalid_signature", 400)
    except (BadPayload, ValueError, KeyError, TypeError, AttributeError) as exc:
        # An adapter could not read the body: nothing was stored (the transaction rolled back).
        log.warning("payment webhook %s/%s unreadable: %r", kind, raw_id, exc)
        return _error(f"The body could not be read: {exc}", "bad_payload", 400)
    except _TooLarge:
        return _error("The body is larger than 1 MB.", "too_large", 413)
    except ProviderError as exc:
        log.warning("payment webhook %s/%s: confirmation failed: %s", kind, raw_id, exc)
        return _error(
            f"BizBot could not confirm the payment with the provider ({exc}); send it again.",
            "confirmation_failed",
            503,
            **{"Retry-After": "60"},
        )
    except (OperationalError, DBAPIError) as exc:
        log.error("payment webhook %s could not reach the database: %s", request.url.path, exc)
        return _error(
            "BizBot could not store the event right now; it will be redelivered.",
            "unavailable",
            503,
            **{"Retry-After": "30"},
        )
    body = {"received": True, "result": outcome}
    if kind == "binance":  # Binance Pay retries until it reads this exact acknowledgement.
        body = {"returnCode": "SUCCESS", "returnMessage": None, **body}
    return JSONResponse(body)


# --- the /pay page ------------------------------------------------------------------------

_CSS = """
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,Segoe UI,Roboto,
sans-serif;background:#f4f5f7;color:#1d2330}main{max-width:28rem;margin:0 auto;padding:1.25rem}
.card{background:#fff;border-radius:14px;padding:1.25rem;box-shadow:0 1px 3px #0002}
h1{font-size:1.25rem;margin:0 0 .25rem}p.sub{color:#5b6272;margin:0 0 1rem}
table{width:100%;border-collapse:collapse;margin:.5rem 0 1rem}td{padding:.35rem 0;
border-bottom:1px solid #eceef2}td.r{text-align:right;white-space:nowrap}
tr.total td{font-weight:700;border:0;padding-top:.6rem}form{margin:.75rem 0 0}
label{display:block;font-size:.9rem;color:#5b6272;margin:.4rem 0 .2rem}
input{width:100%;padding:.7rem;border:1px solid #c9ced8;border-radius:10px;font-size:1rem}
button{width:100%;margin-top:.5rem;padding:.85rem;border:0;border-radius:10px;
background:#2357d9;color:#fff;font-size:1rem;font-weight:600;cursor:pointer}
.note{padding:.75rem;border-radius:10px;background:#eef3ff;margin:0 0 1rem}
.ok{background:#e7f7ee}.bad{background:#fdecec}.big{font-size:1.1rem;font-weight:600}
"""


def _page_csp() -> str:
    # No scripts at all; forms may hand the customer to the provider's hosted checkout.
    targets = "'self' https:" + (" http:" if settings.public_url.startswith("http://") else "")
    return (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        f"form-action {targets}; base-uri 'none'; frame-ancestors 'none'"
    )


def _html(title: str, body: str, *, status: int = 200, refresh: str | None = None) -> HTMLResponse:
    e = html.escape
    meta = f'<meta http-equiv="refresh" content="5;url={e(refresh)}">' if refresh else ""
    doc = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<meta name="robots" content="noindex">{meta}<title>{e(title)}</title>'
        f"<style>{_CSS}</style></head><body><main><div class=card>{body}</div></main></body></html>"
    )
    return HTMLResponse(
        doc,
        status_code=status,
        headers={"Content-Security-Policy": _page_csp(), "Cache-Control": "no-store"},
    )


def _not_found() -> HTMLResponse:
    return _html(
        "Payment link not found",
        "<h1>This payment link does not exist</h1><p class=sub>Check that you opened the whole "
        "link, or ask the business to send it again.</p>",
        status=404,
    )


def _summary(page: LinkPage) -> str:
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(item.name)} &times; {item.quantity}</td>"
        f"<td class=r>{e(item.line_total)}</td></tr>"
        for item in page.items
    )
    return (
        f"<h1>{e(page.business_name)}</h1><p class=sub>Order #{page.order_number}</p>"
        f"<table>{rows}<tr class=total><td>Total</td><td class=r>{e(page.total)}</td></tr></table>"
    )


def _forms(page: LinkPage, token: str) -> str:
    e = html.escape
    if not page.providers:
        return (
            "<p class=note>This business has no way to pay online in "
            f"{e(page.currency)} yet: ask them how to pay.</p>"
        )
    out = []
    for choice in page.providers:
        fields = f'<input type=hidden name=provider value="{e(choice.kind)}">'
        if choice.push:
            fields += (
                f'<label for="phone-{e(choice.kind)}">Mobile money number</label>'
                f'<input id="phone-{e(choice.kind)}" name=phone type=tel inputmode=tel '
                'autocomplete=tel required placeholder="e.g. 254712345678">'
            )
        if choice.needs_email:
            fields += (
                f'<label for="email-{e(choice.kind)}">Email for the receipt</label>'
                f'<input id="email-{e(choice.kind)}" name=email type=email autocomplete=email '
                "required>"
            )
        out.append(
            f'<form method=post action="/pay/{e(token)}">{fields}'
            f"<button type=submit>Pay with {e(choice.label)}</button></form>"
        )
    return "".join(out)


def _render(
    page: LinkPage,
    *,
    token: str,
    note: str | None = None,
    error: str | None = None,
    status: int = 200,
    waiting: bool = False,
) -> HTMLResponse:
    """The page for the link's state; `waiting` (back from the provider, or a prompt pushed)
    reloads it every few seconds until the payment is confirmed."""
    e = html.escape
    summary = _summary(page)
    if page.state == "paid":
        return _html(
            "Paid, thank you",
            f"<p class='note ok big'>Paid, thank you!</p>{summary}"
            "<p class=sub>The business has been told. You can close this page.</p>",
        )
    if page.state in ("expired", "cancelled"):
        what = "has expired" if page.state == "expired" else "was cancelled"
        return _html(
            "Payment link closed",
            f"<h1>This payment link {what}</h1><p class=sub>Ask {e(page.business_name)} for a "
            f"new link to pay order #{page.order_number}.</p>",
            status=410,
        )
    if page.state == "review":
        return _html(
            "Payment being checked",
            f"{summary}<p class=note>We received a payment for this order that "
            f"{e(page.business_name)} is checking. They will contact you.</p>",
        )
    notes = ""
    if error:
        notes += f"<p class='note bad'>{e(error)}</p>"
    if note:
        notes += f"<p class='note ok'>{e(note)}</p>"
    if page.state == "pending" and not note:
        notes += (
            "<p class=note>Waiting for the payment provider to confirm your payment… "
            + ("This page updates by itself. " if waiting else "Reload this page to check. ")
            + "If you did not finish paying, choose a way to pay below.</p>"
        )
    return _html(
        f"Pay order #{page.order_number}",
        f"{summary}{notes}{_forms(page, token)}",
        status=status,
        refresh=f"/pay/{token}?status=return" if waiting and page.state == "pending" else None,
    )


def _load(token: str) -> LinkPage | None:
    with session_scope() as session:
        return payments.get_link_page(session, token=token)


def _valid_token(token: str) -> bool:
    return 0 < len(token) <= 64 and set(token) <= _TOKEN_CHARS


async def pay_page(request: Request) -> Response:
    """GET: the order and the ways to pay. POST: start paying with the chosen provider."""
    token = request.path_params["token"]
    if not _valid_token(token):
        return _not_found()
    if request.method == "POST":
        return await _start(request, token)
    page = await run_in_threadpool(_load, token)
    if page is None:
        return _not_found()
    note = None
    if request.query_params.get("status") == "cancelled" and page.state == "open":
        note = "The payment was cancelled. You can try again below."
    waiting = request.query_params.get("status") == "return"
    return _render(page, token=token, note=note, waiting=waiting)


def _start_payment(token: str, form: Mapping[str, Any]) -> Any:
    with session_scope() as session:
        return payments.start_payment(
            session,
            token=token,
            kind=str(form.get("provider") or ""),
            payer_phone=str(form.get("phone") or "") or None,
            payer_email=str(form.get("email") or "") or None,
        )


async def _start(request: Request, token: str) -> Response:
    try:
        form = await request.form(max_files=0, max_fields=10)
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
    except Exception:  # Not a form at all: treat as an empty choice.
        fields = {}
    try:
        result = await run_in_threadpool(_start_payment, token, fields)
    except PaymentError as exc:
        page = await run_in_threadpool(_load, token)
        if page is None or exc.status == 404:
            return _not_found()
        return _render(page, token=token, error=str(exc), status=exc.status)
    page = await run_in_threadpool(_load, token)
    if isinstance(result, PushPrompt):
        message = result.message or "Check your phone and enter your PIN to pay."
        return _render(page, token=token, note=f"Check your phone: {message}", waiting=True)
    return RedirectResponse(result.url, status_code=303)


routes = [
    Route("/webhooks/payments/{kind}/{provider_id}", payment_webhook, methods=["POST"]),
    Route("/pay/{token}", pay_page, methods=["GET", "POST"]),
]
