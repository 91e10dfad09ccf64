"""The inbound pipeline on the real PostgreSQL and Redis: once, in order, nothing lost."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from backend.channels.base import MessageIn, StatusUpdate
from backend.channels.service import create_integration, to_config
from backend.conversations import service, tasks
from backend.core.config import settings
from backend.core.db import session_scope
from backend.core.queue import get_queue
from backend.core.redis import get_redis
from backend.live import tenant_channel
from backend.models import (
    AIRule,
    Contact,
    Conversation,
    Handoff,
    InboundEvent,
    Message,
    Outbox,
)
from tests.backend.conversations.helpers import message, receive, rows, run_worker
from tests.factories import make_business

pytestmark = pytest.mark.usefixtures("committed")


def test_duplicate_delivery_is_stored_and_enqueued_once(cfg):
    assert len(receive(cfg, message(1))) == 1
    assert receive(cfg, message(1)) == []
    assert len(rows(InboundEvent)) == 1
    assert get_queue("inbound").count == 1


def test_a_message_is_stored_answered_and_sent(cfg, channel):
    pubsub = get_redis().pubsub()
    pubsub.subscribe(tenant_channel(cfg.business_id))
    receive(cfg, message(1, "Do you sell unicorn saddles for goldfish?"))
    run_worker()

    [customer, reply] = rows(Message)
    assert (customer.sender_type, customer.text) == (
        "customer",
        "Do you sell unicorn saddles for goldfish?",
    )
    assert reply.sender_type == "ai"
    assert 0.0 <= reply.ai_confidence <= 1.0
    assert reply.delivery_status == "sent"
    assert [m.text for m in channel.sent] == [reply.text]
    assert channel.sent[0].recipient_id == "cust-1"
    [event] = rows(InboundEvent)
    assert event.status == "done"
    names = []
    while (item := pubsub.get_message(timeout=0.5)) is not None:
        if item["type"] == "message":
            names.append(json.loads(item["data"])["event"])
    assert {"conversation.created", "message.created", "conversation.updated"} <= set(names)


def test_a_job_that_runs_twice_stores_nothing_twice(cfg, channel):
    [event_id] = receive(cfg, message(1, "What are your opening hours?"))
    assert tasks.process_inbound(event_id) == "done"
    assert tasks.process_inbound(event_id) == "done"
    assert len(rows(Message)) == 2
    assert len(rows(Outbox)) == 1


def test_unanswerable_question_hands_over_and_the_ai_stops(cfg, channel):
    receive(cfg, message(1, "I want to speak to a human please"))
    run_worker()
    [conversation] = rows(Conversation)
    assert conversation.status == "waiting_for_agent"
    [handoff] = rows(Handoff)
    assert handoff.reason == "customer_request"
    receive(cfg, message(2, "Hello? Anyone?"))
    run_worker()
    texts = [(m.sender_type, m.text) for m in rows(Message)]
    assert texts[-1] == ("customer", "Hello? Anyone?")
    assert len([t for t in texts if t[0] == "ai"]) == 1


def test_empty_and_huge_messages_are_kept_with_an_error_and_not_answered(cfg, channel):
    receive(cfg, message(1, "   "), message(2, "x" * 1_000_000))
    run_worker()
    stored = rows(Message)
    assert [m.sender_type for m in stored] == ["customer", "customer"]
    assert "Empty message" in stored[0].error
    assert len(stored[1].text) == service.MAX_TEXT_CHARS
    assert "too long (1,000,000 characters)" in stored[1].error
    assert {e.status for e in rows(InboundEvent)} == {"done"}


def test_events_of_one_sender_are_processed_in_the_order_sent_with_two_workers(cfg):
    with session_scope() as session:  # answer everything: no handover to stop the AI
        session.add(AIRule(business_id=cfg.business_id, confidence_threshold=0.0, max_ai_turns=0))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    events_in = [message(n, f"question {n}", at=start + timedelta(seconds=n)) for n in range(8)]
    ids = receive(cfg, *reversed(events_in))  # arrive in reverse order
    get_redis().flushdb()  # drop the arrival-order jobs …
    queue = get_queue("inbound")
    for event_id in ids:  # … and enqueue them in the worst order: newest first
        queue.enqueue(tasks.process_inbound, event_id)
    env = {**os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
           "PYTHONWARNINGS": "ignore"}  # fmt: skip
    workers = [
        subprocess.Popen([sys.executable, "-m", "backend.worker", "inbound", "--burst"], env=env)
        for _ in range(2)
    ]
    for worker in workers:
        assert worker.wait(timeout=180) == 0
    customer = [m.text for m in rows(Message, Message.sender_type == "customer")]
    assert customer == [f"question {n}" for n in range(8)]
    assert {e.status for e in rows(InboundEvent)} == {"done"}
    # The AI's reply comes right after the question it answers, never after a later one.
    kinds = [m.sender_type for m in rows(Message)]
    assert kinds[:2] == ["customer", "ai"]
    assert ("ai", "ai") not in set(itertools.pairwise(kinds))


def test_an_event_dropped_by_a_killed_worker_is_recovered_by_the_sweep(cfg, channel):
    [event_id] = receive(cfg, message(1, "Is anyone there?"))
    get_redis().flushdb()  # the job is gone, as when Redis restarts
    with session_scope() as session:  # … and the worker died mid-job
        session.execute(
            sa.update(InboundEvent)
            .where(InboundEvent.id == event_id)
            .values(
                status="processing", attempts=1, updated_at=sa.func.now() - timedelta(minutes=5)
            )
        )
    assert tasks.sweep() == {"events": 1, "replies": 0, "knowledge_sources": 0}
    run_worker()
    assert [m.sender_type for m in rows(Message)] == ["customer", "ai"]
    assert rows(InboundEvent)[0].status == "done"


def test_engine_failure_on_the_last_attempt_calls_a_person(cfg, channel, monkeypatch):
    from backend.ai import engine

    def broken(*args, **kwargs):
        raise RuntimeError("model server down")

    monkeypatch.setattr(engine, "reply", broken)
    [event_id] = receive(cfg, message(1, "Hello"))
    with pytest.raises(RuntimeError):
        tasks.process_inbound(event_id)
    # The customer's message is kept and shown; only its answer was rolled back.
    assert [m.sender_type for m in rows(Message)] == ["customer"]
    assert rows(InboundEvent)[0].status == "recorded"
    with session_scope() as session:
        session.execute(sa.update(InboundEvent).values(attempts=tasks.MAX_ATTEMPTS - 1))
    assert tasks.process_inbound(event_id) == "done"
    assert [m.sender_type for m in rows(Message)] == ["customer", "ai"]
    assert rows(Conversation)[0].status == "waiting_for_agent"
    assert rows(Handoff)[0].reason == "ai_error"


def test_failed_sends_retry_then_fail_with_the_reason_and_status_updates_apply(cfg, channel):
    channel.fail_with = "recipient blocked the bot"
    receive(cfg, message(1, "Hello"))
    run_worker("inbound")
    [outbox] = rows(Outbox)
    with pytest.raises(tasks.SendFailed):
        tasks.send_outbound(outbox.id)
    assert rows(Outbox)[0].status == "pending"
    with session_scope() as session:
        session.execute(sa.update(Outbox).values(attempts=tasks.MAX_SEND_ATTEMPTS - 1))
    assert tasks.send_outbound(outbox.id) == "failed"
    reply = rows(Message, Message.sender_type == "ai")[0]
    assert (reply.delivery_status, reply.error) == ("failed", "recipient blocked the bot")

    channel.fail_with = None
    receive(cfg, message(2, "Still there?"))
    run_worker()
    sent = rows(Message, Message.delivery_status == "sent")[0]
    read = StatusUpdate(external_id="s1", message_external_id=sent.external_id, status="read")
    late = StatusUpdate(external_id="s2", message_external_id=sent.external_id, status="delivered")
    receive(cfg, read, late)
    run_worker("inbound")
    assert rows(Message, Message.id == sent.id)[0].delivery_status == "read"


def test_tenants_never_share_contacts_or_conversations(cfg, channel):
    with session_scope() as session:
        other = make_business(session)
        other_cfg = to_config(create_integration(session, business_id=other.id, kind="test",
                                                 name="Other"))  # fmt: skip
    receive(cfg, message(1, "hi", sender="same-id"))
    receive(other_cfg, message(1, "hi", sender="same-id"))
    run_worker()
    conversations = rows(Conversation)
    assert sorted(c.business_id for c in conversations) == sorted([cfg.business_id, other.id])
    assert len({c.contact_id for c in conversations}) == 2


def test_jobs_cli_lists_and_retries_failed_jobs(cfg):
    env = {**os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
           "PYTHONWARNINGS": "ignore"}  # fmt: skip
    get_queue("outbound").enqueue(tasks.send_outbound, 424242)  # no such row: returns "busy"
    get_queue("inbound").enqueue(tasks.process_inbound, 999999)  # no such event: fails
    run_worker()

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "backend.cli", "jobs", *args], env=env,
                              capture_output=True, text=True, timeout=60, check=False)  # fmt: skip

    listed = [json.loads(line) for line in cli("failed").stdout.splitlines()]
    assert [j["job"] for j in listed] == ["backend.conversations.tasks.process_inbound"]
    assert "EventNotFound" in listed[0]["error"][0]
    retried = cli("retry", listed[0]["id"])
    assert json.loads(retried.stdout)["requeued"] is True
    assert get_queue("inbound").count == 1
    assert cli("retry", "nope").returncode == 1


def test_memory_is_carried_across_turns_to_the_llm(cfg, channel, monkeypatch):
    from backend.ai import llm
    from tests.fakes.openai_server import FakeOpenAI

    with session_scope() as session:  # no knowledge here: let the model's answers stand
        session.add(AIRule(business_id=cfg.business_id, confidence_threshold=0.0, max_ai_turns=0))
    with FakeOpenAI() as server:
        monkeypatch.setattr(settings, "openai_base_url", server.url)
        monkeypatch.setattr(settings, "openai_api_key", server.api_key)
        llm._client.cache_clear()
        server.queue(
            {"answer": "Our sourdough costs $6.", "sources": [], "confident": True,
             "summary": "Zawadi asked the price of sourdough."},
            {"answer": "Yes, we deliver it for $3.", "sources": [], "confident": True,
             "summary": "Zawadi asked the price of sourdough and about delivery."},
        )  # fmt: skip
        receive(cfg, message(1, "How much is your sourdough bread?"))
        run_worker("inbound")
        receive(cfg, message(2, "Can you deliver it to Westlands tomorrow?"))
        run_worker("inbound")
        second = server.chat_requests[-1]
    llm._client.cache_clear()
    said = " ".join(second.contents("user") + second.contents("assistant"))
    assert "How much is your sourdough bread?" in said
    assert "Our sourdough costs $6." in said
    [conversation] = rows(Conversation)
    assert conversation.summary == "Zawadi asked the price of sourdough and about delivery."
    assert conversation.ai_turns == 2


def test_a_nameless_contact_on_a_channel_without_profiles_is_marked_and_not_fetched(cfg, channel):
    [event_id] = receive(cfg, MessageIn(external_id="m1", sender_id="visitor", text="Hello"))
    assert tasks.process_inbound(event_id) == "done"
    [contact] = rows(Contact)
    assert not contact.name
    assert contact.attributes["profile_checked"] == "unsupported"
    assert service.FETCH_PROFILE not in [j.func_name for j in get_queue("default").get_jobs()]
