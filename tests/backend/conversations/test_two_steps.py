"""A customer's message is committed and shown before it is answered, and still answered once."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from backend import events
from backend.ai import engine
from backend.conversations import tasks
from backend.core.db import session_scope
from backend.core.redis import get_redis
from backend.models import Conversation, InboundEvent, Message, Outbox
from tests.backend.conversations.helpers import message, receive, rows, run_worker

pytestmark = pytest.mark.usefixtures("committed")


class WorkerKilled(BaseException):
    """Stands for the worker process dying: no `except Exception` runs after it."""


def test_the_customers_message_is_committed_and_announced_before_the_engine_runs(
    cfg, channel, monkeypatch
):
    seen: list[str] = []
    real_reply = engine.reply

    def announced(domain_event):
        seen.append(f"message.created:{domain_event.data['sender_type']}")

    def watching_reply(session, *, inp):
        with session_scope() as other:  # another connection sees only committed rows
            stored = other.exec(sa.select(Message.sender_type, Message.text)).all()
        seen.append(f"engine ran; committed: {[tuple(r) for r in stored]}")
        return real_reply(session, inp=inp)

    monkeypatch.setitem(
        events._listeners, "message.created", [*events._listeners["message.created"], announced]
    )
    monkeypatch.setattr(engine, "reply", watching_reply)
    receive(cfg, message(1, "When do you open on Sunday?"))
    run_worker()

    assert seen == [
        "message.created:customer",
        "engine ran; committed: [('customer', 'When do you open on Sunday?')]",
        "message.created:ai",
    ]
    assert [m.sender_type for m in rows(Message)] == ["customer", "ai"]
    assert [e.status for e in rows(InboundEvent)] == ["done"]


def test_a_retry_after_the_message_was_committed_answers_it_once(cfg, channel, monkeypatch):
    real_reply = engine.reply

    def down(*args, **kwargs):
        raise RuntimeError("model server down")

    [event_id] = receive(cfg, message(1, "Do you deliver to Kisumu?"))
    monkeypatch.setattr(engine, "reply", down)
    with pytest.raises(RuntimeError):
        tasks.process_inbound(event_id)
    [event] = rows(InboundEvent)
    assert (event.status, event.last_error) == ("recorded", "RuntimeError: model server down")
    assert [m.sender_type for m in rows(Message)] == ["customer"]

    monkeypatch.setattr(engine, "reply", real_reply)
    assert tasks.process_inbound(event_id) == "done"
    assert tasks.process_inbound(event_id) == "done"
    [customer, reply] = rows(Message)
    assert (customer.sender_type, customer.text) == ("customer", "Do you deliver to Kisumu?")
    assert reply.sender_type == "ai"
    assert len(rows(Outbox)) == 1
    assert rows(Conversation)[0].ai_turns == 1


def test_a_worker_killed_between_the_two_commits_is_answered_by_the_sweep(
    cfg, channel, monkeypatch
):
    real_reply = engine.reply

    def killed(*args, **kwargs):
        raise WorkerKilled

    [event_id] = receive(cfg, message(1, "Are you open today?"))
    monkeypatch.setattr(engine, "reply", killed)
    with pytest.raises(WorkerKilled):
        tasks.process_inbound(event_id)
    monkeypatch.setattr(engine, "reply", real_reply)
    get_redis().flushdb()  # the job died with the worker
    assert tasks.sweep()["events"] == 0  # not stale yet: it may still be running
    with session_scope() as session:  # … a minute later
        session.execute(
            sa.update(InboundEvent).values(updated_at=sa.func.now() - timedelta(minutes=5))
        )
    assert tasks.sweep()["events"] == 1
    run_worker()
    assert [m.sender_type for m in rows(Message)] == ["customer", "ai"]
    assert [m.text for m in channel.sent] == [rows(Message)[1].text]
    assert [e.status for e in rows(InboundEvent)] == ["done"]
    assert tasks.sweep()["events"] == 0
