"""Tell the owners, once a month, that the plan's AI conversations are used up."""

from __future__ import annotations

from backend.core.db import session_scope
from backend.events import DomainEvent, listener
from backend.models.base import utcnow
from backend.models.notifications import NotificationKind
from backend.notifications import service as notifications


@listener("billing.limit_reached")
def tell_owners(event: DomainEvent) -> None:
    """Notify the owners that new conversations wait for the team until the plan is upgraded."""
    month = utcnow().strftime("%Y-%m")
    limit = event.data.get("limit")
    with session_scope() as session:
        notifications.notify_roles(
            session,
            business_id=event.business_id,
            kind=NotificationKind.BILLING,
            roles=("owner",),
            title="Your plan's conversations for this month are used up",
            body=(
                f"The {event.data.get('plan', 'current')} plan includes {limit} AI conversations "
                "a month. New conversations now wait for your team instead of the AI; upgrade "
                "on the Billing page to let the AI answer them again."
            ),
            link="/billing",
            dedup_key=f"billing-limit:{event.business_id}:{month}",
        )
