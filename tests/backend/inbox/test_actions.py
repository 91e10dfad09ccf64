"""What agents do in a thread: reply through the channel, notes, labels, canned responses,
translation, take over, hand back, resolve and reopen."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import select

from backend.ai import llm
from backend.auth.permissions import PermissionDenied
from backend.channels import registry
from backend.channels.base import MessageIn
from backend.channels.service import create_integration, to_config
from backend.conversations import service as pipeline
from backend.core.config import settings
from backend.core.db import session_scope
from backend.core.redis import get_redis
from backend.handoff import service as handoff
from backend.handoff.schemas import HandoffError
from backend.inbox import service as inbox
from backend.inbox.schemas import InboxError, NotFound
from backend.live import tenant_channel
from backend.models import (
    AIRule,
    Assignment,
    Contact,
    Conversation,
    Handoff,
    Message,
    Outbox,
)
from tests.backend.inbox.helpers import conversation, live_events, make_team, run_worker
from tests.fakes.channel import RecordingChannel
from tests.fakes.openai_server import FakeOpenAI


@pytest.fixture
def recording() -> RecordingChannel:
    adapter = RecordingChannel()
    registry.register(adapter)
    return adapter


@pytest.fixture
def fake_openai(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        monkeypatch.setattr(settings, "openai_base_url", server.url)
        monkeypatch.setattr(settings, "openai_api_key", server.api_key)
        llm._client.cache_clear()
        yield server
    llm._client.cache_clear()


def rows(model, *where):
    with session_scope() as session:
        return list(session.exec(select(model).where(*where).order_by(model.id)).all())


def setup_channel_conversation(**kwargs):
    """A committed team, a channel of the recording adapter, and a conversation on it."""
    with session_scope() as session:
        team = make_team(session)
        integration = create_integration(
            session, business_id=team.business.id, kind="test", name="Test", credentials={"k": "v"}
        )
        conv = conversation(
            session, team.business, integration_id=integration.id, external_id="cust-1", **kwargs
        )
        return team, to_config(integration), conv.id


@pytest.mark.usefixtures("committed")
def test_an_agents_reply_goes_through_the_outbox_to_the_channel(recording):
    team, cfg, conversation_id = setup_channel_conversation(texts=("Is my order ready?",), unread=1)
    pubsub = get_redis().pubsub()
    pubsub.subscribe(tenant_channel(cfg.business_id))
    pubsub.get_message(timeout=0.5)  # the subscribe confirmation

    with session_scope() as session:
        sent = inbox.reply(
            session,
            actor=team.agent,
            conversation_id=conversation_id,
            text="Yes, it is ready for pickup!",
        )
    assert (sent.delivery_status, sent.sender_name, sent.sender_type) == (
        "queued",
        "Agent 1",
        "agent",
    )
    run_worker("outbound")

    assert [(m.recipient_id, m.text) for m in recording.sent] == [
        ("cust-1", "Yes, it is ready for pickup!")
    ]
    [message] = rows(Message, Message.sender_type == "agent")
    assert (message.delivery_status, message.sender_user_id) == ("sent", team.agent.user_id)
    [outbox] = rows(Outbox)
    assert outbox.status == "sent"
    [conv] = rows(Conversation)
    # Replying took the conversation from the AI: it is the agent's now, and read.
    assert (conv.status, conv.assignee_user_id, conv.unread_count) == (
        "human",
        team.agent.user_id,
        0,
    )
    [taken] = rows(Handoff)
    assert (taken.reason, taken.accepted_by_user_id) == ("agent_takeover", team.agent.user_id)
    assert taken.first_response_at is not None
    assert [a.method for a in rows(Assignment)] == ["takeover"]
    names = [e["event"] for e in live_events(pubsub)]
    assert names.count("conversation.updated") == 1
    assert names.count("message.created") == 1
    assert "message.updated" in names  # queued -> sent, shown live


@pytest.mark.usefixtures("committed")
def test_a_private_note_is_stored_and_never_sent(recording):
    team, _, conversation_id = setup_channel_conversation()
    with session_scope() as session:
        note = inbox.add_note(
            session,
            actor=team.agent,
            conversation_id=conversation_id,
            text="Customer prefers a call after 5pm",
        )
    run_worker("outbound")
    assert note.is_private_note
    assert recording.sent == []
    assert rows(Outbox) == []
    [stored] = rows(Message, Message.is_private_note.is_(True))
    assert stored.text == "Customer prefers a call after 5pm"
    [conv] = rows(Conversation)
    assert conv.status == "ai"  # a note does not take the conversation


def test_a_viewer_cannot_reply_note_or_label_and_bad_input_names_the_field(db):
    team = make_team(db)
    conv = conversation(db, team.business)
    with pytest.raises(PermissionDenied):
        inbox.reply(db, actor=team.viewer, conversation_id=conv.id, text="hi")
    with pytest.raises(PermissionDenied):
        inbox.add_note(db, actor=team.viewer, conversation_id=conv.id, text="hi")
    with pytest.raises(PermissionDenied):
        inbox.add_label(db, actor=team.viewer, conversation_id=conv.id, label="vip")
    with pytest.raises(PermissionDenied):
        handoff.take_over(db, actor=team.viewer, conversation_id=conv.id)
    with pytest.raises(InboxError) as empty:
        inbox.reply(db, actor=team.agent, conversation_id=conv.id, text="   ")
    assert empty.value.field == "text"
    with pytest.raises(InboxError) as long:
        inbox.reply(db, actor=team.agent, conversation_id=conv.id, text="x" * 5000)
    assert (long.value.field, "4,096" in long.value.message) == ("text", True)
    handoff.resolve(db, actor=team.agent, conversation_id=conv.id)
    with pytest.raises(InboxError) as resolved:
        inbox.reply(db, actor=team.agent, conversation_id=conv.id, text="hello?")
    assert resolved.value.field == "conversation"
    assert "reopen" in resolved.value.message
    db.refresh(conv)
    assert conv.status == "resolved"


def test_actions_on_another_business_change_nothing(db):
    mine, theirs = make_team(db), make_team(db)
    other = conversation(db, theirs.business, labels=["theirs"])
    for action in (
        lambda: inbox.reply(db, actor=mine.owner, conversation_id=other.id, text="hi"),
        lambda: inbox.add_note(db, actor=mine.owner, conversation_id=other.id, text="hi"),
        lambda: inbox.add_label(db, actor=mine.owner, conversation_id=other.id, label="x"),
        lambda: inbox.remove_label(db, actor=mine.owner, conversation_id=other.id, label="theirs"),
        lambda: handoff.take_over(db, actor=mine.owner, conversation_id=other.id),
        lambda: handoff.assign(
            db, actor=mine.owner, conversation_id=other.id, user_id=mine.agent.user_id
        ),
        lambda: handoff.resolve(db, actor=mine.owner, conversation_id=other.id),
        lambda: handoff.set_priority(
            db, actor=mine.owner, conversation_id=other.id, priority="urgent"
        ),
    ):
        with pytest.raises(NotFound):
            action()
    # Nor can one of their members be assigned to my conversation.
    mine_conv = conversation(db, mine.business)
    with pytest.raises(HandoffError) as outsider:
        handoff.assign(
            db, actor=mine.owner, conversation_id=mine_conv.id, user_id=theirs.agent.user_id
        )
    assert outsider.value.field == "assignee"
    db.refresh(other)
    assert (other.status, other.labels, other.assignee_user_id, other.priority) == (
        "ai",
        ["theirs"],
        None,
        "normal",
    )
    assert db.exec(select(Message).where(Message.conversation_id == other.id)).all()[-1].text == (
        "Hello"
    )


def test_labels_are_added_removed_and_listed(db):
    team = make_team(db)
    conv = conversation(db, team.business)
    assert inbox.add_label(db, actor=team.agent, conversation_id=conv.id, label=" VIP ") == ["vip"]
    assert inbox.add_label(db, actor=team.agent, conversation_id=conv.id, label="vip") == ["vip"]
    assert inbox.add_label(
        db, actor=team.agent, conversation_id=conv.id, label="Wholesale order"
    ) == ["vip", "wholesale order"]
    assert inbox.remove_label(db, actor=team.agent, conversation_id=conv.id, label="VIP") == [
        "wholesale order"
    ]
    assert inbox.list_labels(db, actor=team.viewer) == ["wholesale order"]
    with pytest.raises(InboxError) as bad:
        inbox.add_label(db, actor=team.agent, conversation_id=conv.id, label="<script>")
    assert bad.value.field == "label"


def test_canned_responses_crud_and_slash_lookup(db):
    team, other = make_team(db), make_team(db)
    refund = inbox.create_canned(
        db,
        actor=team.agent,
        shortcut="/Refund-Policy",
        content="Refunds take 5 working days.",
        title="Refunds",
    )
    inbox.create_canned(db, actor=team.agent, shortcut="ref", content="Your reference is …")
    inbox.create_canned(db, actor=team.agent, shortcut="hours", content="We open at 7am.")
    inbox.create_canned(db, actor=other.agent, shortcut="refund", content="Not ours")
    assert refund.shortcut == "refund-policy"
    assert [c.shortcut for c in inbox.suggest_canned(db, actor=team.agent, text="/re")] == [
        "ref",
        "refund-policy",
    ]
    assert [c.shortcut for c in inbox.suggest_canned(db, actor=team.agent, text="/")] == [
        "ref",
        "hours",
        "refund-policy",
    ]
    assert inbox.suggest_canned(db, actor=team.agent, text="hello /re") == []
    with pytest.raises(InboxError) as taken:
        inbox.create_canned(db, actor=team.agent, shortcut="hours", content="dup")
    assert taken.value.field == "shortcut"
    with pytest.raises(InboxError) as bad:
        inbox.create_canned(db, actor=team.agent, shortcut="two words", content="x")
    assert bad.value.field == "shortcut"
    changed = inbox.update_canned(
        db,
        actor=team.agent,
        canned_id=refund.id,
        shortcut="refunds",
        content="Refunds take 3 days.",
    )
    assert (changed.shortcut, changed.content, changed.title) == (
        "refunds",
        "Refunds take 3 days.",
        None,
    )
    assert [c.shortcut for c in inbox.list_canned(db, actor=team.agent, search="3 days")] == [
        "refunds"
    ]
    [theirs] = inbox.list_canned(db, actor=other.agent)
    with pytest.raises(NotFound):
        inbox.delete_canned(db, actor=team.agent, canned_id=theirs.id)
    inbox.delete_canned(db, actor=team.agent, canned_id=refund.id)
    assert [c.shortcut for c in inbox.list_canned(db, actor=team.agent)] == ["hours", "ref"]
    with pytest.raises(PermissionDenied):
        inbox.create_canned(db, actor=team.viewer, shortcut="x", content="y")


def test_translation_offline_says_it_needs_a_model(db, monkeypatch):
    monkeypatch.setattr(settings, "openai_api_key", None)
    team = make_team(db)
    conv = conversation(db, team.business, texts=("Habari, keki inagharimu kiasi gani?",))
    message = db.exec(select(Message).where(Message.conversation_id == conv.id)).one()
    result = inbox.translate_message(db, actor=team.agent, message_id=message.id)
    assert not result.ok
    assert result.text == "Habari, keki inagharimu kiasi gani?"
    assert "Translation needs a language model" in result.message
    conv.language = "sw"
    draft = inbox.translate_draft(
        db, actor=team.agent, conversation_id=conv.id, text="It costs 2,000 shillings."
    )
    assert (draft.ok, draft.text) == (False, "It costs 2,000 shillings.")


def test_translation_with_a_model_is_cached(db, fake_openai):
    team = make_team(db)
    conv = conversation(db, team.business, texts=("Habari, keki inagharimu kiasi gani?",))
    conv.language = "sw"
    message = db.exec(select(Message).where(Message.conversation_id == conv.id)).one()
    fake_openai.queue("Hello, how much does the cake cost?")
    first = inbox.translate_message(db, actor=team.agent, message_id=message.id)
    again = inbox.translate_message(db, actor=team.agent, message_id=message.id)
    assert (first.ok, first.text, first.target_language) == (
        True,
        "Hello, how much does the cake cost?",
        "en",
    )
    assert again.text == first.text
    chats = [r for r in fake_openai.requests if r.path.endswith("/chat/completions")]
    assert len(chats) == 1  # the second came from the cache
    assert "English" in chats[0].contents("system")[0]
    fake_openai.queue("Inagharimu shilingi 2,000.")
    draft = inbox.translate_draft(
        db, actor=team.agent, conversation_id=conv.id, text="It costs 2,000 shillings."
    )
    assert (draft.ok, draft.text, draft.target_language) == (
        True,
        "Inagharimu shilingi 2,000.",
        "sw",
    )


def test_take_over_and_hand_back_and_resolve_and_reopen(db):
    team = make_team(db)
    conv = conversation(db, team.business)
    state = handoff.take_over(db, actor=team.agent, conversation_id=conv.id)
    assert (state.status, state.assignee_name) == ("human", "Agent 1")
    state = handoff.take_over(db, actor=team.agents[1], conversation_id=conv.id)
    assert state.assignee_user_id == team.agents[1].user_id  # taking over moves it to me
    state = handoff.hand_back_to_ai(db, actor=team.agents[1], conversation_id=conv.id)
    assert (state.status, state.assignee_user_id) == ("ai", None)
    assert all(h.closed_at is not None for h in db.exec(select(Handoff)).all())
    state = handoff.resolve(db, actor=team.agent, conversation_id=conv.id)
    assert state.status == "resolved"
    with pytest.raises(HandoffError):
        handoff.take_over(db, actor=team.agent, conversation_id=conv.id)
    state = handoff.reopen(db, actor=team.agent, conversation_id=conv.id)
    assert (state.status, state.assignee_user_id) == ("human", team.agent.user_id)
    [reopened] = db.exec(select(Handoff).where(Handoff.closed_at.is_(None))).all()
    assert reopened.reason == "reopened"
    handoff.resolve(db, actor=team.agent, conversation_id=conv.id)
    newer = conversation(
        db,
        team.business,
        contact=db.get(Contact, conv.contact_id),
        integration_id=conv.channel_integration_id,
    )
    with pytest.raises(HandoffError) as blocked:
        handoff.reopen(db, actor=team.agent, conversation_id=conv.id)
    assert f"#{newer.id}" in blocked.value.message
    assert (
        handoff.set_priority(
            db, actor=team.agent, conversation_id=newer.id, priority="high"
        ).priority
        == "high"
    )
    with pytest.raises(HandoffError) as bad:
        handoff.set_priority(db, actor=team.agent, conversation_id=newer.id, priority="asap")
    assert bad.value.field == "priority"


@pytest.mark.usefixtures("committed")
def test_after_a_take_over_the_ai_is_quiet_and_after_hand_back_it_answers_again(recording):
    with session_scope() as session:
        team = make_team(session)
        integration = create_integration(
            session, business_id=team.business.id, kind="test", name="Test", credentials={"k": "v"}
        )
        # Answer everything: no automatic handover gets in the way.
        session.add(AIRule(business_id=team.business.id, confidence_threshold=0.0, max_ai_turns=0))
        cfg = to_config(integration)

    def customer(n: int, text: str) -> None:
        with session_scope() as session:
            pipeline.receive(
                session,
                cfg=cfg,
                events_in=[MessageIn(external_id=f"m{n}", sender_id="cust-1", text=text)],
            )
        run_worker("inbound", "outbound", "default")

    def senders() -> list[str]:
        return [m.sender_type for m in rows(Message)]

    customer(1, "What are your opening hours?")
    assert senders() == ["customer", "ai"]
    [conv] = rows(Conversation)
    with session_scope() as session:
        handoff.take_over(session, actor=team.agent, conversation_id=conv.id)
    customer(2, "Thanks, and on Sundays?")
    assert senders() == ["customer", "ai", "customer"]  # the AI stays quiet
    with session_scope() as session:
        handoff.hand_back_to_ai(session, actor=team.agent, conversation_id=conv.id)
    customer(3, "Do you sell bread?")
    assert senders() == ["customer", "ai", "customer", "customer", "ai"]
