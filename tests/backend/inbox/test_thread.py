"""A conversation's thread: messages with notes, AI confidence and sources, delivery, contact."""

from __future__ import annotations

import pytest
from sqlmodel import select

from backend.auth.permissions import PermissionDenied
from backend.inbox import service as inbox
from backend.inbox.schemas import NotFound
from backend.models import KnowledgeChunk, KnowledgeSource, Lead, Message
from tests.backend.inbox.helpers import T0, channel, conversation, make_team, minutes


def knowledge(db, business, *, title: str, question: str, answer: str) -> KnowledgeChunk:
    source = KnowledgeSource(
        business_id=business.id,
        kind="faq",
        title=title,
        question=question,
        content=answer,
        status="ready",
    )
    db.add(source)
    db.flush()
    chunk = KnowledgeChunk(
        business_id=business.id,
        source_id=source.id,
        content=answer,
        question=question,
        embedding=[0.0] * 384,
    )
    db.add(chunk)
    db.flush()
    return chunk


def test_thread_shows_notes_ai_sources_delivery_and_the_contact(db):
    team = make_team(db)
    wa = channel(db, team.business, "whatsapp", "Shop WhatsApp")
    widget = channel(db, team.business, "widget", "Website chat")
    conv = conversation(
        db,
        team.business,
        integration_id=wa,
        name="Zawadi",
        email="zawadi@mail.example",
        external_id="+254700111222",
        texts=("When do you open?",),
    )
    conv.language = "en"
    hours = knowledge(
        db,
        team.business,
        title="Opening hours",
        question="When are you open?",
        answer="We open at 7am every day, Sundays at 9am.",
    )
    gone = knowledge(db, team.business, title="Old", question="old?", answer="old")
    gone_id = gone.id
    db.delete(gone)
    db.add(
        Message(
            business_id=team.business.id,
            conversation_id=conv.id,
            direction="outbound",
            sender_type="ai",
            text="We open at 7am.",
            delivery_status="delivered",
            ai_confidence=0.82,
            ai_sources=[hours.id, gone_id],
            created_at=T0,
        )
    )
    db.add(
        Message(
            business_id=team.business.id,
            conversation_id=conv.id,
            direction="outbound",
            sender_type="agent",
            sender_user_id=team.agent.user_id,
            text="Anything else?",
            delivery_status="failed",
            error="recipient blocked the bot",
            created_at=T0 + minutes(1),
        )
    )
    db.flush()
    inbox.add_note(db, actor=team.agent, conversation_id=conv.id, text="Regular customer")
    past = conversation(
        db,
        team.business,
        integration_id=widget,
        status="resolved",
        texts=("Cake order",),
        at=T0 - minutes(600),
    )
    past.contact_id = conv.contact_id
    db.add(past)
    db.add(
        Lead(
            business_id=team.business.id,
            contact_id=conv.contact_id,
            stage="qualified",
            interest="Wedding cake",
        )
    )
    db.flush()

    thread = inbox.get_thread(db, actor=team.viewer, conversation_id=conv.id)

    assert [(m.sender_type, m.text) for m in thread.messages] == [
        ("customer", "When do you open?"),
        ("ai", "We open at 7am."),
        ("agent", "Anything else?"),
        ("agent", "Regular customer"),
    ]
    customer, ai, agent, note = thread.messages
    assert (customer.sender_name, customer.delivery_status) == ("Zawadi", None)
    assert ai.ai_confidence == pytest.approx(0.82)
    assert [(s.title, s.question, s.available) for s in ai.sources] == [
        ("Opening hours", "When are you open?", True),
        ("No longer in the knowledge base", None, False),
    ]
    assert ai.sources[0].excerpt == "We open at 7am every day, Sundays at 9am."
    assert (ai.delivery_status, agent.delivery_status, agent.error) == (
        "delivered",
        "failed",
        "recipient blocked the bot",
    )
    assert agent.sender_name == "Agent 1"
    assert (note.is_private_note, note.delivery_status) == (True, None)
    assert not thread.has_older
    assert thread.can_reply is False  # a viewer reads only
    card = thread.contact
    assert (card.name, card.email, card.language) == ("Zawadi", "zawadi@mail.example", "en")
    assert [(i.channel_kind, i.external_user_id) for i in card.identities] == [
        ("whatsapp", "+254700111222")
    ]
    assert (card.lead.stage, card.lead.interest) == ("qualified", "Wedding cake")
    assert [(p.id, p.status, p.channel_kind) for p in card.past_conversations] == [
        (past.id, "resolved", "widget")
    ]
    assert thread.conversation.id == conv.id


def test_older_messages_page_backwards(db):
    team = make_team(db)
    conv = conversation(db, team.business, texts=tuple(f"message {i}" for i in range(7)))
    newest = inbox.get_thread(db, actor=team.agent, conversation_id=conv.id, limit=3)
    assert [m.text for m in newest.messages] == ["message 4", "message 5", "message 6"]
    assert newest.has_older
    older = inbox.get_thread(
        db, actor=team.agent, conversation_id=conv.id, limit=3, before_id=newest.messages[0].id
    )
    assert [m.text for m in older.messages] == ["message 1", "message 2", "message 3"]


def test_mark_read_clears_the_count_and_a_viewer_may_not(db):
    team = make_team(db)
    conv = conversation(db, team.business, unread=3)
    with pytest.raises(PermissionDenied):
        inbox.mark_read(db, actor=team.viewer, conversation_id=conv.id)
    inbox.mark_read(db, actor=team.agent, conversation_id=conv.id)
    db.refresh(conv)
    assert conv.unread_count == 0


def test_another_business_thread_is_not_found(db):
    mine, theirs = make_team(db), make_team(db)
    other = conversation(db, theirs.business, texts=("private",))
    with pytest.raises(NotFound):
        inbox.get_thread(db, actor=mine.owner, conversation_id=other.id)
    with pytest.raises(NotFound):
        inbox.mark_read(db, actor=mine.owner, conversation_id=other.id)
    message = db.exec(select(Message).where(Message.conversation_id == other.id)).first()
    with pytest.raises(NotFound):
        inbox.translate_message(db, actor=mine.owner, message_id=message.id)
