"""The installation's failed jobs: list them, run them again, throw them away.

One set of functions for both places an operator handles them: `python -m backend.cli jobs …`
(whoever has a shell on the host) and the System page (instance admins; `backend.ops.system`
checks the flag before calling these). They read the RQ failed registries every business
shares, so they take no business and check no permission themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry

from backend.core.queue import QUEUE_NAMES, get_queue
from backend.core.redis import get_redis

# The longest exception line kept for a failed job.
ERROR_CHARS = 500


class FailedJobGone(ValueError):
    """The failed job is no longer in the failed list (retried, discarded or expired)."""

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        super().__init__(
            f"Job {job_id} is no longer among the failed jobs (it was retried, discarded or "
            "expired). Refresh the list."
        )


@dataclass(frozen=True)
class FailedJob:
    """A job that failed after its last retry."""

    id: str
    queue: str
    function: str
    failed_at: datetime | None
    error: str  # the last line of the exception
    business_id: int | None
    args: tuple[Any, ...] = ()


def aware(value: datetime | None) -> datetime | None:
    """`value` as UTC-aware (RQ stores naive UTC times)."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _last_line(text: str | None) -> str:
    lines = [line.strip() for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1][:ERROR_CHARS] if lines else ""


def _business_of(job: Job) -> int | None:
    # Set by MeteredWorker when the job failed: the business id the job bound for its logs.
    value = (job.meta or {}).get("business_id")
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return int(value)
    return None


def _failed_job(job: Job, queue: str) -> FailedJob:
    try:
        function, args = job.func_name or "?", tuple(job.args or ())
    except Exception:  # A job whose data cannot be read is still listed, to discard.
        function, args = "?", ()
    result = job.latest_result()
    return FailedJob(
        id=job.id,
        queue=queue,
        function=function,
        failed_at=aware(job.ended_at),
        error=_last_line(result.exc_string if result is not None else ""),
        business_id=_business_of(job),
        args=args,
    )


def failed_jobs(*, limit: int | None = None) -> list[FailedJob]:
    """Jobs of every queue that failed after their last retry, newest first (all, or `limit`)."""
    if limit is not None and limit < 1:
        return []
    found: list[FailedJob] = []
    end = -1 if limit is None else limit - 1
    for name in QUEUE_NAMES:
        queue = get_queue(name)
        ids = FailedJobRegistry(queue=queue).get_job_ids(0, end, desc=True)
        for job in Job.fetch_many(ids, connection=queue.connection):
            if job is not None:  # its data expired before the registry noticed
                found.append(_failed_job(job, name))
    oldest = datetime.min.replace(tzinfo=UTC)
    found.sort(key=lambda j: j.failed_at or oldest, reverse=True)
    return found if limit is None else found[:limit]


def _registry_of(job_id: str) -> FailedJobRegistry:
    for name in QUEUE_NAMES:
        registry = FailedJobRegistry(queue=get_queue(name))
        if get_redis().zscore(registry.key, job_id) is not None:
            return registry
    raise FailedJobGone(job_id)


def retry(job_id: str) -> str:
    """Put a failed job back on its queue to run again; the queue's name."""
    registry = _registry_of(job_id)
    try:
        registry.requeue(job_id)
    except (InvalidJobOperation, NoSuchJobError):  # Someone else was quicker, or it expired.
        raise FailedJobGone(job_id) from None
    return registry.name


def retry_all() -> int:
    """Put every failed job back on its queue; how many were requeued."""
    count = 0
    for name in QUEUE_NAMES:
        registry = FailedJobRegistry(queue=get_queue(name))
        for job_id in registry.get_job_ids():
            try:
                registry.requeue(job_id)
                count += 1
            except (InvalidJobOperation, NoSuchJobError):
                registry.remove(job_id)  # its data expired: nothing left to run
    return count


def discard(job_id: str) -> str:
    """Delete a failed job for good (it is not run again); the queue it failed on."""
    registry = _registry_of(job_id)
    try:
        registry.remove(job_id, delete_job=True)
    except NoSuchJobError:  # Its data already expired; it is out of the list all the same.
        registry.remove(job_id)
    return registry.name
