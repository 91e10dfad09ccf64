"""What one AI reply costs in SQL statements and embeddings, pinned: a regression here is a
slower pipeline for everyone.

Counted with SQLAlchemy's `before_cursor_execute` on the engine: every statement sent to
PostgreSQL by `process_inbound` for one customer message, offline answerer, with knowledge.
Deterministic (no timing). When a change lowers a count, lower the pin with it. Listeners
are switched off while counting: what they cost belongs to their own domains' tests.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from backend import events
from backend.channels.base import MessageIn
from backend.conversations import repository as repo
from backend.conversations import tasks
from backend.core.db import get_engine, session_scope
from backend.core.queue import get_queue
from backend.core.redis import get_redis
from backend.knowledge import embeddings
from backend.knowledge import service as knowledge
from backend.knowledge import tasks as knowledge_tasks
from backend.models import AIRule, Contact, ContactChannelIdentity, InboundEvent, Message, Outbox
from tests.backend.conversations.helpers import message, receive, rows

pytestmark = pytest.mark.usefixtures("committed")

FAQ = [
    {"question": "When are you open?", "answer": "We are open 8:00-18:00, Monday to Saturday."},
    {"question": "Do you deliver?", "answer": "Yes, within 10 km of the shop, for $3."},
    {"question": "How can I pay?", "answer": "By card, M-Pesa or cash on delivery."},
]
# A new customer: contact and identity (one statement) and conversation are created, and no
# open conversation is looked for. A returning one finds both (a touch and a SELECT).
NEW_CUSTOMER_STATEMENTS = 19
RETURNING_CUSTOMER_STATEMENTS = 19


@contextmanager
def counting() -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)
        if os.environ.get("SHOW_STACK") and statement.startswith(os.environ["SHOW_STACK"]):
            import traceback

            traceback.print_stack(limit=25)  # where a statement comes from

    sa.event.listen(get_engine(), "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(get_engine(), "before_cursor_execute", count)
        if os.environ.get("SHOW_STATEMENTS"):
            print(f"\n--- {len(statements)} statements")
            for s in statements:
                print(" ".join(s.split())[:160])


@pytest.fixture
def knowledge_base(cfg):
    with session_scope() as session:  # answer everything: no handover stops the AI
        session.add(AIRule(business_id=cfg.business_id, confidence_threshold=0.0, max_ai_turns=0))
        knowledge.import_rows(session, business_id=cfg.business_id, rows=FAQ, enqueue=False)
    with session_scope() as session:
        pending = knowledge.sources_to_embed(session, business_id=cfg.business_id)
    knowledge_tasks.embed_sources(pending)
    return cfg


def test_one_reply_costs_a_pinned_number_of_statements(knowledge_base, channel, monkeypatch):
    cfg = knowledge_base
    [warm] = receive(cfg, message(1, "Hello, are you open today?", sender="warm"))
    assert tasks.process_inbound(warm) == "done"  # caches and the model are warm from here

    monkeypatch.setattr(events, "_listeners", defaultdict(list))
    [first] = receive(cfg, message(2, "Do you deliver to Westlands?", sender="new"))
    with counting() as new_customer:
        assert tasks.process_inbound(first) == "done"
    [again] = receive(cfg, message(3, "How can I pay you?", sender="new"))
    with counting() as returning:
        assert tasks.process_inbound(again) == "done"

    assert [m.sender_type for m in rows(Message, Message.conversation_id.isnot(None))][-4:] == [
        "customer", "ai", "customer", "ai"
    ]  # fmt: skip
    assert {e.status for e in rows(InboundEvent)} == {"done"}
    assert (len(new_customer), len(returning)) == (
        NEW_CUSTOMER_STATEMENTS,
        RETURNING_CUSTOMER_STATEMENTS,
    )


def test_a_nameless_new_customer_is_stored_with_the_mark_of_their_profile_lookup(
    knowledge_base, channel, monkeypatch
):
    """The mark that stops a profile lookup on later messages is part of the contact's INSERT,
    and the channel's kind is read once per process, not per new customer."""
    cfg = knowledge_base
    [warm] = receive(cfg, MessageIn(external_id="w1", sender_id="warm", text="Hello, open?"))
    assert tasks.process_inbound(warm) == "done"
    monkeypatch.setattr(events, "_listeners", defaultdict(list))
    [first] = receive(
        cfg, MessageIn(external_id="n1", sender_id="nameless", text="Do you deliver?")
    )
    with counting() as statements:
        assert tasks.process_inbound(first) == "done"
    flat = [" ".join(s.split()) for s in statements]
    assert not [s for s in flat if s.startswith("UPDATE contact ") and "attributes=" in s]
    assert not [s for s in flat if s.startswith("SELECT channelintegration")]
    assert len(statements) == NEW_CUSTOMER_STATEMENTS
    contact = rows(Contact, Contact.name.is_(None))[-1]
    assert contact.attributes == {"profile_checked": "unsupported"}


def test_a_reply_embeds_a_new_question_once_and_a_repeated_one_never(knowledge_base, channel,
                                                                      monkeypatch):  # fmt: skip
    cfg = knowledge_base
    embedded: list[str] = []
    real_encode = embeddings.BUNDLED._encode_queries

    def counting_encode(texts):
        embedded.extend(texts)
        return real_encode(texts)

    [warm] = receive(cfg, message(1, "Hello, are you open today?", sender="warm"))
    assert tasks.process_inbound(warm) == "done"
    monkeypatch.setattr(embeddings.BUNDLED, "_encode_queries", counting_encode)
    embeddings.QUERY_CACHE.clear()  # as in a freshly started worker; Redis was emptied too
    get_redis().flushdb()

    # The human-request check and retrieval share the one vector of the new question …
    [first] = receive(cfg, message(2, "Do you deliver  to Westlands?", sender="a"))
    assert tasks.process_inbound(first) == "done"
    assert embedded == ["Do you deliver to Westlands?"]
    # … and another worker answering the same question later embeds nothing.
    embeddings.QUERY_CACHE.clear()
    [second] = receive(cfg, message(3, "Do you deliver to Westlands?", sender="b"))
    assert tasks.process_inbound(second) == "done"
    assert embedded == ["Do you deliver to Westlands?"]
    assert [m.sender_type for m in rows(Message)][-4:] == ["customer", "ai", "customer", "ai"]


def test_the_merged_statements_store_every_row_a_reply_needs(knowledge_base, channel):
    """A new customer's contact and identity, and a reply with its outbox row and the language
    of the question it answers, are each written by one statement: every row is there."""
    cfg = knowledge_base
    [event] = receive(cfg, message(1, "Est-ce que vous livrez à domicile ?", sender="fr-1"))
    assert tasks.process_inbound(event) == "done"

    [identity] = rows(ContactChannelIdentity, ContactChannelIdentity.external_user_id == "fr-1")
    [contact] = rows(Contact, Contact.id == identity.contact_id)
    assert (identity.business_id, identity.channel_integration_id) == (
        cfg.business_id,
        cfg.integration_id,
    )
    assert contact.business_id == cfg.business_id
    question, reply = rows(Message, Message.business_id == cfg.business_id)[-2:]
    assert (question.sender_type, question.language) == ("customer", "fr")
    assert (reply.sender_type, reply.language, reply.delivery_status) == ("ai", "fr", "queued")
    assert reply.conversation_id == question.conversation_id
    assert reply.text
    [outbox] = rows(Outbox, Outbox.message_id == reply.id)
    assert (outbox.business_id, outbox.channel_integration_id, outbox.status) == (
        cfg.business_id,
        cfg.integration_id,
        "pending",
    )
    assert [job.args for job in get_queue("outbound").jobs] == [(outbox.id,)]


def test_a_reply_statement_missing_a_column_with_a_default_names_it():
    with pytest.raises(ValueError, match=r"needs values for \[.*'content_type'"):
        repo._insert_outbound_statement(("business_id", "conversation_id"), True, False)
