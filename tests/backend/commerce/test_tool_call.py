"""Buying through the LLM: the model calls create_order, commerce places it at catalogue prices.

The conversation pipeline's `answer()` runs unchanged against the fake OpenAI server; the model's
replies are scripted tool calls.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import select

from backend.ai import llm
from backend.commerce import chat, service
from backend.conversations import service as conversations
from backend.core.config import settings
from backend.models import Message, Role
from backend.models.commerce import Order, OrderItem
from backend.models.payments import PaymentLink
from backend.payments import service as payments
from tests.backend.ai.helpers import set_rules
from tests.factories import actor_for, make_contact, make_conversation, make_message
from tests.fakes.openai_server import FakeOpenAI, FakeToolCall

PLAIN = {"answer": "We bake rye bread every morning.", "sources": [], "confident": True}


@pytest.fixture
def fake_openai(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    """A running fake OpenAI server that the settings point at."""
    with FakeOpenAI() as server:
        monkeypatch.setattr(settings, "openai_base_url", server.url)
        monkeypatch.setattr(settings, "openai_api_key", server.api_key)
        monkeypatch.setattr(settings, "llm_model", "fake-gpt")
        llm._client.cache_clear()
        yield server
    llm._client.cache_clear()


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "openai_api_key", None)
    llm._client.cache_clear()


@pytest.fixture
def shop(db):
    owner, business = actor_for(db, role=Role.OWNER)
    for name, price in [("Sourdough loaf", "4.50"), ("Rye loaf", "3.75"), ("Baguette", "2.10")]:
        service.create_product(db, actor=owner, name=name, price=price, currency="USD")
    contact = make_contact(db, business=business, name="Ama")
    conversation = make_conversation(db, business=business, contact=contact)
    return owner, business, conversation


@pytest.fixture
def stripe_on(db, shop):
    _, business, _ = shop
    provider_id = payments.add_provider(
        db,
        business_id=business.id,
        kind="stripe",
        credentials={"secret_key": "sk_test_x", "webhook_secret": "whsec_x"},
    )
    payments.update_provider(db, business_id=business.id, provider_id=provider_id, is_enabled=True)


def _say(db, conversation, text: str) -> Message:
    message = make_message(db, conversation=conversation, text=text)
    return conversations.answer(db, conversation=conversation, message=message, final_attempt=True)


def _orders(db, business_id: int) -> list[Order]:
    return list(db.exec(select(Order).where(Order.business_id == business_id)).all())


def _rye_call(**extra) -> FakeToolCall:
    return FakeToolCall("create_order", {"items": [{"product": "rye loaves", "quantity": 2,
                                                    **extra}]})  # fmt: skip


def test_the_model_orders_two_rye_loaves_at_the_catalogue_price(db, shop, stripe_on, fake_openai):
    _, business, conversation = shop
    # The model claims a price; only the name and quantity are used.
    fake_openai.queue(_rye_call(price=0.01, unit_price_cents=1))
    reply = _say(db, conversation, "I'd like two of your rye loaves please")

    [request] = fake_openai.chat_requests
    [tool] = request.body["tools"]
    assert tool["function"]["name"] == "create_order"
    assert "Rye loaf" in tool["function"]["description"]
    [order] = _orders(db, business.id)
    assert order.conversation_id == conversation.id
    assert order.contact_id == conversation.contact_id
    assert order.total_cents == 750
    [item] = db.exec(select(OrderItem).where(OrderItem.order_id == order.id)).all()
    assert (item.name, item.quantity, item.unit_price_cents) == ("Rye loaf", 2, 375)
    [link] = db.exec(select(PaymentLink).where(PaymentLink.order_id == order.id)).all()
    assert reply.sender_type == "ai"
    assert reply.text.splitlines() == [
        "Order #1",
        "2 x Rye loaf: 7.50 USD",
        "Total: 7.50 USD",
        f"Pay here: {payments.link_url(link.token)}",
    ]
    db.refresh(conversation)
    assert conversation.ai_turns == 1
    assert conversation.status == "ai"  # an order is no handover


def test_the_reply_is_in_the_customers_language(db, shop, stripe_on, fake_openai):
    _, _, conversation = shop
    fake_openai.queue(FakeToolCall("create_order", {"items": [{"product": "Baguette",
                                                               "quantity": 3}]}))  # fmt: skip
    reply = _say(db, conversation, "Bonjour, je voudrais trois baguettes s'il vous plaît")
    assert reply.text.startswith("Commande n°1")
    assert "Total : 6.30 USD" in reply.text
    assert "Payez ici : " in reply.text
    assert reply.language == "fr"


def test_an_unknown_product_places_no_order_and_lists_what_is_sold(
    db, shop, stripe_on, fake_openai
):
    _, business, conversation = shop
    fake_openai.queue(FakeToolCall("create_order", {"items": [{"product": "Wedding cake",
                                                               "quantity": 1}]}))  # fmt: skip
    reply = _say(db, conversation, "I'd like a wedding cake please")

    assert _orders(db, business.id) == []
    assert reply.text == (
        'Sorry, we do not sell "Wedding cake".\nHere is what we sell. Which one would you like?'
    )
    assert reply.attachments == [
        {"type": "quick_replies", "options": ["Buy Baguette", "Buy Rye loaf", "Buy Sourdough loaf"]}
    ]


def test_malformed_arguments_get_a_normal_answer_and_no_order(db, shop, stripe_on, fake_openai):
    _, business, conversation = shop
    set_rules(db, business, confidence_threshold=0.0)  # no knowledge: answer anyway
    fake_openai.queue(FakeToolCall("create_order", '{"items": [{"product": "Rye'), PLAIN)
    reply = _say(db, conversation, "I'd like two of your rye loaves please")

    assert _orders(db, business.id) == []
    assert reply.text == "We bake rye bread every morning."
    assert reply.sender_type == "ai"
    first, second = fake_openai.chat_requests
    assert "tools" in first.body
    assert "tools" not in second.body


def test_no_tool_is_offered_without_an_enabled_provider(db, shop, fake_openai):
    _, business, conversation = shop
    fake_openai.queue(PLAIN)
    _say(db, conversation, "I'd like two of your rye loaves please")
    [request] = fake_openai.chat_requests
    assert "tools" not in request.body
    assert chat.order_tool(db, business_id=business.id) is None


def test_no_tool_is_offered_without_active_products(db, shop, stripe_on, fake_openai):
    owner, business, conversation = shop
    for product in service.active_products(db, business_id=business.id):
        service.set_product_active(db, actor=owner, product_id=product.id, is_active=False)
    fake_openai.queue(PLAIN)
    _say(db, conversation, "I'd like two of your rye loaves please")
    [request] = fake_openai.chat_requests
    assert "tools" not in request.body


def test_no_tool_is_offered_when_no_provider_takes_the_currency(db, shop, fake_openai):
    _, business, _ = shop
    provider_id = payments.add_provider(
        db,
        business_id=business.id,
        kind="stripe",
        credentials={"secret_key": "sk_test_x", "webhook_secret": "whsec_x"},
        currencies=["EUR"],
    )
    payments.update_provider(db, business_id=business.id, provider_id=provider_id, is_enabled=True)
    assert chat.order_tool(db, business_id=business.id) is None


def test_offline_the_pipeline_is_unchanged(db, shop, stripe_on, offline):
    _, business, conversation = shop
    # No LLM: a sentence without an explicit "buy" is answered by the engine, no order …
    reply = _say(db, conversation, "I'd like two of your rye loaves please")
    assert _orders(db, business.id) == []
    assert "Order #" not in reply.text
    # … and the explicit intent still orders through the offline path.
    reply = _say(db, conversation, "buy 2 rye loaf")
    assert "Total: 7.50 USD" in reply.text
    assert len(_orders(db, business.id)) == 1
