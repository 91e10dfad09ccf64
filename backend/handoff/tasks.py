"""Jobs of handoff: route a new handoff, assign waiting conversations, the minute SLA check.

Importing this module registers the `handoff.requested` listener (the worker and the web app
import it), so a handoff is routed within moments; the minute job routes any it missed.
"""

from __future__ import annotations

import logging

from backend.core.db import session_scope
from backend.core.queue import enqueue
from backend.events import DomainEvent, listener
from backend.handoff import repository as repo
from backend.handoff import service
from backend.handoff.schemas import ConversationNotFound

log = logging.getLogger(__name__)


def route_handoff(conversation_id: int) -> str:
    """Apply the SLA policy to the conversation's new handoff, notify the team, assign it."""
    with session_scope() as session:
        conversation = repo.get_conversation_for_job(session, conversation_id=conversation_id)
        if conversation is None:
            raise ConversationNotFound(f"conversation {conversation_id} does not exist")
        return service.route_handoff(session, conversation=conversation)


def assign_waiting(business_id: int) -> int:
    """Assign the business's waiting conversations to online agents with room."""
    with session_scope() as session:
        return service.assign_waiting(session, business_id=business_id)


def record_agent_reply(message_id: int, business_id: int) -> bool:
    """Count an agent's reply (however it was sent) on the conversation's SLA clocks."""
    with session_scope() as session:
        return service.record_agent_reply(session, business_id=business_id, message_id=message_id)


def check_sla() -> dict[str, int]:
    """Every minute: route, assign, warn and escalate in every business with open handoffs.

    Each business is checked in its own transaction, so one failing never stops the others.
    """
    with session_scope() as session:
        business_ids = service.businesses_to_check(session)
    totals = {"businesses": 0, "routed": 0, "assigned": 0, "warned": 0, "breached": 0}
    for business_id in business_ids:
        try:
            with session_scope() as session:
                run = service.check_sla(session, business_id=business_id)
        except Exception:
            log.exception("SLA check of business %s failed", business_id)
            continue
        totals["businesses"] += 1
        totals["routed"] += run.routed
        totals["assigned"] += run.assigned
        totals["warned"] += run.warned
        totals["breached"] += run.breached
    if totals["routed"] or totals["assigned"] or totals["warned"] or totals["breached"]:
        log.info("SLA check: %s", totals)
    return totals


@listener("handoff.requested")
def _on_handoff_requested(domain_event: DomainEvent) -> None:
    conversation_id = domain_event.data.get("conversation_id")
    if conversation_id is not None:
        enqueue(route_handoff, int(conversation_id), queue="default")


@listener("message.created")
def _on_agent_message(domain_event: DomainEvent) -> None:
    data = domain_event.data
    # Replies from the inbox set the clocks themselves; this catches the others (echoes).
    if data.get("sender_type") == "agent" and not data.get("is_private_note"):
        enqueue(
            record_agent_reply, int(data["message_id"]), domain_event.business_id, queue="default"
        )
