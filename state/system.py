"""The System page: the installation's workers, queues, failed jobs and last errors (instance
admins only), refreshed every few seconds while the tab is open (by the tab's live listener's
clock: `live_consumer(tick_seconds=…)`)."""

from __future__ import annotations

import asyncio
from datetime import datetime

import reflex as rx

from backend.auth.permissions import Actor
from backend.core.db import session_scope
from backend.models.base import utcnow
from backend.ops import system
from state.base import BaseState
from state.live import LiveBatch, SharedReads, live_consumer

ROUTE = "/system"
# How often an open System page re-reads the figures.
REFRESH_SECONDS = 5.0


def _ago(value: datetime | None, now: datetime) -> str:
    if value is None:
        return "—"
    return f"{_duration((now - value).total_seconds())} ago"


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "—"


def _rows(snap: system.SystemSnapshot) -> dict[str, list[dict[str, str]]]:
    now = snap.read_at
    return {
        "workers": [
            {
                "name": w.name,
                "host": w.host or "—",
                "pid": str(w.pid or "—"),
                "queues": ", ".join(w.queues),
                "state": w.state if w.alive else "stale",
                "current_job": w.current_job or "—",
                "heartbeat": _ago(w.last_heartbeat, now),
                "successful": str(w.successful),
                "failed": str(w.failed),
            }
            for w in snap.workers
        ],
        "queues": [
            {
                "name": q.name,
                "depth": str(q.depth),
                "oldest": _duration(q.oldest_seconds) if q.depth else "—",
                "scheduled": str(q.scheduled),
                "deferred": str(q.deferred),
                "failed": str(q.failed),
            }
            for q in snap.queues
        ],
        "failed_jobs": [
            {
                "id": j.id,
                "queue": j.queue,
                "function": j.function,
                "failed_at": _when(j.failed_at),
                "error": j.error or "—",
                "business_id": str(j.business_id or "—"),
            }
            for j in snap.failed_jobs
        ],
        "errors": [
            {
                "at": e.at.replace("T", " ")[:19] if e.at else "—",
                "logger": e.logger,
                "event": e.event,
                "error": e.error or "—",
                "business_id": str(e.business_id or "—"),
                "job_id": e.job_id or "—",
            }
            for e in snap.errors
        ],
    }


def _read_live(actor: Actor, request: bool, shared: SharedReads) -> system.SystemSnapshot | None:
    """The figures for a tick, read as the tab's member; None once they are no instance admin."""
    with session_scope() as session:
        if not system.is_instance_admin(session, user_id=actor.user_id):
            return None
        return system.snapshot(session, user_id=actor.user_id)


def _snapshot_of(user_id: int) -> system.SystemSnapshot:
    """The figures, read as this instance admin (blocking: call it in a thread)."""
    with session_scope() as session:
        return system.snapshot(session, user_id=user_id)


def _perform(action, user_id: int) -> tuple[object, str, system.SystemSnapshot]:
    """Run one failed-job action as the admin, then read the figures again (blocking).

    Returns the action's result, the refusal to show ("" when it was done) and the figures."""
    result, refused = None, ""
    try:
        with session_scope() as session:
            result = action(session, user_id)
    except (system.FailedJobGone, system.NotInstanceAdmin) as exc:
        refused = str(exc)
    return result, refused, _snapshot_of(user_id)


# The figures are the installation's, not the business's: no event wakes the page, its clock does.
@live_consumer(read=_read_live, routes=(ROUTE,), events=(), tick_seconds=REFRESH_SECONDS)
class SystemState(BaseState):
    """Workers, queues, failed jobs (retry, discard), last errors and the doctor's checks."""

    workers: list[dict[str, str]] = []
    workers_alive: int = 0
    queues: list[dict[str, str]] = []
    failed_jobs: list[dict[str, str]] = []
    errors: list[dict[str, str]] = []
    findings: list[dict[str, str]] = []
    doctor_running: bool = False
    doctor_ran_at: str = ""
    read_at: str = ""
    notice: str = ""
    error: str = ""
    # The failed job whose discard waits for confirmation ("" when the dialog is closed).
    discard_id: str = ""

    def _admin_id(self) -> int | None:
        """The signed-in instance admin's user id (marks the page shown; None otherwise)."""
        actor = self.current_actor()
        self.section = "system"
        self.section_allowed = actor is not None and self.is_instance_admin
        return actor.user_id if self.section_allowed and actor is not None else None

    def _show(self, snap: system.SystemSnapshot) -> None:
        rows = _rows(snap)
        self.workers = rows["workers"]
        self.workers_alive = sum(1 for w in snap.workers if w.alive)
        self.queues = rows["queues"]
        self.failed_jobs = rows["failed_jobs"]
        self.errors = rows["errors"]
        self.read_at = _when(snap.read_at) + " UTC"

    def _live_request(self, batch: LiveBatch, actor: Actor) -> bool | None:
        """Re-read the figures on each tick while the page shows them (load read them first)."""
        return True if batch.tick and self.section == "system" and self.section_allowed else None

    def _live_apply(self, request: bool, snap: system.SystemSnapshot | None) -> None:
        """Show the figures; once the member lost the flag, show what a reload would."""
        if snap is None:
            self.is_instance_admin = self.section_allowed = False
            return
        self._show(snap)

    @rx.event(background=True)
    async def load(self):
        """Guard the page (instance admins only) and read the figures; the live clock re-reads
        them every REFRESH_SECONDS."""
        async with self:
            self.notice = self.error = self.discard_id = ""
            user_id = self._admin_id()
            if not self.signed_in:
                return self._login_redirect()
        if user_id is None:
            return None
        snap = await asyncio.to_thread(_snapshot_of, user_id)
        async with self:
            self._show(snap)
        return None

    @rx.event(background=True)
    async def refresh(self):
        """Read the figures again now."""
        async with self:
            user_id = self._admin_id()
            if user_id is None:
                return None if self.signed_in else self._login_redirect()
        snap = await asyncio.to_thread(_snapshot_of, user_id)
        async with self:
            self._show(snap)
        return None

    async def _act(self, action, done: str) -> None:
        """Run a failed-job action off the websocket, then show its outcome and the figures."""
        async with self:
            self.notice = self.error = ""
            user_id = self._admin_id()
        if user_id is None:
            return
        result, refused, snap = await asyncio.to_thread(_perform, action, user_id)
        async with self:
            self.error = refused
            self.notice = "" if refused else done.format(result=result)
            self._show(snap)

    @rx.event(background=True)
    async def retry(self, job_id: str):
        """Put one failed job back on its queue."""
        await self._act(
            lambda s, uid: system.retry_failed_job(s, user_id=uid, job_id=job_id),
            f"Job {job_id} is back on the {{result}} queue.",
        )

    @rx.event(background=True)
    async def retry_all(self):
        """Put every failed job back on its queue."""
        await self._act(
            lambda s, uid: system.retry_all_failed_jobs(s, user_id=uid),
            "{result} failed jobs are back on their queues.",
        )

    @rx.event
    def ask_discard(self, job_id: str):
        """Open the confirmation before discarding a failed job."""
        self.discard_id = job_id

    @rx.event
    def set_discard_open(self, is_open: bool):
        """Close the confirmation (Cancel, Escape or a click outside)."""
        if not is_open:
            self.discard_id = ""

    @rx.event
    def discard(self):
        """Delete the failed job the confirmation was about."""
        # Read now, in order: the dialog's close (set_discard_open) comes right after the click.
        job_id, self.discard_id = self.discard_id, ""
        return SystemState.discard_job(job_id) if job_id else None

    @rx.event(background=True)
    async def discard_job(self, job_id: str):
        """Delete one failed job for good (after the confirmation)."""
        await self._act(
            lambda s, uid: system.discard_failed_job(s, user_id=uid, job_id=job_id),
            f"Job {job_id} was discarded.",
        )

    @rx.event(background=True)
    async def run_checks(self):
        """Run the doctor's checks (seconds: database, Redis, mail, AI…) off the websocket."""
        async with self:
            if self.doctor_running or (user_id := self._admin_id()) is None:
                return
            self.doctor_running = True

        def work() -> list:
            with session_scope() as session:
                return system.run_doctor(session, user_id=user_id)

        try:
            findings = await asyncio.to_thread(work)
        finally:
            async with self:
                self.doctor_running = False
        async with self:
            self.findings = [
                {"name": f.name, "status": f.status, "detail": f.detail, "fix": f.fix or ""}
                for f in findings
            ]
            self.doctor_ran_at = _when(utcnow()) + " UTC"
