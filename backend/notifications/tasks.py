"""Jobs of notifications: send one by email; tell the team about new leads."""

from __future__ import annotations

import logging

from backend.core.db import session_scope
from backend.core.queue import enqueue
from backend.events import DomainEvent, listener
from backend.models.base import utcnow
from backend.notifications import repository as repo
from backend.notifications import service
from backend.notifications.schemas import EmailFailed, NotificationNotFound

log = logging.getLogger(__name__)


def send_email(notification_id: int) -> str:
    """Email one notification to its member; failures are recorded and retried with backoff.

    Returns "sent", or "skipped" when it was already sent or email was not asked for.
    """
    with session_scope() as session:
        notification = repo.get_notification_for_job(session, notification_id=notification_id)
        if notification is None:
            raise NotificationNotFound(f"notification {notification_id} does not exist")
        if notification.emailed_at is not None or not notification.email_requested:
            return "skipped"
        business_id = notification.business_id
        members = repo.members(
            session, business_id=business_id, user_ids=[notification.user_id or 0]
        )
        if not members:
            return "skipped"  # no longer a member (or deactivated): nothing to send
        message = service.compose_email(
            to=members[0][2],
            business_name=repo.business_name(session, business_id=business_id),
            title=notification.title,
            body=notification.body,
            link=notification.link,
        )
    # The SMTP conversation happens outside any transaction: a slow server holds no connection.
    try:
        with session_scope() as session:
            server = service.smtp_server_for(session, business_id=business_id)
        service.send_email(message, server=server)
    except EmailFailed as exc:
        with session_scope() as session:
            repo.record_email(
                session,
                business_id=business_id,
                notification_id=notification_id,
                sent_at=None,
                error=str(exc)[:2000],
            )
        raise
    with session_scope() as session:
        repo.record_email(
            session,
            business_id=business_id,
            notification_id=notification_id,
            sent_at=utcnow(),
            error=None,
        )
    return "sent"


def notify_new_lead(lead_id: int, business_id: int) -> int:
    """Notify the team of a new lead; how many members were notified (0 when run again)."""
    with session_scope() as session:
        lead = repo.get_lead(session, business_id=business_id, lead_id=lead_id)
        if lead is None:
            return 0
        return len(
            service.notify_new_lead(
                session,
                business_id=business_id,
                lead_id=lead.id,
                name=lead.name,
                interest=lead.interest,
            )
        )


@listener("lead.created")
def _on_lead_created(domain_event: DomainEvent) -> None:
    lead_id = domain_event.data.get("lead_id")
    if lead_id is not None:
        enqueue(notify_new_lead, int(lead_id), domain_event.business_id, queue="default")
