"""A customer who wants to buy is answered by commerce, not by the AI engine."""

from __future__ import annotations

import pytest

from backend.ai import engine
from backend.commerce import chat
from backend.commerce.chat import PurchaseReply
from backend.conversations import tasks
from backend.models import Conversation, InboundEvent, Message, Outbox
from tests.backend.conversations.helpers import message, receive, rows, run_worker

pytestmark = pytest.mark.usefixtures("committed")


def test_a_purchase_reply_is_sent_instead_of_the_engines_answer(cfg, channel, monkeypatch):
    asked = []

    def purchase_reply(session, **kwargs):
        asked.append(kwargs)
        return PurchaseReply(text="Your order #7 is ready: pay here https://pay.example/7",
                             quick_replies=["Pay now", "Cancel"])  # fmt: skip

    def engine_must_not_run(*args, **kwargs):
        raise AssertionError("the engine ran although commerce answered")

    monkeypatch.setattr(chat, "purchase_reply", purchase_reply)
    monkeypatch.setattr(engine, "reply", engine_must_not_run)
    receive(cfg, message(1, "I want to buy 2 sourdough loaves"))
    run_worker()

    [conversation] = rows(Conversation)
    assert asked == [{"business_id": cfg.business_id, "conversation_id": conversation.id,
                      "contact_id": conversation.contact_id,
                      "text": "I want to buy 2 sourdough loaves", "language": None}]  # fmt: skip
    [_customer, reply] = rows(Message)
    assert (reply.sender_type, reply.text) == (
        "ai",
        "Your order #7 is ready: pay here https://pay.example/7",
    )
    assert reply.attachments == [{"type": "quick_replies", "options": ["Pay now", "Cancel"]}]
    assert reply.delivery_status == "sent"
    assert [(m.text, m.quick_replies) for m in channel.sent] == [
        (reply.text, ["Pay now", "Cancel"])
    ]
    assert conversation.ai_turns == 1
    assert conversation.status == "ai"
    assert [e.status for e in rows(InboundEvent)] == ["done"]


def test_without_a_purchase_intent_the_engine_answers_once(cfg, channel):
    [event_id] = receive(cfg, message(1, "What are your opening hours?"))
    assert tasks.process_inbound(event_id) == "done"
    assert tasks.process_inbound(event_id) == "done"
    [_, reply] = rows(Message)
    assert reply.sender_type == "ai"
    assert reply.ai_confidence is not None
    assert len(rows(Outbox)) == 1
