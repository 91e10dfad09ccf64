"""The engine through the real hybrid search of the knowledge domain (no injected retriever)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from backend.ai import engine
from backend.ai.schemas import Action, EngineInput, HandoffReason
from backend.core.db import session_scope
from backend.knowledge import service as knowledge
from backend.knowledge import tasks
from backend.models import Business, KnowledgeChunk
from tests.factories import make_business

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FAQ = [
    {"id": "hours-en", "group": "hours", "language": "en",
     "question": "What are your opening hours?",
     "answer": "We are open Monday to Saturday from 8am to 6pm."},
    {"id": "hours-fr", "group": "hours", "language": "fr",
     "question": "Quels sont vos horaires d'ouverture ?",
     "answer": "Nous sommes ouverts du lundi au samedi de 8h à 18h."},
    {"id": "delivery", "group": "delivery", "language": "en", "question": "Do you deliver?",
     "answer": "Yes, we deliver within Nairobi for 200 KES; free for orders over 2000 KES."},
    {"id": "payment", "group": "payment", "language": "en",
     "question": "Which payment methods do you accept?",
     "answer": "We accept M-Pesa, Visa and Mastercard, and cash."},
    {"id": "location", "group": "location", "language": "en",
     "question": "Where is the bakery located?",
     "answer": "Our shop is on Moi Avenue, next to the Hilton."},
]  # fmt: skip


@pytest.fixture(scope="module")
def business_id() -> Iterator[int]:
    """A business whose FAQ went through the real import and embedding job (committed)."""
    with session_scope() as session:
        ident = make_business(session, name="Sunrise Bakery").id
        summary = knowledge.import_rows(session, business_id=ident, rows=FAQ, enqueue=False)
    assert summary.created == len(FAQ)
    with session_scope() as session:
        pending = knowledge.sources_to_embed(session, business_id=ident)
    assert set(tasks.embed_sources(pending).values()) == {"ready"}
    yield ident
    with session_scope() as session:
        session.execute(sa.delete(Business).where(Business.id == ident))


def _chunk_id(db, business_id: int, question: str) -> int:
    return db.exec(
        sa.select(KnowledgeChunk.id).where(
            KnowledgeChunk.business_id == business_id, KnowledgeChunk.question == question
        )
    ).scalar_one()


def ask(db, business_id: int, message: str):
    return engine.reply(db, inp=EngineInput(business_id=business_id, message=message, now=NOW))


def test_answers_through_the_real_search(db, business_id):
    result = ask(db, business_id, "Can I pay with M-Pesa?")
    assert result.action == Action.REPLY
    assert result.text == "We accept M-Pesa, Visa and Mastercard, and cash."
    assert result.source_chunk_ids == [
        _chunk_id(db, business_id, "Which payment methods do you accept?")
    ]
    assert result.confidence >= 0.55


def test_finds_the_translation_through_the_real_search(db, business_id):
    result = ask(db, business_id, "Vous êtes ouverts le samedi ?")
    assert (result.action, result.language) == (Action.REPLY, "fr")
    assert result.text == "Nous sommes ouverts du lundi au samedi de 8h à 18h."
    assert _chunk_id(db, business_id, "Quels sont vos horaires d'ouverture ?") in (
        result.source_chunk_ids
    )


def test_a_question_without_an_answer_is_handed_over(db, business_id):
    result = ask(db, business_id, "Do you repair bicycles?")
    assert result.action == Action.HANDOFF
    assert result.handoff_reason == HandoffReason.LOW_CONFIDENCE


def test_the_llm_sees_what_the_real_search_found(db, business_id, fake_openai):
    fake_openai.queue(
        {
            "answer": "Yes, 200 KES within Nairobi.",
            "sources": [1],
            "confident": True,
            "summary": "Asked about delivery.",
        }
    )
    result = ask(db, business_id, "Do you deliver to Westlands?")
    system = fake_openai.chat_requests[0].messages[0]["content"]
    assert "[1] Do you deliver?" in system
    assert result.source_chunk_ids == [_chunk_id(db, business_id, "Do you deliver?")]
    assert (result.text, result.summary) == (
        "Yes, 200 KES within Nairobi.",
        "Asked about delivery.",
    )
