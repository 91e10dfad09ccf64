"""Jobs of outgoing webhooks: turn events into deliveries, and send one delivery.

Importing this module registers the listeners (the worker and the web app import it).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from backend.core.db import session_scope
from backend.core.queue import get_queue
from backend.events import BusinessFlag, DomainEvent, listener
from backend.models.outgoing import WebhookEndpoint
from backend.outgoing import repository, service
from backend.outgoing.schemas import DOMAIN_EVENTS

log = logging.getLogger(__name__)


def send_delivery(delivery_id: int) -> str:
    """POST one delivery once; schedule its next attempt on failure (1 min … 6 h later).

    Returns "succeeded", "retry in N s", "failed" or "skipped" (not pending any more).
    """
    with session_scope() as session:
        prepared = service.prepare(session, delivery_id=delivery_id)
    if prepared is None:
        return "skipped"
    url, body, headers = prepared
    # The HTTP call holds no database connection: a slow receiver blocks nothing else.
    result = service.post(url, body, headers)
    with session_scope() as session:
        delay = service.record_attempt(session, delivery_id=delivery_id, result=result)
    if result.succeeded:
        return "succeeded"
    if delay is None:
        return "failed"
    get_queue("default").enqueue_in(timedelta(seconds=delay), send_delivery, delivery_id)
    return f"retry in {delay} s"


def _endpoints_subscribed(business_id: int, name: str) -> bool:
    event_type = DOMAIN_EVENTS.get(name)
    if event_type is None:
        return False
    with session_scope() as session:
        return bool(
            repository.enabled_endpoints_for(
                session, business_id=business_id, event_type=event_type
            )
        )


# Whether a business has an endpoint for an event, remembered for a few seconds per process
# (every reply's events ask): an endpoint added in the dashboard gets events at most
# ENDPOINTS_TTL seconds later in the workers (at once in the process that saved it).
ENDPOINTS_TTL = 5.0
_has_endpoints = BusinessFlag(_endpoints_subscribed, ttl=ENDPOINTS_TTL, watch=(WebhookEndpoint,))


@listener("message.created")
@listener("handoff.requested")
@listener("order.paid")
@listener("lead.created")
def _on_event(domain_event: DomainEvent) -> None:
    # One listener for every event an endpoint can choose (see schemas.DOMAIN_EVENTS).
    if not _has_endpoints(domain_event.business_id, domain_event.name):
        return
    with session_scope() as session:
        service.record_event(
            session,
            business_id=domain_event.business_id,
            name=domain_event.name,
            data=dict(domain_event.data),
        )
