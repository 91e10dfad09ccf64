"""The one place domain events fan out: a step publishes, listeners react.

`publish(session, name, business_id=…, **data)` is called by services as things happen; the
event is delivered to listeners after the session commits (never for rolled-back work).
Listeners (live push, notifications, analytics) register with `@listener("message.created")`
or `@listener("*")` in a module named in `backend.listeners.LISTENER_MODULES`; all of them are
installed when the first event is published, in every process. A failing listener is logged
and never breaks the step that published.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from backend import listeners

log = logging.getLogger(__name__)

_PENDING_KEY = "bizbot_events"
_listeners: dict[str, list[Callable[[DomainEvent], None]]] = defaultdict(list)


@dataclass(frozen=True)
class DomainEvent:
    """Something that happened in one business: `message.created`, `conversation.updated`, …"""

    name: str
    business_id: int
    data: dict[str, Any] = field(default_factory=dict)


def listener(name: str) -> Callable[[Callable[[DomainEvent], None]], Callable[[DomainEvent], None]]:
    """Register a function called with every event called `name` ("*" for all)."""

    def register(func: Callable[[DomainEvent], None]) -> Callable[[DomainEvent], None]:
        _listeners[name].append(func)
        return func

    return register


def publish(session: Session, name: str, *, business_id: int, **data: Any) -> DomainEvent:
    """Queue an event for delivery when `session` commits."""
    # Listener modules are imported here, not during the commit: importing one may register
    # SQLAlchemy session hooks, which must not happen while the commit's hooks run.
    listeners.install()
    domain_event = DomainEvent(name=name, business_id=business_id, data=data)
    session.info.setdefault(_PENDING_KEY, []).append(domain_event)
    return domain_event


def dispatch(domain_event: DomainEvent) -> None:
    """Deliver one event to its listeners now (every listener of the product, see above)."""
    listeners.install()
    for func in [*_listeners.get(domain_event.name, []), *_listeners.get("*", [])]:
        try:
            func(domain_event)
        except Exception:  # A listener must never break the pipeline step that published.
            log.exception("listener %s failed on %s", getattr(func, "__name__", func), domain_event)


@sa_event.listens_for(Session, "after_commit")
def _deliver(session: Session) -> None:
    for domain_event in session.info.pop(_PENDING_KEY, []):
        dispatch(domain_event)


@sa_event.listens_for(Session, "after_rollback")
def _discard(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)
