"""RQ queues: one per kind of work, so a slow import never delays a customer's reply."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rq import Queue, Retry
from rq.queue import EnqueueData
from sqlalchemy import event
from sqlalchemy.orm import Session

from backend.core.db import committed, held, hold, undone
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
    return get_queue(queue).enqueue(func, *args, retry=_retry(retries), **kwargs)


def _retry(retries: int) -> Retry | None:
    return Retry(max=retries, interval=[5, 30, 120, 600][:retries]) if retries else None


_PENDING_KEY = "bizbot_enqueue_after_commit"


def enqueue_after_commit(
    session: Session, func: Callable[..., Any], *args: Any, queue: str = "default", **kwargs: Any
) -> None:
    """Enqueue a job once `session` commits (dropped if it, or the savepoint it is queued in,
    rolls back), so the job finds its row."""
    hold(session, _PENDING_KEY, (func, args, queue, kwargs))


def pending_jobs(session: Session) -> list[tuple[Callable[..., Any] | str, tuple, str, dict]]:
    """The (func, args, queue, options) jobs `session` will enqueue when it commits."""
    return held(session, _PENDING_KEY)


def enqueue_all(jobs: list[tuple[Callable[..., Any] | str, tuple, str, dict[str, Any]]]) -> None:
    """Enqueue (func, args, queue, options) jobs in order, in one Redis round trip."""
    batched: list[tuple[Queue, EnqueueData]] = []
    for func, args, queue, kwargs in jobs:
        options = dict(kwargs)
        retries = options.pop("retries", 3)
        retry = options.pop("retry", None) or _retry(retries)
        parsed = Queue.parse_args(func, *args, retry=retry, **options)
        if parsed.depends_on or parsed.repeat or parsed.unique or parsed.pipeline:
            get_queue(queue).enqueue(func, *args, retry=retry, **options)  # RQ's own path
            continue
        data = Queue.prepare_data(
            parsed.func, args=parsed.args, kwargs=parsed.kwargs, timeout=parsed.timeout,
            result_ttl=parsed.result_ttl, ttl=parsed.ttl, failure_ttl=parsed.failure_ttl,
            description=parsed.description, job_id=parsed.job_id, at_front=parsed.at_front,
            meta=parsed.meta, retry=parsed.retry, on_success=parsed.on_success,
            on_failure=parsed.on_failure, on_stopped=parsed.on_stopped, webhooks=parsed.webhooks,
        )  # fmt: skip
        batched.append((get_queue(queue), data))
    if not batched:
        return
    with get_redis().pipeline() as pipe:
        for q, data in batched:
            q.enqueue_many([data], pipeline=pipe)
        pipe.execute()


@event.listens_for(Session, "after_commit")
def _run_pending(session: Session) -> None:
    pending = committed(session, _PENDING_KEY)
    if pending:
        enqueue_all(pending)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    undone(session, _PENDING_KEY)
