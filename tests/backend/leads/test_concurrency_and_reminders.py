"""Work in several sessions at once: concurrent board moves, and the follow-up reminder job."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from backend.core.db import get_engine, session_scope
from backend.leads import service
from backend.leads.tasks import remind_follow_ups
from backend.models import Role
from backend.models.leads import Lead
from backend.models.notifications import Notification
from backend.scheduler import PERIODIC_JOBS
from tests.factories import actor_for, make_user

pytestmark = pytest.mark.usefixtures("committed")


def _wait_until_blocked_on_a_lock() -> None:
    """Return once another session waits for a lock (the second move reached the board lock)."""
    deadline = time.monotonic() + 30
    with get_engine().connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
            ).scalar_one()
            if waiting:
                return
            conn.rollback()
    raise AssertionError("the second move never waited for the first")


def test_concurrent_moves_into_one_column_keep_a_clean_order():
    with session_scope() as session:
        owner, business = actor_for(session)
        ids = [service.create_lead(session, actor=owner, name=f"L{i}").id for i in range(4)]
        business_id = business.id
    errors: list[Exception] = []

    def move_in_thread() -> threading.Thread:
        def run():
            try:
                with session_scope() as session:
                    service.move_lead(session, actor=owner, lead_id=ids[1], stage="won")
            except Exception as exc:  # reported by the assertion below
                errors.append(exc)

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    with session_scope() as first:
        service.move_lead(first, actor=owner, lead_id=ids[0], stage="won")
        thread = move_in_thread()
        _wait_until_blocked_on_a_lock()
    thread.join(timeout=30)

    assert errors == []
    with session_scope() as session:
        won = session.exec(
            select(Lead.id, Lead.position)
            .where(Lead.business_id == business_id, Lead.stage == "won")
            .order_by(Lead.position)
        ).all()
        new = session.exec(
            select(Lead.position).where(Lead.business_id == business_id, Lead.stage == "new")
        ).all()
    # The second mover saw the first one's result: both in "won", positions 0 and 1, newest on top.
    assert [row.id for row in won] == [ids[1], ids[0]]
    assert [row.position for row in won] == [0, 1]
    assert sorted(new) == [0, 1]


def _reminders(business_id: int) -> list[tuple[int, str]]:
    with session_scope() as session:
        rows = session.exec(
            select(Notification.user_id, Notification.title)
            .where(
                Notification.business_id == business_id,
                Notification.dedup_key.like("lead-follow-up:%"),
            )
            .order_by(Notification.id)
        ).all()
    return [(row.user_id, row.title) for row in rows]


def test_a_due_follow_up_reminds_the_owner_once_per_follow_up_time():
    assert any(job is remind_follow_ups for job, _, _ in PERIODIC_JOBS)
    now = datetime.now(UTC)
    with session_scope() as session:
        owner, business = actor_for(session)
        agent = make_user(session, business=business, role=Role.AGENT)
        due = service.create_lead(session, actor=owner, name="Dana", owner_user_id=agent.id,
                                  next_follow_up_at=now - timedelta(minutes=1))  # fmt: skip
        service.create_lead(session, actor=owner, name="Later", owner_user_id=agent.id,
                            next_follow_up_at=now + timedelta(days=1))  # fmt: skip
        business_id, agent_id = business.id, agent.id

    assert remind_follow_ups()["reminded"] == 1
    assert remind_follow_ups()["reminded"] == 0  # the next run finds nothing new
    assert _reminders(business_id) == [(agent_id, "Follow up with Dana")]

    # A new follow-up time earns a new reminder.
    with session_scope() as session:
        service.update_lead(session, actor=owner, lead_id=due.id,
                            next_follow_up_at=now - timedelta(seconds=5))  # fmt: skip
    assert remind_follow_ups()["reminded"] == 1
    assert _reminders(business_id) == [(agent_id, "Follow up with Dana")] * 2


def test_a_lead_without_owner_reminds_owners_and_admins_not_agents():
    now = datetime.now(UTC)
    with session_scope() as session:
        owner, business = actor_for(session)
        admin = make_user(session, business=business, role=Role.ADMIN)
        make_user(session, business=business, role=Role.AGENT)
        lead = service.create_lead(session, actor=owner, name="Eve",
                                   next_follow_up_at=now - timedelta(hours=1))  # fmt: skip
        won = service.create_lead(session, actor=owner, name="Closed",
                                  next_follow_up_at=now - timedelta(hours=1))  # fmt: skip
        service.move_lead(session, actor=owner, lead_id=won.id, stage="won")
        business_id, owner_id, admin_id = business.id, owner.user_id, admin.id

    remind_follow_ups()
    remind_follow_ups()
    assert sorted(_reminders(business_id)) == sorted(
        [(owner_id, "Follow up with Eve"), (admin_id, "Follow up with Eve")]
    )
    with session_scope() as session:
        assert service.get_lead(session, actor=owner, lead_id=lead.id).follow_up_due is True
