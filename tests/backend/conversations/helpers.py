"""Small helpers of the pipeline tests: deliver messages, run workers, read rows back."""

from __future__ import annotations

from datetime import datetime

from rq import SimpleWorker
from sqlmodel import select

from backend.channels.base import ChannelConfig, ChannelEvent, MessageIn
from backend.conversations import service
from backend.core.db import session_scope
from backend.core.queue import get_queue
from backend.core.redis import get_redis


def message(n: int, text: str = "Hello", sender: str = "cust-1", at: datetime | None = None):
    """A customer's text message as a channel parses it."""
    return MessageIn(external_id=f"m{n}", sender_id=sender, text=text, sender_name="Zawadi",
                     timestamp=at)  # fmt: skip


def receive(cfg: ChannelConfig, *events_in: ChannelEvent) -> list[int]:
    """Store events as a webhook does (committed, jobs enqueued); the new event ids."""
    with session_scope() as session:
        return service.receive(session, cfg=cfg, events_in=list(events_in))


def run_worker(*queues: str) -> None:
    """Work the queues (inbound and outbound by default) until they are empty."""
    names = queues or ("inbound", "outbound")
    SimpleWorker([get_queue(n) for n in names], connection=get_redis()).work(burst=True)


def rows(model, *where) -> list:
    """The committed rows of `model` matching `where`, by id."""
    with session_scope() as session:
        return list(session.exec(select(model).where(*where).order_by(model.id)).all())
