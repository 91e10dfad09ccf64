"""The AI Rules page's services: reading, saving, permissions, audit, and the "try it" box."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlmodel import select

from backend import events
from backend.ai import rules_admin
from backend.ai.rules import RulesError
from backend.auth.permissions import Actor, PermissionDenied
from backend.core.db import session_scope
from backend.core.redis import get_redis
from backend.knowledge import service as knowledge
from backend.knowledge import tasks
from backend.models import (
    AIRule,
    AIUsage,
    AuditLog,
    Business,
    Contact,
    Conversation,
    Handoff,
    InboundEvent,
    Message,
    Outbox,
    Role,
)
from tests.factories import actor_for, make_business

MONDAY_NOON = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # 12:00 in Nairobi
SUNDAY = datetime(2026, 3, 8, 9, 0, tzinfo=UTC)
HOURS = {"timezone": "Africa/Nairobi", "days": {"mon": [["08:00", "18:00"]]}}
FAQ = [
    {"id": "hours", "language": "en", "question": "What are your opening hours?",
     "answer": "We are open Monday to Saturday from 8am to 6pm."},
    {"id": "payment", "language": "en", "question": "Which payment methods do you accept?",
     "answer": "We accept M-Pesa, Visa and Mastercard, and cash."},
    {"id": "delivery", "language": "en", "question": "Do you deliver?",
     "answer": "Yes, we deliver within Nairobi for 200 KES; free for orders over 2000 KES."},
]  # fmt: skip
PAYMENT_ANSWER = "We accept M-Pesa, Visa and Mastercard, and cash."
UNTOUCHED = (
    AIRule, AIUsage, AuditLog, Contact, Conversation, Handoff, InboundEvent, Message, Outbox,
)  # fmt: skip


@pytest.fixture(scope="module")
def bakery_id() -> Iterator[int]:
    """A business whose FAQ went through the real import and embedding job (committed)."""
    with session_scope() as session:
        ident = make_business(session, name="Sunrise Bakery").id
        knowledge.import_rows(session, business_id=ident, rows=FAQ, enqueue=False)
    with session_scope() as session:
        pending = knowledge.sources_to_embed(session, business_id=ident)
    assert set(tasks.embed_sources(pending).values()) == {"ready"}
    yield ident
    with session_scope() as session:
        session.execute(sa.delete(Business).where(Business.id == ident))


@pytest.fixture
def owner(db, bakery_id) -> Actor:
    return actor_for(db, role=Role.OWNER, business=db.get(Business, bakery_id))[0]


def _counts(db) -> dict[str, int]:
    return {
        model.__name__: db.exec(select(sa.func.count()).select_from(model)).one()
        for model in UNTOUCHED
    }


def _audits(db, business_id: int) -> list[AuditLog]:
    return list(
        db.exec(
            select(AuditLog).where(
                AuditLog.business_id == business_id, AuditLog.action == "ai_rules.updated"
            )
        )
    )


# --- reading and saving --------------------------------------------------------------------


def test_a_new_business_reads_the_defaults_without_writing_a_row(db):
    actor, business = actor_for(db, role=Role.VIEWER)
    form = rules_admin.get_rules(db, actor=actor)
    assert (form.tone, form.persona_name, form.confidence_threshold) == (
        "friendly",
        "Assistant",
        0.55,
    )
    assert form.handoff_keywords == []
    assert form.max_ai_turns == 8
    assert not form.saved
    assert not form.can_edit
    assert db.exec(select(AIRule).where(AIRule.business_id == business.id)).first() is None


def test_saving_normalises_stores_and_audits_the_changed_fields(db):
    actor, business = actor_for(db, role=Role.ADMIN)
    form = rules_admin.save_rules(
        db,
        actor=actor,
        fields={
            "persona_name": "  Amani ",
            "handoff_keywords": "refund, Refund\nlawyer",
            "confidence_threshold": "0.7",
            "business_hours": HOURS,
            "max_ai_turns": "5",
            "tone": "friendly",  # unchanged: not in the audit entry
        },
    )
    assert form.saved
    assert form.can_edit
    assert form.persona_name == "Amani"
    assert form.handoff_keywords == ["refund", "lawyer"]
    assert (form.confidence_threshold, form.max_ai_turns) == (0.7, 5)
    assert form.timezone == "Africa/Nairobi"
    # Read back from the database, not the returned copy.
    stored = db.exec(select(AIRule).where(AIRule.business_id == business.id)).one()
    assert stored.handoff_keywords == ["refund", "lawyer"]
    [entry] = _audits(db, business.id)
    assert entry.actor_user_id == actor.user_id
    assert entry.details == {
        "fields": [
            "business_hours",
            "confidence_threshold",
            "handoff_keywords",
            "max_ai_turns",
            "persona_name",
        ]
    }
    # Saving the same values again changes nothing and logs nothing.
    rules_admin.save_rules(db, actor=actor, fields={"persona_name": "Amani"})
    assert len(_audits(db, business.id)) == 1


def test_saving_leaves_the_fields_not_given_as_stored(db):
    # The AI Rules page sends no business hours and no out-of-hours reply (Settings owns them).
    actor, business = actor_for(db)
    two_ranges = {"days": {"mon": [["08:00", "12:00"], ["14:00", "18:00"]]}}
    rules_admin.save_rules(
        db, actor=actor, fields={"business_hours": two_ranges, "out_of_hours_message": "Closed."}
    )
    form = rules_admin.save_rules(db, actor=actor, fields={"tone": "formal", "greeting": "Hi!"})
    stored = db.exec(select(AIRule).where(AIRule.business_id == business.id)).one()
    assert (stored.tone, stored.greeting) == ("formal", "Hi!")
    assert stored.business_hours == form.business_hours == two_ranges
    assert stored.out_of_hours_message == form.out_of_hours_message == "Closed."
    assert sorted(entry.details["fields"] for entry in _audits(db, business.id)) == [
        ["business_hours", "out_of_hours_message"],
        ["greeting", "tone"],
    ]


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"confidence_threshold": "1.5"}, "confidence_threshold", "from 0 to 1"),
        ({"persona_name": "  "}, "persona_name", "Enter a value"),
        ({"max_ai_turns": "lots"}, "max_ai_turns", "whole number"),
        ({"languages": "english"}, "languages", "two-letter code"),
        ({"business_hours": {"days": {"mon": [["18:00", "08:00"]]}}}, "business_hours", "ends"),
        ({"business_hours": {"timezone": "Mars/Base"}}, "business_hours", "unknown timezone"),
        ({"owner_email": "x"}, "owner_email", "not an AI rule"),
    ],
)
def test_bad_input_names_the_field_and_stores_nothing(db, fields, field, words):
    actor, business = actor_for(db)
    rules_admin.save_rules(db, actor=actor, fields={"greeting": "Hi there!"})
    with pytest.raises(RulesError) as caught:
        rules_admin.save_rules(db, actor=actor, fields={"greeting": "Changed", **fields})
    assert caught.value.field == field
    assert words in caught.value.message
    assert rules_admin.get_rules(db, actor=actor).greeting == "Hi there!"
    assert len(_audits(db, business.id)) == 1


@pytest.mark.parametrize("role", [Role.AGENT, Role.VIEWER])
def test_agents_and_viewers_read_but_cannot_save_or_try(db, role):
    owner, business = actor_for(db)
    rules_admin.save_rules(db, actor=owner, fields={"handoff_keywords": ["refund"]})
    member, _ = actor_for(db, role=role, business=business)
    form = rules_admin.get_rules(db, actor=member)
    assert form.handoff_keywords == ["refund"]
    assert not form.can_edit
    with pytest.raises(PermissionDenied):
        rules_admin.save_rules(db, actor=member, fields={"handoff_keywords": []})
    with pytest.raises(PermissionDenied):
        rules_admin.try_message(db, actor=member, text="Hello", history=[])
    assert rules_admin.get_rules(db, actor=owner).handoff_keywords == ["refund"]
    assert len(_audits(db, business.id)) == 1


def test_one_business_never_reads_or_changes_anothers_rules(db):
    a, business_a = actor_for(db)
    b, _business_b = actor_for(db)
    rules_admin.save_rules(db, actor=a, fields={"handoff_keywords": ["refund"], "tone": "formal"})
    assert rules_admin.get_rules(db, actor=b).handoff_keywords == []
    rules_admin.save_rules(db, actor=b, fields={"tone": "playful"})
    assert rules_admin.get_rules(db, actor=a).tone == "formal"
    assert [e.business_id for e in _audits(db, business_a.id)] == [business_a.id]


# --- try it ----------------------------------------------------------------------------------


def test_trying_answers_from_the_business_knowledge_and_names_the_source(db, owner):
    result = rules_admin.try_message(
        db, actor=owner, text="Can I pay with M-Pesa?", history=[], now=MONDAY_NOON
    )
    assert result.action == "answer"
    assert result.reason == ""
    assert result.reply == PAYMENT_ANSWER
    assert result.language == "en"
    assert result.confidence >= 0.55
    assert [s.title for s in result.sources] == ["Which payment methods do you accept?"]
    assert result.sources[0].snippet == PAYMENT_ANSWER
    assert result.explanation.startswith("Would answer")
    assert result.open_now
    assert not result.used_llm


def test_trying_stores_no_conversation_and_publishes_nothing(db, owner):
    rules_admin.save_rules(db, actor=owner, fields={"handoff_keywords": ["refund"]})
    before = _counts(db)
    pending_before = events.pending(db)
    pubsub = get_redis().pubsub()
    pubsub.psubscribe("*")
    assert pubsub.get_message(timeout=1)["type"] == "psubscribe"
    try:
        for text in ("Can I pay with M-Pesa?", "I want a refund", "Do you repair bicycles?"):
            rules_admin.try_message(
                db,
                actor=owner,
                text=text,
                history=[("customer", "Hello"), ("assistant", "Hi! How can I help?")],
                draft={"greeting": "Karibu!"},
                now=MONDAY_NOON,
            )
        assert pubsub.get_message(timeout=0) is None
    finally:
        pubsub.close()
    assert _counts(db) == before
    assert events.pending(db) == pending_before


def test_a_saved_handoff_keyword_hands_over_and_says_which(db, owner):
    rules_admin.save_rules(db, actor=owner, fields={"handoff_keywords": ["refund"]})
    result = rules_admin.try_message(
        db, actor=owner, text="I need a REFUND for my cake", history=[], now=MONDAY_NOON
    )
    assert (result.action, result.reason) == ("handoff", "keyword")
    assert result.explanation == "Would hand over: handoff keyword 'refund'."
    assert "person" in result.reply


def test_a_draft_is_tried_without_being_saved(db, owner, bakery_id):
    assert db.exec(select(AIRule).where(AIRule.business_id == bakery_id)).first() is None
    draft = {"handoff_keywords": "refund", "blocked_topics": ["politics"]}
    tried = rules_admin.try_message(
        db, actor=owner, text="Can I get a refund?", history=[], draft=draft, now=MONDAY_NOON
    )
    assert tried.explanation == "Would hand over: handoff keyword 'refund'."
    topic = rules_admin.try_message(
        db, actor=owner, text="What do you think of politics?", history=[], draft=draft,
        now=MONDAY_NOON,
    )  # fmt: skip
    assert topic.explanation == "Would hand over: forbidden topic 'politics'."
    # The saved rules (here: none at all) are as they were.
    assert db.exec(select(AIRule).where(AIRule.business_id == bakery_id)).first() is None
    saved = rules_admin.try_message(
        db, actor=owner, text="Can I get a refund?", history=[], now=MONDAY_NOON
    )
    assert saved.reason != "keyword"
    assert rules_admin.get_rules(db, actor=owner).handoff_keywords == []


def test_a_bad_draft_names_its_field(db, owner):
    with pytest.raises(RulesError) as caught:
        rules_admin.try_message(
            db, actor=owner, text="Hello", history=[], draft={"confidence_threshold": "high"}
        )
    assert caught.value.field == "confidence_threshold"
    with pytest.raises(RulesError) as empty:
        rules_admin.try_message(db, actor=owner, text="   ", history=[])
    assert empty.value.field == "text"


def test_a_stricter_draft_threshold_turns_an_answer_into_a_handover(db, owner):
    text = "Can I pay with M-Pesa?"
    strict = rules_admin.try_message(
        db, actor=owner, text=text, history=[], draft={"confidence_threshold": 1}, now=MONDAY_NOON
    )
    assert (strict.action, strict.reason) == ("handoff", "low_confidence")
    assert "below the threshold of 100%" in strict.explanation
    assert strict.sources  # what it looked at is still shown


def test_out_of_hours_says_closed_before_answering(db, owner):
    draft = {"business_hours": HOURS, "out_of_hours_message": "We're closed; back Monday 8am."}
    result = rules_admin.try_message(
        db, actor=owner, text="Can I pay with M-Pesa?", history=[], draft=draft, now=SUNDAY
    )
    assert not result.open_now
    assert result.reply.startswith("We're closed; back Monday 8am.")
    assert PAYMENT_ANSWER in result.reply
    assert rules_admin.try_message(
        db, actor=owner, text="Hello", history=[], draft=draft, now=MONDAY_NOON
    ).open_now


def test_the_max_turns_rule_counts_the_tried_chat(db, owner):
    history = [("customer", "Hello"), ("assistant", "Hi!")] * 2
    result = rules_admin.try_message(
        db, actor=owner, text="Can I pay with M-Pesa?", history=history,
        draft={"max_ai_turns": 3}, now=MONDAY_NOON,
    )  # fmt: skip
    assert result.action == "answer"
    assert result.quick_replies  # "Talk to a person" offered from the 3rd AI reply


def test_another_business_never_answers_from_the_bakerys_knowledge(db, bakery_id):
    other, _ = actor_for(db)
    result = rules_admin.try_message(
        db, actor=other, text="Can I pay with M-Pesa?", history=[], now=MONDAY_NOON
    )
    assert (result.action, result.reason) == ("handoff", "low_confidence")
    assert result.sources == []
    assert PAYMENT_ANSWER not in result.reply


def test_trying_with_the_llm_counts_its_tokens_once(db, owner, bakery_id, fake_openai):
    fake_openai.queue(
        {"answer": "Yes: M-Pesa, cards or cash.", "sources": [1], "confident": True,
         "summary": "Asked about payment."}
    )  # fmt: skip
    result = rules_admin.try_message(
        db, actor=owner, text="Can I pay with M-Pesa?", history=[], now=MONDAY_NOON
    )
    assert result.used_llm
    assert result.reply == "Yes: M-Pesa, cards or cash."
    assert len(fake_openai.chat_requests) == 1
    usage = db.exec(select(AIUsage).where(AIUsage.business_id == bakery_id)).one()
    assert usage.requests == 1
    assert usage.prompt_tokens > 0
    # A draft that turns the LLM off answers from the knowledge without calling it.
    offline = rules_admin.try_message(
        db, actor=owner, text="Can I pay with M-Pesa?", history=[], draft={"use_llm": False},
        now=MONDAY_NOON,
    )  # fmt: skip
    assert not offline.used_llm
    assert offline.reply == PAYMENT_ANSWER
    assert len(fake_openai.chat_requests) == 1
