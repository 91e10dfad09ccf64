"""The public REST API under `/api/v1`: a business's programs reach BizBot with an API key.

Every route takes `Authorization: Bearer bb_…`, acts only in the key's business and checks
the key's scope. Limits: requests per key, and failed authentications per client IP (a flood
of bad keys gets 429 with Retry-After, not endless 401s). The OpenAPI document is served at
`/api/v1/openapi.json`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from backend.auth.permissions import PermissionDenied
from backend.core.config import settings
from backend.core.db import session_scope
from backend.core.ratelimit import RateLimited, hit
from backend.handoff.schemas import NotFound
from backend.inbox import service as inbox
from backend.knowledge import service as knowledge
from backend.security import policy
from backend.security import service as security
from backend.security.schemas import APIClient

# Requests per key, and failed authentications per client IP.
KEY_LIMIT = "120/minute"
FAILED_AUTH_LIMIT = "30/minute"
MAX_BODY_BYTES = 64 * 1024
MAX_LIMIT = 100
# The largest id a row can have (PostgreSQL `integer`).
MAX_ID = 2**31 - 1


class APIError(Exception):
    """An error answered as JSON `{"error", "code"}` with an HTTP status."""

    def __init__(self, status: int, message: str, code: str, headers: dict | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, headers or {}


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value):
        return dataclasses.asdict(value)
    return str(value)


def _ok(data: Any, status: int = 200) -> Response:
    body = json.dumps(data, default=_json_default)
    return Response(body, status_code=status, media_type="application/json")


def _error(exc: APIError) -> JSONResponse:
    return JSONResponse(
        {"error": exc.message, "code": exc.code}, status_code=exc.status, headers=exc.headers
    )


def client_ip(request: Request) -> str:
    """The caller's address: the peer, or with TRUSTED_PROXY_HOPS=n the n-th X-Forwarded-For
    entry from the right (the same rule Reflex uses for the dashboard)."""
    peer = request.client.host if request.client else "unknown"
    hops = settings.trusted_proxy_hops
    if hops:
        forwarded = [ip.strip() for ip in request.headers.get("x-forwarded-for", "").split(",")]
        forwarded = [ip for ip in forwarded if ip]
        if len(forwarded) >= hops:
            return forwarded[-hops][:64]
    return peer


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _int(request: Request, name: str, default: int, *, low: int = 0, high: int = MAX_LIMIT) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise APIError(400, f"{name} must be a whole number.", "invalid_parameter") from None
    if not low <= value <= high:
        raise APIError(400, f"{name} must be from {low} to {high}.", "invalid_parameter")
    return value


def _path_id(request: Request, name: str) -> int:
    try:
        value = int(request.path_params[name])
    except (KeyError, ValueError):
        raise APIError(404, f"No such {name}.", "not_found") from None
    if not 0 < value <= MAX_ID:  # ids are PostgreSQL integers: a bigger one names nothing
        raise APIError(404, f"No such {name}.", "not_found")
    return value


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise APIError(413, "The request body is too large.", "too_large")
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        raise APIError(400, "The request body is not JSON.", "invalid_json") from None
    if not isinstance(data, dict):
        raise APIError(400, "The request body must be a JSON object.", "invalid_json")
    return data


def _limit(limit: str, *keys: str, message: str | None = None) -> None:
    """Count one request; APIError 429 with Retry-After when over `limit`."""
    try:
        hit(limit, *keys)
    except RateLimited as exc:
        retry = exc.retry_after
        text = message.format(retry) if message else f"Too many requests; try again in {retry} s."
        raise APIError(429, text, "rate_limited", {"Retry-After": str(retry)}) from None


def _work(session: Any, client: APIClient, work: Callable[[Any, APIClient], Any]) -> Any:
    try:
        return work(session, client)
    except security.ScopeDenied as exc:
        raise APIError(403, exc.message, "missing_scope") from None
    except PermissionDenied as exc:
        raise APIError(403, str(exc), "forbidden") from None
    except LookupError as exc:  # NotFound: other businesses' ids are not found either
        raise APIError(404, str(exc), "not_found") from None
    except ValueError as exc:
        raise APIError(400, getattr(exc, "message", str(exc)), "invalid_request") from None


def _run(token: str | None, ip: str, work: Callable[[Any, APIClient], Any]) -> Any:
    """Authenticate, check the business's IP allowlist, rate-limit and do
    `work(session, client)` in one transaction."""
    refusal = None
    with session_scope() as session:
        try:
            client = security.authenticate_api_key(session, token=token)
        except security.InvalidAPIKey as exc:
            failure = exc
        else:
            refusal = policy.refuse_ip(
                session, business_id=client.business_id, ip=ip, via="api", api_key_id=client.key_id
            )
            if refusal is None:
                _limit(KEY_LIMIT, "api-key", str(client.key_id))
                return _work(session, client, work)
    if refusal is not None:  # raised after the commit, so the refusal's audit entry is kept
        raise APIError(403, refusal, "ip_not_allowed")
    # A failed authentication: counted per client IP, so a flood turns into 429s.
    _limit(
        FAILED_AUTH_LIMIT,
        "api-auth-failed",
        ip,
        message="Too many failed API authentications; try again in {} s.",
    )
    raise APIError(401, failure.message, "unauthorized", {"WWW-Authenticate": 'Bearer realm="api"'})


def endpoint(work: Callable[[Request, dict], Callable[[Any, APIClient], Any]], status: int = 200):
    """A route: read the request, then run its work with the authenticated client."""

    async def handler(request: Request) -> Response:
        try:
            body = await _body(request) if request.method in ("POST", "PUT", "PATCH") else {}
            job = work(request, body)
            result = await run_in_threadpool(_run, _bearer(request), client_ip(request), job)
        except APIError as exc:
            return _error(exc)
        return _ok(result, status)

    return handler


# --- the routes -----------------------------------------------------------------------------


def me(request: Request, body: dict):
    def work(session, client: APIClient):
        return {
            "business_id": client.business_id,
            "key_id": client.key_id,
            "scopes": sorted(client.scopes),
        }

    return work


def conversations_list(request: Request, body: dict):
    limit = _int(request, "limit", 25, low=1)
    status = request.query_params.get("status") or None
    cursor = request.query_params.get("cursor") or None

    def work(session, client: APIClient):
        security.require_scope(client, "conversations:read")
        page = inbox.list_conversations(
            session, actor=client.actor, status=status, cursor=cursor, limit=limit
        )
        return {"data": page.rows, "next_cursor": page.next_cursor}

    return work


def conversation_get(request: Request, body: dict):
    conversation_id = _path_id(request, "conversation_id")

    def work(session, client: APIClient):
        security.require_scope(client, "conversations:read")
        rows = inbox.get_rows(session, actor=client.actor, conversation_ids=[conversation_id])
        if not rows:
            raise NotFound(f"Conversation {conversation_id} was not found in this business.")
        return rows[0]

    return work


def messages_list(request: Request, body: dict):
    conversation_id = _path_id(request, "conversation_id")
    limit = _int(request, "limit", 50, low=1)
    before = request.query_params.get("before_id")
    before_id = _int(request, "before_id", 0, high=MAX_ID) if before else None

    def work(session, client: APIClient):
        security.require_scope(client, "conversations:read")
        thread = inbox.get_thread(
            session,
            actor=client.actor,
            conversation_id=conversation_id,
            before_id=before_id,
            limit=limit,
        )
        messages = [m for m in thread.messages if not m.is_private_note]
        return {"data": messages, "has_older": thread.has_older}

    return work


def messages_send(request: Request, body: dict):
    conversation_id = _path_id(request, "conversation_id")
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise APIError(400, "text: write the message to send.", "invalid_request")

    def work(session, client: APIClient):
        security.require_scope(client, "messages:write")
        return inbox.reply(session, actor=client.actor, conversation_id=conversation_id, text=text)

    return work


def contacts_list(request: Request, body: dict):
    limit, offset = _int(request, "limit", 50, low=1), _int(request, "offset", 0, high=10**9)

    def work(session, client: APIClient):
        return {"data": security.list_contacts(session, client=client, limit=limit, offset=offset)}

    return work


def leads_list(request: Request, body: dict):
    limit = _int(request, "limit", 50, low=1)

    def work(session, client: APIClient):
        return {"data": security.list_leads(session, client=client, limit=limit)}

    return work


def orders_list(request: Request, body: dict):
    limit, offset = _int(request, "limit", 50, low=1), _int(request, "offset", 0, high=10**9)

    def work(session, client: APIClient):
        return {"data": security.list_orders(session, client=client, limit=limit, offset=offset)}

    return work


def faqs_list(request: Request, body: dict):
    limit, offset = _int(request, "limit", 50, low=1), _int(request, "offset", 0, high=10**9)
    search = (request.query_params.get("search") or "")[:200]

    def work(session, client: APIClient):
        security.require_scope(client, "knowledge:read")
        found = knowledge.list_sources(
            session, actor=client.actor, search=search, limit=limit, offset=offset
        )
        return {"data": [s for s in found if s.kind == "faq"]}

    return work


def faqs_create(request: Request, body: dict):
    fields = {k: body.get(k) for k in ("question", "answer", "category", "language")}
    for name in ("question", "answer"):
        if not isinstance(fields[name], str):
            raise APIError(400, f"{name}: a text is required.", "invalid_request")
    for name in ("category", "language"):
        if fields[name] is not None and not isinstance(fields[name], str):
            raise APIError(400, f"{name}: must be text when given.", "invalid_request")

    def work(session, client: APIClient):
        security.require_scope(client, "knowledge:write")
        return knowledge.add_faq(session, actor=client.actor, **fields)

    return work


def knowledge_search(request: Request, body: dict):
    query = (request.query_params.get("q") or "").strip()[:500]
    if not query:
        raise APIError(400, "q: give the words to search for.", "invalid_request")
    k = _int(request, "k", 5, low=1, high=20)

    def work(session, client: APIClient):
        security.require_scope(client, "knowledge:read")
        found = knowledge.search(session, business_id=client.business_id, query=query, k=k)
        return {"data": found}

    return work


# --- OpenAPI --------------------------------------------------------------------------------


def _param(name: str, where: str = "query", kind: str = "string", required: bool = False):
    return {
        "name": name,
        "in": where,
        "required": required or where == "path",
        "schema": {"type": kind},
    }


_OBJ = {"type": "object"}


def _op(summary: str, scope: str | None, params=(), body: dict | None = None, status="200"):
    op: dict[str, Any] = {
        "summary": summary,
        "parameters": list(params),
        "responses": {
            status: {"description": "OK", "content": {"application/json": {"schema": _OBJ}}},
            "400": {"$ref": "#/components/responses/Error"},
            "401": {"$ref": "#/components/responses/Error"},
            "403": {"$ref": "#/components/responses/Error"},
            "404": {"$ref": "#/components/responses/Error"},
            "429": {"$ref": "#/components/responses/Error"},
        },
    }
    if scope:
        op["description"] = f"Needs the `{scope}` scope."
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return op


_CID = _param("conversation_id", "path", "integer")
_PAGE = [_param("limit", kind="integer"), _param("offset", kind="integer")]


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 description of `/api/v1`."""
    faq = {
        "type": "object",
        "required": ["question", "answer"],
        "properties": {
            "question": {"type": "string"},
            "answer": {"type": "string"},
            "category": {"type": "string"},
            "language": {"type": "string"},
        },
    }
    message = {"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "BizBot API",
            "version": "1",
            "description": "A business's conversations, contacts, knowledge, leads and orders. "
            "Send an API key (Security page, or `python -m backend.cli api-key create`) "
            "as `Authorization: Bearer bb_…`; errors are JSON `{error, code}`.",
        },
        "servers": [{"url": "/"}],
        "security": [{"apiKey": []}],
        "components": {
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
            "responses": {
                "Error": {
                    "description": "An error",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "error": {"type": "string"},
                                    "code": {"type": "string"},
                                },
                            }
                        }
                    },
                }
            },
        },
        "paths": {
            "/api/v1/me": {"get": _op("The key's business and scopes", None)},
            "/api/v1/conversations": {
                "get": _op(
                    "List conversations, newest activity first",
                    "conversations:read",
                    [_param("status"), _param("cursor"), _param("limit", kind="integer")],
                )
            },
            "/api/v1/conversations/{conversation_id}": {
                "get": _op("Read a conversation", "conversations:read", [_CID])
            },
            "/api/v1/conversations/{conversation_id}/messages": {
                "get": _op(
                    "List a conversation's messages, oldest first",
                    "conversations:read",
                    [_CID, _param("limit", kind="integer"), _param("before_id", kind="integer")],
                ),
                "post": _op(
                    "Send a message to the customer", "messages:write", [_CID], message, "201"
                ),
            },
            "/api/v1/contacts": {"get": _op("List contacts", "contacts:read", _PAGE)},
            "/api/v1/leads": {
                "get": _op("List leads", "leads:read", [_param("limit", kind="integer")])
            },
            "/api/v1/orders": {"get": _op("List orders", "orders:read", _PAGE)},
            "/api/v1/knowledge/faqs": {
                "get": _op("List FAQ entries", "knowledge:read", [*_PAGE, _param("search")]),
                "post": _op(
                    "Add an FAQ (or update the one with the same question)",
                    "knowledge:write",
                    (),
                    faq,
                    "201",
                ),
            },
            "/api/v1/knowledge/search": {
                "get": _op(
                    "Search the knowledge base",
                    "knowledge:read",
                    [_param("q", required=True), _param("k", kind="integer")],
                )
            },
        },
    }


async def openapi(request: Request) -> JSONResponse:
    """The OpenAPI document (no key needed)."""
    return JSONResponse(openapi_document())


routes = [
    Route("/api/v1/openapi.json", openapi, methods=["GET"]),
    Route("/api/v1/me", endpoint(me), methods=["GET"]),
    Route("/api/v1/conversations", endpoint(conversations_list), methods=["GET"]),
    Route("/api/v1/conversations/{conversation_id}", endpoint(conversation_get), methods=["GET"]),
    Route(
        "/api/v1/conversations/{conversation_id}/messages",
        endpoint(messages_list),
        methods=["GET"],
    ),
    Route(
        "/api/v1/conversations/{conversation_id}/messages",
        endpoint(messages_send, 201),
        methods=["POST"],
    ),
    Route("/api/v1/contacts", endpoint(contacts_list), methods=["GET"]),
    Route("/api/v1/leads", endpoint(leads_list), methods=["GET"]),
    Route("/api/v1/orders", endpoint(orders_list), methods=["GET"]),
    Route("/api/v1/knowledge/faqs", endpoint(faqs_list), methods=["GET"]),
    Route("/api/v1/knowledge/faqs", endpoint(faqs_create, 201), methods=["POST"]),
    Route("/api/v1/knowledge/search", endpoint(knowledge_search), methods=["GET"]),
]
