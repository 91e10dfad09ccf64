"""RQ queues: one per kind of work, so a slow import never delays a customer's reply."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rq import Queue, Retry
from sqlalchemy import event
from sqlalchemy.orm import Session

from backend.core.redis import get_redis

QUEUE_NAMES = ("inbound", "outbound", "knowledge", "scheduled", "default")


def get_queue(name: str = "default") -> Queue:
    """The RQ queue called `name` on the shared Redis."""
    if name not in QUEUE_NAMES:
        msg = f"unknown queue {name!r}; use one of {', '.join(QUEUE_NAMES)}"
        raise ValueError(msg)
    return Queue(name, connection=get_redis())


def enqueue(
    func: Callable[..., Any], *args: Any, queue: str = "default", retries: int = 3, **kwargs: Any
):
    """Enqueue a job with retries and exponential backoff (5 s, 30 s, 2 min …)."""
    retry = Retry(max=retries, interval=[5, 30, 120, 600][:retries]) if retries else None
    return get_queue(queue).enqueue(func, *args, retry=retry, **kwargs)


_PENDING_KEY = "bizbot_enqueue_after_commit"


def enqueue_after_commit(
    session: Session, func: Callable[..., Any], *args: Any, queue: str = "default", **kwargs: Any
) -> None:
    """Enqueue a job once `session` commits (dropped if it rolls back), so the job finds its row."""
    session.info.setdefault(_PENDING_KEY, []).append((func, args, queue, kwargs))


@event.listens_for(Session, "after_commit")
def _run_pending(session: Session) -> None:
    for func, args, queue, kwargs in session.info.pop(_PENDING_KEY, []):
        enqueue(func, *args, queue=queue, **kwargs)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)
