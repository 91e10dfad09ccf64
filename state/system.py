"""The System page: the installation's workers, queues, failed jobs and last errors (instance
admins only), refreshed every few seconds while the tab is open."""

from __future__ import annotations

import asyncio
from datetime import datetime

import reflex as rx

from backend.auth import service as auth
from backend.core.db import session_scope
from backend.models.base import utcnow
from backend.ops import system
from state.base import BaseState
from state.live import _tab_connected

# How often an open System page re-reads the figures (never faster than this).
REFRESH_SECONDS = 5.0
# This process's refresh loop of each tab (client token): a tab never has two.
_REFRESHERS: dict[str, asyncio.Task] = {}


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


def _snapshot_for(session_token: str | None) -> system.SystemSnapshot | None:
    """The figures, read as the tab's user; None once they are signed out or not an admin."""
    with session_scope() as session:
        info = auth.resolve_session(session, token=session_token)
        if info is None or not system.is_instance_admin(session, user_id=info.user_id):
            return None
        return system.snapshot(session, user_id=info.user_id)


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

    @rx.event(background=True)
    async def load(self):
        """Guard the page (instance admins only), read the figures, start the auto-refresh."""
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
        return SystemState.auto_refresh

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

    @rx.event(background=True)
    async def auto_refresh(self):
        """Re-read the figures every REFRESH_SECONDS while this tab shows the System page;
        ends when the tab goes, navigates away, or its user signs out or loses the flag."""
        async with self:
            client_token = self.router.session.client_token
            session_token = self._session_token()
            showing = self.section == "system" and self.section_allowed
        if not showing or not client_token:
            return
        me = asyncio.current_task()
        previous = _REFRESHERS.get(client_token)
        if previous is not None and previous is not me and not previous.done():
            previous.cancel()  # a reload or reconnect: the newest loop wins
        if me is not None:
            _REFRESHERS[client_token] = me
        try:
            while _REFRESHERS.get(client_token) is me:
                await asyncio.sleep(REFRESH_SECONDS)
                if not _tab_connected(client_token):
                    return
                snap = await asyncio.to_thread(_snapshot_for, session_token)
                async with self:
                    if snap is None or self.section != "system":
                        return
                    self._show(snap)
        finally:
            if _REFRESHERS.get(client_token) is me:
                del _REFRESHERS[client_token]
