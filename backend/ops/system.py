"""The System page's services: the installation's workers, queues, failed jobs and last errors.

Only instance admins (`User.is_instance_admin`: the first user, or one given the flag by
`python -m backend.cli user admin --email … --grant`) may call them. They are not scoped to a
business on purpose: they read the RQ queues that every business shares. Failed jobs are
listed, retried and discarded by `backend.ops.jobs`, which the `jobs` CLI commands call too.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime

from rq import Worker
from rq.registry import DeferredJobRegistry, ScheduledJobRegistry
from sqlmodel import Session

from backend.auth import repository as auth_repo
from backend.core import logs
from backend.core.queue import get_queue
from backend.core.redis import get_redis
from backend.models.base import utcnow
from backend.ops import doctor, jobs
from backend.ops.jobs import FailedJob, aware
from backend.ops.jobs import FailedJobGone as FailedJobGone  # raised by retry and discard
from backend.ops.metrics import WORKER_STALE_SECONDS, queue_stats
from backend.security import service as security
from backend.tenants import repository as tenants_repo

log = logging.getLogger(__name__)

FAILED_JOBS_SHOWN = 100


class NotInstanceAdmin(PermissionError):
    """The signed-in user does not run this installation."""

    def __init__(self) -> None:
        super().__init__(
            "The System page is for this installation's admins. Ask one of them to run "
            "`python -m backend.cli user admin --email <your email> --grant`."
        )


class AdminChangeRefused(ValueError):
    """A grant or revoke of the instance-admin flag that cannot be done (unknown user, last one)."""


@dataclass(frozen=True)
class AdminChange:
    """The instance-admin flag of one user after a grant or revoke."""

    user_id: int
    email: str
    is_instance_admin: bool
    changed: bool


@dataclass(frozen=True)
class WorkerInfo:
    """One RQ worker as its last heartbeat described it."""

    name: str
    host: str
    pid: int | None
    queues: tuple[str, ...]
    state: str  # "busy", "idle", "suspended", …
    current_job: str | None
    last_heartbeat: datetime | None
    alive: bool  # heartbeat within WORKER_STALE_SECONDS
    successful: int
    failed: int


@dataclass(frozen=True)
class QueueInfo:
    """One queue: jobs waiting, how long the oldest has waited, failed, scheduled, deferred."""

    name: str
    depth: int
    oldest_seconds: float
    failed: int
    scheduled: int
    deferred: int


@dataclass(frozen=True)
class ErrorEntry:
    """An ERROR-level log line from any BizBot process (kept in Redis, newest first)."""

    at: str
    level: str
    logger: str
    event: str
    error: str
    business_id: int | None
    job_id: str | None


@dataclass(frozen=True)
class SystemSnapshot:
    """What the System page shows, read at one time."""

    workers: list[WorkerInfo]
    queues: list[QueueInfo]
    failed_jobs: list[FailedJob]
    errors: list[ErrorEntry]
    read_at: datetime


# --- who may look -------------------------------------------------------------------------


def is_instance_admin(session: Session, *, user_id: int) -> bool:
    """Whether this user runs the installation (and may open the System page)."""
    user = auth_repo.get_user(session, user_id=user_id)
    return bool(user is not None and user.is_active and user.is_instance_admin)


def require_instance_admin(session: Session, *, user_id: int) -> None:
    """Raise NotInstanceAdmin unless this user runs the installation."""
    if not is_instance_admin(session, user_id=user_id):
        raise NotInstanceAdmin()


def set_instance_admin(session: Session, *, email: str, grant: bool) -> AdminChange:
    """Grant or revoke the instance-admin flag (CLI); never removes the last instance admin."""
    user = auth_repo.find_user_by_login_email(session, email=email.strip())
    if user is None:
        raise AdminChangeRefused(
            f"No account uses {email!r}. Check the spelling, or create it with "
            "`python -m backend.cli user create … --instance-admin`."
        )
    if bool(user.is_instance_admin) == grant:
        return AdminChange(user.id, user.email, grant, changed=False)
    if not grant:
        admins = auth_repo.list_instance_admins(session, lock=True)
        if [a.id for a in admins] == [user.id]:
            raise AdminChangeRefused(
                f"{user.email} is the last instance admin; grant another user first "
                "(`user admin --email OTHER --grant`), then revoke this one."
            )
    user.is_instance_admin = grant
    session.add(user)
    action = "instance_admin.granted" if grant else "instance_admin.revoked"
    # Each business the user belongs to sees the change in its audit log.
    for membership in tenants_repo.list_memberships_of_user(session, user_id=user.id):
        security.record(session, business_id=membership.business_id, action=action,
                        target_type="user", target_id=user.id)  # fmt: skip
    session.flush()
    log.warning("%s: user %s (%s)", action, user.id, user.email)
    return AdminChange(user.id, user.email, grant, changed=True)


# --- what the installation is doing -------------------------------------------------------


def list_workers(session: Session, *, user_id: int) -> list[WorkerInfo]:
    """Every RQ worker registered in Redis, busy ones first, with its heartbeat and counts."""
    require_instance_admin(session, user_id=user_id)
    now = utcnow()
    found = []
    for worker in Worker.all(connection=get_redis()):
        beat = aware(worker.last_heartbeat)
        found.append(
            WorkerInfo(
                name=worker.name,
                host=worker.hostname or "",
                pid=worker.pid,
                queues=tuple(worker.queue_names()),
                state=str(worker.get_state()),
                current_job=worker.get_current_job_id(),
                last_heartbeat=beat,
                alive=beat is not None and (now - beat).total_seconds() < WORKER_STALE_SECONDS,
                successful=worker.successful_job_count,
                failed=worker.failed_job_count,
            )
        )
    return sorted(found, key=lambda w: (w.state != "busy", not w.alive, w.name))


def list_queues(session: Session, *, user_id: int) -> list[QueueInfo]:
    """Every queue's depth, oldest waiting job's age, and failed, scheduled and deferred jobs."""
    require_instance_admin(session, user_id=user_id)
    found = []
    for name, depth, oldest, failed in queue_stats():
        queue = get_queue(name)
        found.append(
            QueueInfo(
                name=name,
                depth=depth,
                oldest_seconds=oldest,
                failed=failed,
                scheduled=ScheduledJobRegistry(queue=queue).count,
                deferred=DeferredJobRegistry(queue=queue).count,
            )
        )
    return found


def list_failed_jobs(
    session: Session, *, user_id: int, limit: int = FAILED_JOBS_SHOWN
) -> list[FailedJob]:
    """Jobs that failed after their last retry, newest first (at most `limit`)."""
    require_instance_admin(session, user_id=user_id)
    return jobs.failed_jobs(limit=limit)


def retry_failed_job(session: Session, *, user_id: int, job_id: str) -> str:
    """Put a failed job back on its queue to run again; the queue's name (or FailedJobGone)."""
    require_instance_admin(session, user_id=user_id)
    queue = jobs.retry(job_id)
    log.info("failed job %s requeued on %s by user %s", job_id, queue, user_id)
    return queue


def retry_all_failed_jobs(session: Session, *, user_id: int) -> int:
    """Put every failed job back on its queue; how many were requeued."""
    require_instance_admin(session, user_id=user_id)
    count = jobs.retry_all()
    log.info("%s failed jobs requeued by user %s", count, user_id)
    return count


def discard_failed_job(session: Session, *, user_id: int, job_id: str) -> None:
    """Delete a failed job for good (it is not run again; FailedJobGone if it is not there)."""
    require_instance_admin(session, user_id=user_id)
    queue = jobs.discard(job_id)
    log.info("failed job %s discarded from %s by user %s", job_id, queue, user_id)


def _entry(raw: bytes | str) -> ErrorEntry | None:
    try:
        data = json.loads(raw)
    except (TypeError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    business = data.get("business_id")
    job = data.get("job_id")
    return ErrorEntry(
        at=str(data.get("at") or ""),
        level=str(data.get("level") or "error"),
        logger=str(data.get("logger") or ""),
        event=str(data.get("event") or ""),
        error=str(data.get("error") or ""),
        business_id=int(business) if isinstance(business, int) else None,
        job_id=str(job) if job else None,
    )


def last_errors(session: Session, *, user_id: int, limit: int = 50) -> list[ErrorEntry]:
    """The newest ERROR-level log lines of every process (at most `limit`, newest first)."""
    require_instance_admin(session, user_id=user_id)
    raw = get_redis().lrange(logs.ERRORS_KEY, 0, max(0, limit - 1))
    return [e for e in (_entry(r) for r in raw) if e is not None]


def snapshot(session: Session, *, user_id: int) -> SystemSnapshot:
    """Workers, queues, failed jobs and last errors, read together for the System page."""
    require_instance_admin(session, user_id=user_id)
    return SystemSnapshot(
        workers=list_workers(session, user_id=user_id),
        queues=list_queues(session, user_id=user_id),
        failed_jobs=list_failed_jobs(session, user_id=user_id),
        errors=last_errors(session, user_id=user_id),
        read_at=utcnow(),
    )


def run_doctor(session: Session, *, user_id: int) -> list[doctor.Finding]:
    """Every doctor check's finding (slow: seconds; call it from a background task)."""
    require_instance_admin(session, user_id=user_id)
    return doctor.run_checks()
