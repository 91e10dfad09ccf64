"""Work outside the database (files) follows the session's outcome: `call_after_commit` runs
only once the work is committed, `call_after_rollback` only once it is rolled back."""

from __future__ import annotations

import sqlalchemy as sa

from backend.core.db import call_after_commit, call_after_rollback


def _note(db, calls: list[str], name: str) -> None:
    call_after_commit(db, lambda: calls.append(f"{name} committed"))
    call_after_rollback(db, lambda: calls.append(f"{name} rolled back"))


def test_a_commit_runs_the_commit_calls_only_and_once(db):
    calls: list[str] = []
    db.execute(sa.text("SELECT 1"))
    _note(db, calls, "a")
    db.commit()
    db.execute(sa.text("SELECT 1"))
    db.rollback()
    db.commit()
    assert calls == ["a committed"]


def test_a_rollback_runs_the_rollback_calls_only_and_once(db):
    calls: list[str] = []
    db.execute(sa.text("SELECT 1"))
    _note(db, calls, "a")
    db.rollback()
    db.commit()
    assert calls == ["a rolled back"]


def test_a_savepoint_rolled_back_undoes_only_the_work_done_in_it(db):
    calls: list[str] = []
    db.execute(sa.text("SELECT 1"))
    _note(db, calls, "before")
    savepoint = db.begin_nested()
    _note(db, calls, "inside")
    savepoint.rollback()
    assert calls == ["inside rolled back"]
    db.commit()
    assert calls == ["inside rolled back", "before committed"]


def test_a_released_savepoint_waits_for_the_transaction(db):
    calls: list[str] = []
    db.execute(sa.text("SELECT 1"))
    outer = db.begin_nested()
    inner = db.begin_nested()
    _note(db, calls, "inner")
    inner.commit()
    assert calls == []
    outer.rollback()  # the released savepoint's work goes with the one around it
    assert calls == ["inner rolled back"]
    db.commit()
    assert calls == ["inner rolled back"]


def test_a_session_closed_without_an_outcome_runs_neither(db):
    calls: list[str] = []
    db.execute(sa.text("SELECT 1"))
    _note(db, calls, "a")
    db.close()
    db.execute(sa.text("SELECT 1"))
    db.commit()
    assert calls == []


def test_a_failing_call_does_not_break_the_commit_or_the_others(db, caplog):
    calls: list[str] = []
    db.execute(sa.text("SELECT 1"))
    call_after_commit(db, lambda: 1 / 0)
    _note(db, calls, "a")
    db.commit()
    assert calls == ["a committed"]
    assert "failed" in caplog.text


def test_jobs_and_events_follow_savepoints_like_files(db, monkeypatch):
    # Jobs and domain events ride the same mechanism: a released savepoint sends nothing before
    # the real commit, and a savepoint rolled back drops only what was queued inside it.
    from backend import events
    from backend.core import queue

    enqueued: list = []
    delivered: list[str] = []
    monkeypatch.setattr(queue, "enqueue_all", lambda jobs: enqueued.extend(jobs))
    monkeypatch.setattr(events, "dispatch", lambda event: delivered.append(event.data["n"]))
    db.execute(sa.text("SELECT 1"))
    queue.enqueue_after_commit(db, "os.path.join", "before")
    events.publish(db, "test.event", business_id=1, n="before")
    kept = db.begin_nested()
    queue.enqueue_after_commit(db, "os.path.join", "kept")
    events.publish(db, "test.event", business_id=1, n="kept")
    kept.commit()  # released: nothing goes out yet
    assert (enqueued, delivered) == ([], [])
    dropped = db.begin_nested()
    queue.enqueue_after_commit(db, "os.path.join", "dropped")
    events.publish(db, "test.event", business_id=1, n="dropped")
    dropped.rollback()
    assert [job[1] for job in queue.pending_jobs(db)] == [("before",), ("kept",)]
    assert [event.data["n"] for event in events.pending(db)] == ["before", "kept"]
    db.commit()
    assert [job[1] for job in enqueued] == [("before",), ("kept",)]
    assert delivered == ["before", "kept"]
    assert (queue.pending_jobs(db), events.pending(db)) == ([], [])
