"""The one place domain events fan out: a step publishes, listeners react.

`publish(session, name, business_id=…, **data)` is called by services as things happen; the
event is delivered to listeners after the session commits (never for rolled-back work).
Listeners (live push, notifications, analytics) register with `@listener("message.created")`
or `@listener("*")` in a module named in `backend.listeners.LISTENER_MODULES`; all of them are
installed when the first event is published, in every process. A failing listener is logged
and never breaks the step that published.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, SessionTransaction, object_session

from backend import listeners
from backend.core.db import committed, held, hold, undone

log = logging.getLogger(__name__)

_PENDING_KEY = "bizbot_events"
_FORGET_KEY = "bizbot_business_flags_written"  # (flag, business_id) written in this transaction
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
    hold(session, _PENDING_KEY, domain_event)
    return domain_event


def pending(session: Session) -> list[DomainEvent]:
    """The events `session` will deliver when it commits."""
    return held(session, _PENDING_KEY)


def dispatch(domain_event: DomainEvent) -> None:
    """Deliver one event to its listeners now (every listener of the product, see above)."""
    listeners.install()
    for func in [*_listeners.get(domain_event.name, []), *_listeners.get("*", [])]:
        try:
            func(domain_event)
        except Exception:  # A listener must never break the pipeline step that published.
            log.exception("listener %s failed on %s", getattr(func, "__name__", func), domain_event)


# Work listeners hand back to do once per commit (see `after_batch`), by the commit being
# delivered; None outside a delivery.
_batch: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "bizbot_event_batch", default=None
)
_batch_flushers: dict[str, Callable[[list[Any]], None]] = {}


def after_batch(kind: str, item: Any, flush: Callable[[list[Any]], None]) -> bool:
    """Collect `item` to be handed to `flush` with the others of its kind once every event of
    the commit being delivered reached its listeners (a live push pipelines its Redis
    publishes this way). Returns False outside a delivery: the caller does the work itself."""
    batch = _batch.get()
    if batch is None:
        return False
    batch.setdefault(kind, []).append(item)
    _batch_flushers[kind] = flush
    return True


@contextmanager
def _collecting() -> Iterator[None]:
    token = _batch.set({})
    try:
        yield
    finally:
        batch = _batch.get() or {}
        _batch.reset(token)
        for kind, items in batch.items():
            try:
                _batch_flushers[kind](items)
            except Exception:  # Like a listener: never break the step that published.
                log.exception("listener batch %s failed", kind)


@sa_event.listens_for(Session, "after_commit")
def _deliver(session: Session) -> None:
    # Flags first: a listener of this commit's events must see the rows it committed.
    _forget_written(session)
    delivered = committed(session, _PENDING_KEY)
    if not delivered:
        return
    with _collecting():
        for domain_event in delivered:
            dispatch(domain_event)


class BusinessFlag:
    """A per-process memory of one yes/no fact about a business that a listener checks before
    doing any work, such as "has enabled webhook endpoints for message.created".

    Listeners run after every commit of every reply; most businesses have nothing for most of
    them, and asking the database each time was a large part of a reply's cost. A remembered
    answer is used for `ttl` seconds: "yes" only makes the listener do its usual (fresh)
    work, and "no" means something added since is honoured at most `ttl` seconds late by
    other processes. In this process, writing a row of a `watch`ed model through the ORM
    forgets that business's answers when the write commits (not at its flush, when other
    sessions would still read, and remember, the old answer).
    """

    def __init__(
        self,
        lookup: Callable[..., bool],
        *,
        ttl: float = 5.0,
        watch: tuple[type, ...] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.lookup = lookup
        self.ttl = ttl
        self.clock = clock
        self._known: dict[tuple[int, Hashable], tuple[float, bool]] = {}
        self._forgets = 0  # counts `forget` calls: a lookup that overlapped one is not kept
        self._lock = threading.Lock()
        for model in watch:
            for name in ("after_insert", "after_update", "after_delete"):
                sa_event.listen(model, name, self._on_write)

    def __call__(self, business_id: int, key: Hashable = None) -> bool:
        """The fact for this business (and `key`), looked up when not known or too old."""
        now = self.clock()
        with self._lock:
            known = self._known.get((business_id, key))
            forgets = self._forgets
        if known is not None and known[0] > now:
            return known[1]
        value = bool(self.lookup(business_id, key))
        with self._lock:
            if self._forgets == forgets:
                self._known[(business_id, key)] = (now + self.ttl, value)
        return value

    def forget(self, business_id: int | None = None) -> None:
        """Look the fact up again next time: for one business, or for all (None)."""
        with self._lock:
            self._forgets += 1
            if business_id is None:
                self._known.clear()
            else:
                for known in [k for k in self._known if k[0] == business_id]:
                    del self._known[known]

    def _on_write(self, mapper: Any, connection: Any, target: Any) -> None:
        business_id = getattr(target, "business_id", None)
        session = object_session(target)
        if session is None:
            self.forget(business_id)
            return
        session.info.setdefault(_FORGET_KEY, set()).add((self, business_id))


def _forget_written(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint was released: its writes are not committed yet
    for flag, business_id in session.info.pop(_FORGET_KEY, ()):
        flag.forget(business_id)


@sa_event.listens_for(Session, "after_transaction_end")
def _drop_written(session: Session, transaction: SessionTransaction) -> None:
    # The transaction ended without a commit (rolled back, or closed): nothing to forget. A
    # savepoint's rollback keeps the notes, as the writes before it may still commit.
    if transaction.parent is None:
        session.info.pop(_FORGET_KEY, None)


@sa_event.listens_for(Session, "after_rollback")
def _discard(session: Session) -> None:
    undone(session, _PENDING_KEY)
