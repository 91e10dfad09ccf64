"""Tell the owners, once, that the getting-started checklist is complete."""

from __future__ import annotations

from backend.core.db import session_scope
from backend.events import DomainEvent, listener
from backend.models.notifications import NotificationKind
from backend.notifications import service as notifications


@listener("onboarding.completed")
def tell_owners(event: DomainEvent) -> None:
    """Notify owners and admins that every setup step is done."""
    with session_scope() as session:
        notifications.notify_roles(
            session,
            business_id=event.business_id,
            kind=NotificationKind.SETUP_COMPLETE,
            roles=("owner", "admin"),
            title="All set: your business is ready",
            body="Every setup step is done. Your assistant is answering customers.",
            link="/",
            dedup_key="onboarding:completed",
        )
