"""Outgoing webhooks: a business's endpoints get chosen events as signed JSON POSTs.

Each event creates one delivery per subscribed endpoint (once: keyed by what it is about) and
a send job. A delivery is tried up to six times (now, then after 1 min, 5 min, 30 min, 2 h and
6 h); every attempt is recorded; an endpoint whose deliveries keep failing is switched off and
its owners told. Signature: `BizBot-Webhook-Signature: v1=<hex HMAC-SHA256(secret,
f"{timestamp}.{body}")>` with the timestamp of `BizBot-Webhook-Timestamp` (docs/webhooks.md).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import time
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlmodel import Session

from backend.auth.permissions import Actor, Permission
from backend.core import crypto
from backend.core.config import settings
from backend.core.queue import enqueue_after_commit
from backend.models.base import utcnow
from backend.models.outgoing import OutgoingDelivery, OutgoingDeliveryStatus, WebhookEndpoint
from backend.notifications import service as notifications
from backend.outgoing import repository as repo
from backend.outgoing.schemas import (
    DOMAIN_EVENTS,
    EVENT_TYPES,
    TEST_EVENT,
    WEBHOOK_DISABLED,
    AttemptResult,
    AttemptView,
    CreatedEndpoint,
    DeliveryNotFound,
    DeliveryView,
    EndpointNotFound,
    EndpointView,
    UnsafeDestination,
    WebhookError,
)
from backend.security import service as security

SEND_DELIVERY = "backend.outgoing.tasks.send_delivery"
# Seconds before the 2nd … 6th attempt of a delivery.
BACKOFF = (60, 300, 1800, 7200, 21600)
ATTEMPTS = len(BACKOFF) + 1
MAX_ENDPOINTS = 20
MAX_URL = 2000
RESPONSE_KEEP = 2048
SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
USER_AGENT = "BizBot-Webhooks/1"
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


# --- signing ---------------------------------------------------------------------------------


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The signature header's value: `v1=` + hex HMAC-SHA256 of `f"{timestamp}.{body}"`."""
    message = f"{timestamp}.".encode() + body
    return "v1=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_signature(secret: str, timestamp: str, body: bytes, header: str) -> bool:
    """Whether `header` holds a valid signature of this body (what a receiver checks)."""
    expected = sign(secret, timestamp, body)
    return any(hmac.compare_digest(expected, part.strip()) for part in header.split(","))


# --- where deliveries may go -----------------------------------------------------------------


def private_addresses() -> str:
    """Which private addresses endpoints may reach: "none", "loopback" or "all"."""
    configured = settings.outgoing_webhook_private_addresses
    if configured:
        return configured
    return "none" if settings.is_production else "loopback"


def _address_allowed(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, mode: str) -> bool:
    mapped = getattr(ip, "ipv4_mapped", None)
    ip = mapped or ip
    if ip.is_global and not ip.is_multicast:
        return True
    if mode == "all":
        return True
    return mode == "loopback" and ip.is_loopback


def check_destination(url: str) -> None:
    """Refuse a URL whose host resolves to a private, loopback or link-local address that the
    OUTGOING_WEBHOOK_PRIVATE_ADDRESSES setting does not allow (SSRF guard)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeDestination(
            f"The host {host!r} could not be resolved ({exc}); check the URL.", field="url"
        ) from None
    mode = private_addresses()
    for info in infos:
        ip = ipaddress.ip_address(info[4][0].split("%")[0])
        if not _address_allowed(ip, mode):
            raise UnsafeDestination(
                f"{host} resolves to {ip}, a private or local address; webhooks go to public "
                "addresses only (set OUTGOING_WEBHOOK_PRIVATE_ADDRESSES to allow it).",
                field="url",
            )


def clean_url(url: str) -> str:
    """The endpoint URL, checked: https (http only for localhost outside production)."""
    url = (url or "").strip()
    if not url:
        raise WebhookError("Enter the URL BizBot should POST events to.", field="url")
    if len(url) > MAX_URL:
        raise WebhookError(f"The URL is longer than {MAX_URL} characters.", field="url")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        raise WebhookError("That is not a valid URL; use https://host/path.", field="url") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise WebhookError("The URL must start with https:// and name a host.", field="url")
    if parts.username or parts.password:
        raise WebhookError(
            "Remove the user name and password from the URL; verify the signature instead.",
            field="url",
        )
    if parts.scheme == "http" and (
        settings.is_production or parts.hostname.lower() not in _LOCAL_HOSTS
    ):
        raise WebhookError(
            "The URL must use https:// (plain http is allowed only for localhost in development).",
            field="url",
        )
    if parts.fragment:
        raise WebhookError("Remove the #fragment from the URL.", field="url")
    return url


def _events(events: list[str] | str) -> list[str]:
    if isinstance(events, str):
        events = events.split(",")
    wanted = sorted({e.strip() for e in events if e and e.strip()})
    if not wanted:
        raise WebhookError("Choose at least one event to send.", field="events")
    unknown = [e for e in wanted if e not in EVENT_TYPES]
    if unknown:
        raise WebhookError(
            f"Unknown event {', '.join(unknown)}; choose from {', '.join(EVENT_TYPES)}.",
            field="events",
        )
    return wanted


# --- endpoints -------------------------------------------------------------------------------


def _view(endpoint: WebhookEndpoint) -> EndpointView:
    return EndpointView(
        id=endpoint.id,
        url=endpoint.url,
        description=endpoint.description,
        events=list(endpoint.events or []),
        secret_hint=endpoint.secret_hint,
        is_enabled=endpoint.is_enabled,
        disabled_reason=endpoint.disabled_reason,
        consecutive_failures=endpoint.consecutive_failures,
        created_at=endpoint.created_at,
        last_success_at=endpoint.last_success_at,
        last_failure_at=endpoint.last_failure_at,
    )


def _new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _endpoint(session: Session, actor: Actor, endpoint_id: int) -> WebhookEndpoint:
    actor.require(Permission.INTEGRATIONS_MANAGE)
    endpoint = repo.get_endpoint(session, business_id=actor.business_id, endpoint_id=endpoint_id)
    if endpoint is None:
        raise EndpointNotFound(f"No webhook endpoint {endpoint_id} in this business.")
    return endpoint


def _audit(session: Session, actor: Actor, action: str, endpoint: WebhookEndpoint, ip) -> None:
    security.record(
        session,
        business_id=actor.business_id,
        action=action,
        actor_user_id=actor.user_id,
        ip=ip,
        target_type="webhook_endpoint",
        target_id=endpoint.id,
        details={"url": endpoint.url, "events": list(endpoint.events or [])},
    )


def create_endpoint(
    session: Session,
    *,
    actor: Actor,
    url: str,
    events: list[str] | str,
    description: str | None = None,
    ip: str | None = None,
) -> CreatedEndpoint:
    """Register an endpoint for chosen events; its signing secret is returned this once."""
    actor.require(Permission.INTEGRATIONS_MANAGE)
    url = clean_url(url)
    wanted = _events(events)
    check_destination(url)
    business_id = actor.business_id
    if repo.find_endpoint_by_url(session, business_id=business_id, url=url) is not None:
        raise WebhookError("This URL is already registered; edit that endpoint.", field="url")
    if repo.count_endpoints(session, business_id=business_id) >= MAX_ENDPOINTS:
        raise WebhookError(
            f"A business can have up to {MAX_ENDPOINTS} endpoints; delete one first.", field="url"
        )
    secret = _new_secret()
    endpoint = WebhookEndpoint(
        business_id=business_id,
        url=url,
        description=" ".join((description or "").split())[:200] or None,
        events=wanted,
        secret_encrypted=crypto.encrypt(secret),
        secret_hint=secret[:10] + "…",
        created_by_user_id=actor.user_id,
    )
    session.add(endpoint)
    session.flush()
    _audit(session, actor, "webhook.created", endpoint, ip)
    return CreatedEndpoint(endpoint=_view(endpoint), secret=secret)


def list_endpoints(session: Session, *, actor: Actor) -> list[EndpointView]:
    """The business's endpoints (owners and admins)."""
    actor.require(Permission.INTEGRATIONS_MANAGE)
    return [_view(e) for e in repo.list_endpoints(session, business_id=actor.business_id)]


def rotate_secret(
    session: Session, *, actor: Actor, endpoint_id: int, ip: str | None = None
) -> CreatedEndpoint:
    """Give the endpoint a new signing secret (shown this once); the old one stops at once."""
    endpoint = _endpoint(session, actor, endpoint_id)
    secret = _new_secret()
    endpoint.secret_encrypted = crypto.encrypt(secret)
    endpoint.secret_hint = secret[:10] + "…"
    session.add(endpoint)
    session.flush()
    _audit(session, actor, "webhook.secret_rotated", endpoint, ip)
    return CreatedEndpoint(endpoint=_view(endpoint), secret=secret)


def set_enabled(
    session: Session, *, actor: Actor, endpoint_id: int, enabled: bool, ip: str | None = None
) -> EndpointView:
    """Switch an endpoint on (its failure count starts again) or off."""
    endpoint = _endpoint(session, actor, endpoint_id)
    endpoint.is_enabled = enabled
    if enabled:
        endpoint.consecutive_failures = 0
        endpoint.disabled_reason = endpoint.disabled_at = None
    else:
        endpoint.disabled_reason = "Disabled by a member."
        endpoint.disabled_at = utcnow()
    session.add(endpoint)
    session.flush()
    _audit(session, actor, "webhook.enabled" if enabled else "webhook.disabled", endpoint, ip)
    return _view(endpoint)


def delete_endpoint(
    session: Session, *, actor: Actor, endpoint_id: int, ip: str | None = None
) -> None:
    """Delete an endpoint with its deliveries."""
    endpoint = _endpoint(session, actor, endpoint_id)
    _audit(session, actor, "webhook.deleted", endpoint, ip)
    session.delete(endpoint)
    session.flush()


# --- deliveries ------------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _create_delivery(
    session: Session,
    *,
    endpoint: WebhookEndpoint,
    event_type: str,
    event_key: str,
    data: dict[str, Any],
    attempt_limit: int = ATTEMPTS,
) -> int | None:
    webhook_id = "evt_" + secrets.token_hex(12)
    now = utcnow()
    payload = {
        "id": webhook_id,
        "type": event_type,
        "created_at": now.isoformat(),
        "business_id": endpoint.business_id,
        "data": data,
    }
    contact_id = data.get("contact_id")
    delivery_id = repo.insert_delivery(
        session,
        business_id=endpoint.business_id,
        endpoint_id=endpoint.id,
        webhook_id=webhook_id,
        event_type=event_type,
        event_key=event_key[:120],
        contact_id=contact_id if isinstance(contact_id, int) else None,
        payload=payload,
        status=OutgoingDeliveryStatus.PENDING,
        attempts=0,
        attempt_limit=attempt_limit,
        created_at=now,
        updated_at=now,
    )
    if delivery_id is not None:
        enqueue_after_commit(session, SEND_DELIVERY, delivery_id, queue="default")
    return delivery_id


def _message_data(session: Session, business_id: int, data: dict) -> tuple[str, dict] | None:
    message = repo.get_message(session, business_id=business_id, message_id=int(data["message_id"]))
    if message is None or message.is_private_note:
        return None  # private notes stay inside the team
    conversation = repo.get_conversation(
        session, business_id=business_id, conversation_id=message.conversation_id
    )
    return f"message.created:{message.id}", {
        "message_id": message.id,
        "conversation_id": message.conversation_id,
        "contact_id": conversation.contact_id if conversation else None,
        "direction": message.direction,
        "sender_type": message.sender_type,
        "text": message.text,
        "content_type": message.content_type,
        "attachments": [
            {k: a.get(k) for k in ("type", "filename", "mime_type", "size") if k in a}
            for a in (message.attachments or [])
            if isinstance(a, dict)
        ],
        "created_at": _iso(message.created_at),
    }


def _handoff_data(session: Session, business_id: int, data: dict) -> tuple[str, dict] | None:
    conversation = repo.get_conversation(
        session, business_id=business_id, conversation_id=int(data["conversation_id"])
    )
    if conversation is None:
        return None
    # A conversation can be handed over more than once: each request is its own event.
    marker = data.get("handoff_id") or repo.latest_handoff_id(
        session, business_id=business_id, conversation_id=conversation.id
    )
    return f"conversation.handoff:{conversation.id}:{marker}", {
        "conversation_id": conversation.id,
        "contact_id": conversation.contact_id,
        "reason": data.get("reason"),
        "status": conversation.status,
    }


def _order_data(session: Session, business_id: int, data: dict) -> tuple[str, dict] | None:
    order = repo.get_order(session, business_id=business_id, order_id=int(data["order_id"]))
    if order is None:
        return None
    return f"order.paid:{order.id}", {
        "order_id": order.id,
        "number": order.number,
        "contact_id": order.contact_id,
        "conversation_id": order.conversation_id,
        "status": order.status,
        "currency": order.currency,
        "total_cents": order.total_cents,
    }


def _lead_data(session: Session, business_id: int, data: dict) -> tuple[str, dict] | None:
    lead = repo.get_lead(session, business_id=business_id, lead_id=int(data["lead_id"]))
    if lead is None:
        return None
    return f"lead.created:{lead.id}", {
        "lead_id": lead.id,
        "contact_id": lead.contact_id,
        "conversation_id": lead.conversation_id,
        "name": lead.name,
        "email": lead.email,
        "phone": lead.phone,
        "interest": lead.interest,
        "source": lead.source,
        "stage": lead.stage,
    }


_DESCRIBE = {
    "message.created": _message_data,
    "conversation.handoff": _handoff_data,
    "order.paid": _order_data,
    "lead.created": _lead_data,
}


def record_event(session: Session, *, business_id: int, name: str, data: dict) -> list[int]:
    """Create a delivery per enabled endpoint subscribed to this domain event; their ids.

    The same happening twice (a job run again) is delivered once per endpoint.
    """
    event_type = DOMAIN_EVENTS.get(name)
    if event_type is None:
        return []
    endpoints = repo.enabled_endpoints_for(session, business_id=business_id, event_type=event_type)
    if not endpoints:
        return []
    try:
        described = _DESCRIBE[event_type](session, business_id, data)
    except (KeyError, TypeError, ValueError):
        return []  # an event without the id it should carry: nothing to describe
    if described is None:
        return []
    event_key, payload_data = described
    ids = []
    for endpoint in endpoints:
        delivery_id = _create_delivery(
            session, endpoint=endpoint, event_type=event_type, event_key=event_key,
            data=payload_data,
        )  # fmt: skip
        if delivery_id is not None:
            ids.append(delivery_id)
    return ids


def send_test(session: Session, *, actor: Actor, endpoint_id: int) -> int:
    """Queue a `webhook.test` event to the endpoint (one attempt); the delivery's id."""
    endpoint = _endpoint(session, actor, endpoint_id)
    delivery_id = _create_delivery(
        session,
        endpoint=endpoint,
        event_type=TEST_EVENT,
        event_key=f"{TEST_EVENT}:{secrets.token_hex(8)}",
        data={"message": "A test event from BizBot: your endpoint is reachable."},
        attempt_limit=1,
    )
    if delivery_id is None:  # pragma: no cover - a random key never collides
        raise WebhookError("The test event could not be queued; try again.")
    return delivery_id


def _delivery_view(delivery: OutgoingDelivery, attempts: list[AttemptView]) -> DeliveryView:
    return DeliveryView(
        id=delivery.id,
        endpoint_id=delivery.endpoint_id,
        webhook_id=delivery.webhook_id,
        event_type=delivery.event_type,
        status=delivery.status,
        attempts=delivery.attempts,
        last_status_code=delivery.last_status_code,
        last_error=delivery.last_error,
        created_at=delivery.created_at,
        delivered_at=delivery.delivered_at,
        payload=dict(delivery.payload or {}),
        attempt_log=attempts,
    )


def list_deliveries(
    session: Session, *, actor: Actor, endpoint_id: int | None = None, limit: int = 50
) -> list[DeliveryView]:
    """Recent deliveries (of one endpoint), newest first, each with its attempts."""
    actor.require(Permission.INTEGRATIONS_MANAGE)
    business_id = actor.business_id
    rows = repo.list_deliveries(
        session, business_id=business_id, endpoint_id=endpoint_id, limit=max(1, min(limit, 200))
    )
    by_delivery: dict[int, list[AttemptView]] = {}
    for a in repo.attempts_of(session, business_id=business_id, delivery_ids=[r.id for r in rows]):
        by_delivery.setdefault(a.delivery_id, []).append(
            AttemptView(
                number=a.number,
                created_at=a.created_at,
                status_code=a.status_code,
                response_body=a.response_body,
                error=a.error,
                duration_ms=a.duration_ms,
                succeeded=a.succeeded,
            )
        )
    return [_delivery_view(r, by_delivery.get(r.id, [])) for r in rows]


def retry_delivery(session: Session, *, actor: Actor, delivery_id: int) -> None:
    """Send a failed delivery again, with the full retry schedule."""
    actor.require(Permission.INTEGRATIONS_MANAGE)
    delivery = repo.get_delivery(session, business_id=actor.business_id, delivery_id=delivery_id)
    if delivery is None:
        raise DeliveryNotFound(f"No webhook delivery {delivery_id} in this business.")
    if delivery.status != OutgoingDeliveryStatus.FAILED:
        raise WebhookError("Only a failed delivery can be retried; this one is " + delivery.status)
    endpoint = repo.get_endpoint(
        session, business_id=actor.business_id, endpoint_id=delivery.endpoint_id
    )
    if endpoint is None or not endpoint.is_enabled:
        raise WebhookError("Enable the endpoint first, then retry the delivery.")
    delivery.status = OutgoingDeliveryStatus.PENDING
    delivery.attempt_limit = delivery.attempts + (
        1 if delivery.event_type == TEST_EVENT else ATTEMPTS
    )
    delivery.failed_at = None
    session.add(delivery)
    session.flush()
    enqueue_after_commit(session, SEND_DELIVERY, delivery.id, queue="default")


# --- sending ---------------------------------------------------------------------------------


def prepare(session: Session, *, delivery_id: int) -> tuple[str, bytes, dict[str, str]] | None:
    """The URL, body and signed headers of the delivery's next attempt; None when it is not
    due (sent, failed or deleted) or its endpoint is off (then it is marked failed)."""
    delivery = repo.get_delivery_for_job(session, delivery_id=delivery_id)
    if delivery is None or delivery.status != OutgoingDeliveryStatus.PENDING:
        return None  # sent, failed, or deleted with its endpoint: nothing to do
    endpoint = repo.get_endpoint(
        session, business_id=delivery.business_id, endpoint_id=delivery.endpoint_id
    )
    if endpoint is None or not endpoint.is_enabled:
        delivery.status = OutgoingDeliveryStatus.FAILED
        delivery.last_error = "The endpoint was disabled; enable it and retry."
        delivery.failed_at = utcnow()
        session.add(delivery)
        session.flush()
        return None
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()
    timestamp = str(int(time.time()))
    secret = crypto.decrypt(endpoint.secret_encrypted)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "BizBot-Webhook-Id": delivery.webhook_id,
        "BizBot-Webhook-Timestamp": timestamp,
        "BizBot-Webhook-Signature": sign(secret, timestamp, body),
    }
    return endpoint.url, body, headers


def post(url: str, body: bytes, headers: dict[str, str]) -> AttemptResult:
    """POST once (no redirects followed) and keep the first 2 KB of the answer."""
    started = time.monotonic()

    def done(status: int | None, text: str | None, error: str | None) -> AttemptResult:
        elapsed = int((time.monotonic() - started) * 1000)
        return AttemptResult(status, text, error, elapsed)

    try:
        check_destination(url)
    except UnsafeDestination as exc:
        return done(None, None, exc.message)
    timeout = settings.outgoing_webhook_timeout
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client,
            client.stream("POST", url, content=body, headers=headers) as response,
        ):
            kept = b""
            for chunk in response.iter_bytes():
                kept += chunk
                if len(kept) >= RESPONSE_KEEP:
                    break
            text = kept[:RESPONSE_KEEP].decode("utf-8", errors="replace")
            status = response.status_code
    except httpx.TimeoutException:
        return done(None, None, f"The receiver did not answer within {timeout:g} s.")
    except httpx.HTTPError as exc:
        return done(None, None, f"Could not reach the receiver: {type(exc).__name__}: {exc}")
    error = None
    if not 200 <= status < 300:
        error = f"The receiver answered HTTP {status}" + (
            " (redirects are not followed: register the final URL)." if 300 <= status < 400 else "."
        )
    return done(status, text, error)


def record_attempt(session: Session, *, delivery_id: int, result: AttemptResult) -> int | None:
    """Store an attempt's outcome; seconds until the next attempt, or None when done."""
    delivery = repo.get_delivery_for_job(session, delivery_id=delivery_id)
    if delivery is None:
        return None  # deleted with its endpoint while the POST was under way
    business_id = delivery.business_id
    delivery.attempts += 1
    repo.add_attempt(
        session,
        business_id=business_id,
        delivery_id=delivery.id,
        number=delivery.attempts,
        status_code=result.status_code,
        response_body=result.response_body,
        error=result.error,
        duration_ms=result.duration_ms,
        succeeded=result.succeeded,
    )
    delivery.last_status_code = result.status_code
    delivery.last_error = result.error
    is_test = delivery.event_type == TEST_EVENT
    if result.succeeded:
        delivery.status = OutgoingDeliveryStatus.SUCCEEDED
        delivery.delivered_at = utcnow()
        session.add(delivery)
        if not is_test:
            repo.reset_failures(session, business_id=business_id, endpoint_id=delivery.endpoint_id)
        session.flush()
        return None
    remaining = delivery.attempt_limit - delivery.attempts
    if remaining > 0:
        session.add(delivery)
        session.flush()
        return BACKOFF[max(0, min(len(BACKOFF) - remaining, len(BACKOFF) - 1))]
    delivery.status = OutgoingDeliveryStatus.FAILED
    delivery.failed_at = utcnow()
    session.add(delivery)
    session.flush()
    if not is_test:
        _count_failure(session, business_id=business_id, endpoint_id=delivery.endpoint_id)
    return None


def _count_failure(session: Session, *, business_id: int, endpoint_id: int) -> None:
    failures = repo.add_failure(session, business_id=business_id, endpoint_id=endpoint_id)
    limit = settings.outgoing_webhook_failure_limit
    endpoint = repo.get_endpoint(session, business_id=business_id, endpoint_id=endpoint_id)
    if endpoint is None or failures < limit or not endpoint.is_enabled:
        return
    reason = f"Switched off after {failures} deliveries in a row failed."
    endpoint.is_enabled = False
    endpoint.disabled_reason = reason
    endpoint.disabled_at = utcnow()
    session.add(endpoint)
    session.flush()
    repo.fail_pending_of_endpoint(
        session, business_id=business_id, endpoint_id=endpoint_id,
        error="The endpoint was switched off after repeated failures; enable it and retry.",
    )  # fmt: skip
    security.record(
        session,
        business_id=business_id,
        action="webhook.auto_disabled",
        target_type="webhook_endpoint",
        target_id=endpoint_id,
        details={"url": endpoint.url, "failures": failures},
    )
    notifications.notify_roles(
        session,
        business_id=business_id,
        kind=WEBHOOK_DISABLED,
        roles=("owner", "admin"),
        title=f"Webhook endpoint switched off: {endpoint.url}"[:200],
        body=f"{reason} Fix the receiver, then enable it on the Webhooks page and retry the "
        "failed deliveries.",
        link="/settings/webhooks",
        data={"endpoint_id": endpoint_id},
        dedup_key=f"webhook-disabled:{endpoint_id}:{int(time.time())}",
    )
