"""Tool calls on the online path: offered tools reach the model, its call reaches the decision."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from backend.ai import engine
from backend.ai.schemas import Action, EngineInput, ToolCall
from backend.models import AIUsage
from tests.backend.ai.knowledge import BAKERY, InMemoryKnowledge
from tests.factories import make_business
from tests.fakes.openai_server import FakeToolCall

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ORDER_TOOL = {
    "type": "function",
    "function": {
        "name": "create_order",
        "description": "Order products. Products sold: Rye loaf, Sourdough loaf.",
        "parameters": {
            "type": "object",
            "properties": {
                "items": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "properties": {
                            "product": {"type": "string"},
                            "quantity": {"type": "integer", "minimum": 1, "maximum": 100},
                        },
                        "required": ["product", "quantity"],
                    },
                }
            },
            "required": ["items"],
        },
    },
}
PLAIN = {"answer": "We bake rye every morning.", "sources": [1], "confident": True}


@pytest.fixture
def bakery() -> InMemoryKnowledge:
    return InMemoryKnowledge(BAKERY)


@pytest.fixture
def business(db):
    return make_business(db)


def ask(db, business, message, retrieve, **extra):
    inp = EngineInput(business_id=business.id, message=message, now=NOW, **extra)
    return engine.reply(db, inp=inp, retrieve=retrieve)


def test_offered_tools_are_sent_and_the_call_comes_back_on_the_decision(
    db, business, bakery, fake_openai
):
    fake_openai.queue(
        FakeToolCall("create_order", {"items": [{"product": "Rye loaf", "quantity": 2}]})
    )
    decision = ask(db, business, "Two rye loaves please", bakery, tools=[ORDER_TOOL])

    [request] = fake_openai.chat_requests
    assert request.body["tools"] == [ORDER_TOOL]
    assert request.body["tool_choice"] == "auto"
    assert decision.tool_call == ToolCall(
        name="create_order",
        arguments={"items": [{"product": "Rye loaf", "quantity": 2}]},
        id="call_fake1",
    )
    assert decision.action == Action.REPLY
    assert decision.handoff_reason is None
    assert decision.used_llm
    [usage] = db.exec(select(AIUsage).where(AIUsage.business_id == business.id)).all()
    assert usage.prompt_tokens > 0
    assert usage.completion_tokens > 0


def test_without_tools_the_request_offers_none(db, business, bakery, fake_openai):
    fake_openai.queue(PLAIN)
    decision = ask(db, business, "Do you have rye bread?", bakery)
    [request] = fake_openai.chat_requests
    assert "tools" not in request.body
    assert "tool_choice" not in request.body
    assert decision.tool_call is None
    assert decision.text == "We bake rye every morning."


@pytest.mark.parametrize(
    "bad_call",
    [
        FakeToolCall("create_order", "{not json"),
        FakeToolCall("create_order", "[1, 2]"),
        FakeToolCall("create_order", {"items": [{"product": "Rye loaf", "quantity": "two"}]}),
        FakeToolCall("create_order", {"items": [{"product": "Rye loaf", "quantity": 500}]}),
        FakeToolCall("create_order", {"items": []}),
        FakeToolCall("delete_everything", {}),
    ],
    ids=["not-json", "not-an-object", "wrong-type", "too-many", "no-items", "not-offered"],
)
def test_an_unusable_call_is_ignored_and_the_customer_gets_a_normal_answer(
    db, business, bakery, fake_openai, bad_call, caplog
):
    fake_openai.queue(bad_call, PLAIN)
    decision = ask(db, business, "Two rye loaves please", bakery, tools=[ORDER_TOOL])

    assert decision.tool_call is None
    assert decision.action == Action.REPLY
    assert decision.text == "We bake rye every morning."
    first, second = fake_openai.chat_requests
    assert "tools" in first.body
    assert "tools" not in second.body
    assert "Ignoring" in caplog.text


def test_a_text_reply_with_tools_offered_is_an_ordinary_answer(db, business, bakery, fake_openai):
    fake_openai.queue(PLAIN)
    decision = ask(db, business, "Do you have rye bread?", bakery, tools=[ORDER_TOOL])
    assert decision.text == "We bake rye every morning."
    assert len(fake_openai.chat_requests) == 1


def test_offline_the_tools_change_nothing(db, business, bakery):
    decision = ask(db, business, "When do you open?", bakery, tools=[ORDER_TOOL])
    assert decision.tool_call is None
    assert decision.text == "We are open Monday to Saturday, 8am to 6pm."
