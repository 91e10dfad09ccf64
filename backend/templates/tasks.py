"""Jobs of message templates: apply Meta's webhook news, and the periodic status sync."""

from __future__ import annotations

import logging

from backend.core.db import session_scope
from backend.core.queue import get_queue
from backend.templates import repository as repo
from backend.templates import service
from backend.templates.schemas import GraphFailed, TemplateError

log = logging.getLogger(__name__)


def apply_webhook_updates(event_ids: list[int]) -> int:
    """Apply the template news among these stored webhook events; how many changed a template."""
    changed = 0
    with session_scope() as session:
        for event in repo.find_events_for_job(session, event_ids=event_ids):
            changed += service.apply_webhook_event(
                session, business_id=event.business_id, payload=event.payload or {}
            )
    return changed


def sync_all_templates() -> dict[str, int]:
    """Periodically: read every WhatsApp account's templates from Meta (each in its own step).

    One account failing (a revoked token, Meta down) is logged and never stops the others.
    """
    with session_scope() as session:
        targets = service.integrations_to_sync(session)
    totals = {"accounts": 0, "changed": 0, "failed": 0}
    for business_id, integration_id in targets:
        try:
            with session_scope() as session:
                totals["changed"] += service.sync_templates(
                    session, business_id=business_id, integration_id=integration_id
                )
            totals["accounts"] += 1
        except (GraphFailed, TemplateError) as exc:
            totals["failed"] += 1
            log.warning("template sync of integration %s failed: %s", integration_id, exc)
        except Exception:
            totals["failed"] += 1
            log.exception("template sync of integration %s failed", integration_id)
    return totals


def send_broadcast(broadcast_id: int, per_batch: int = service.BROADCAST_PER_SECOND) -> int:
    """Queue the next second's worth of a broadcast's messages; again in a second if more wait.

    The pause keeps a broadcast within the number's throughput (BROADCAST_PER_SECOND), so its
    conversations keep flowing while it runs.
    """
    with session_scope() as session:
        left = service.send_broadcast_batch(session, broadcast_id=broadcast_id, per_batch=per_batch)
    if left:
        get_queue("default").enqueue_in(
            service.BROADCAST_PAUSE, send_broadcast, broadcast_id, per_batch
        )
    return left
