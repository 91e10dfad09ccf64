"""RQ queues: one per kind of work, so a slow import never delays a customer's reply."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rq import Queue, Retry

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
