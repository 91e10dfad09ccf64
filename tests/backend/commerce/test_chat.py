"""Buying in the chat: intents in several languages, fuzzy names, quantities, links, fallbacks."""

from __future__ import annotations

import pytest
from sqlmodel import select

from backend.commerce import chat, service
from backend.models import Business, Role
from backend.models.commerce import Order, OrderItem
from backend.models.payments import PaymentLink
from backend.payments import service as payments
from tests.factories import actor_for, make_contact, make_conversation


@pytest.fixture
def shop(db):
    owner, business = actor_for(db, role=Role.OWNER)
    for name, price, stock in [
        ("Sourdough loaf", "4.50", None),
        ("Rye loaf", "3.75", None),
        ("Chocolate cake", "18.00", 1),
        ("Baguette", "2.10", None),
    ]:
        service.create_product(db, actor=owner, name=name, price=price, currency="USD", stock=stock)
    contact = make_contact(db, business=business, name="Ama")
    conversation = make_conversation(db, business=business, contact=contact)
    return owner, business, contact, conversation


@pytest.fixture
def stripe_on(db, shop):
    _, business, _, _ = shop
    provider_id = payments.add_provider(
        db,
        business_id=business.id,
        kind="stripe",
        credentials={"secret_key": "sk_test_x", "webhook_secret": "whsec_x"},
    )
    payments.update_provider(db, business_id=business.id, provider_id=provider_id, is_enabled=True)


def _ask(db, shop, text, language=None):
    _, business, contact, conversation = shop
    return chat.purchase_reply(
        db,
        business_id=business.id,
        conversation_id=conversation.id,
        contact_id=contact.id,
        text=text,
        language=language,
    )


def _orders(db, business: Business):
    return db.exec(select(Order).where(Order.business_id == business.id)).all()


@pytest.mark.parametrize(
    ("text", "language", "quantity", "words"),
    [
        ("buy 2 sourdough loaves please", None, 2, ["Order #1", "Total: 9.00 USD", "Pay here: "]),
        ("I want to buy a baguette", "en", 1, ["Order #1", "Total: 2.10 USD"]),
        ("Quiero comprar dos baguettes", "es", 2, ["Pedido #1", "Total: 4.20 USD", "Paga aquí: "]),
        ("Je voudrais acheter 3 baguettes s'il vous plaît", None, 3, ["Commande n°1", "Payez ici"]),
        ("Quero comprar uma baguete", "pt", 1, ["Pedido #1", "Total: 2.10 USD", "Pague aqui: "]),
        ("Nataka kununua mbili Rye loaf", "sw", 2, ["Oda #1", "Jumla: 7.50 USD", "Lipa hapa: "]),
    ],
)
def test_a_clear_purchase_creates_an_order_and_a_payment_link(
    db, shop, stripe_on, text, language, quantity, words
):
    _, business, contact, conversation = shop
    reply = _ask(db, shop, text, language)

    assert reply is not None
    for word in words:
        assert word in reply.text
    [order] = _orders(db, business)
    assert (order.contact_id, order.conversation_id) == (contact.id, conversation.id)
    assert order.status == "awaiting_payment"
    [item] = db.exec(select(OrderItem).where(OrderItem.order_id == order.id)).all()
    assert item.quantity == quantity
    [link] = db.exec(select(PaymentLink).where(PaymentLink.order_id == order.id)).all()
    assert reply.text.endswith(payments.link_url(link.token))


def test_the_total_comes_from_the_catalogue_not_the_message(db, shop, stripe_on):
    reply = _ask(db, shop, "buy chocolate cake for 1 USD")
    _, business, _, _ = shop
    [order] = _orders(db, business)
    assert order.total_cents == 1800
    assert "Total: 18.00 USD" in reply.text


def test_an_ambiguous_name_offers_the_candidates_as_buttons(db, shop, stripe_on):
    reply = _ask(db, shop, "buy 2 loaf")
    assert reply.text == "Which one would you like to buy?"
    assert reply.quick_replies == ["Buy 2 x Rye loaf", "Buy 2 x Sourdough loaf"]
    _, business, _, _ = shop
    assert _orders(db, business) == []

    # Tapping a button is itself a clear purchase.
    chosen = _ask(db, shop, reply.quick_replies[0])
    assert "Total: 7.50 USD" in chosen.text


def test_ambiguous_in_spanish_answers_in_spanish(db, shop):
    reply = _ask(db, shop, "quiero comprar un loaf, por favor", "es")
    assert reply.text == "¿Cuál quieres comprar?"
    assert reply.quick_replies == ["Comprar Rye loaf", "Comprar Sourdough loaf"]


def test_buy_alone_lists_the_catalogue(db, shop):
    reply = _ask(db, shop, "Buy")
    assert reply.text == "Here is what we sell. Which one would you like?"
    assert reply.quick_replies == [
        "Buy Baguette",
        "Buy Chocolate cake",
        "Buy Rye loaf",
        "Buy Sourdough loaf",
    ]


@pytest.mark.parametrize(
    "text",
    ["What are your opening hours?", "buy a spaceship", "Do you deliver?", "the order was late"],
)
def test_no_intent_or_unknown_product_lets_the_ai_answer(db, shop, text):
    assert _ask(db, shop, text) is None
    _, business, _, _ = shop
    assert _orders(db, business) == []


def test_without_a_provider_for_the_currency_an_agent_follows_up(db, shop):
    reply = _ask(db, shop, "buy baguette")
    assert "Order #1" in reply.text
    assert "someone from our team will contact you" in reply.text
    assert "http" not in reply.text
    _, business, _, _ = shop
    [order] = _orders(db, business)
    assert order.status == "pending"
    assert db.exec(select(PaymentLink)).all() == []


def test_a_provider_that_does_not_take_the_currency_is_no_provider(db, shop):
    _, business, _, _ = shop
    provider_id = payments.add_provider(
        db,
        business_id=business.id,
        kind="stripe",
        credentials={"secret_key": "sk_test_x", "webhook_secret": "whsec_x"},
        currencies=["EUR"],
    )
    payments.update_provider(db, business_id=business.id, provider_id=provider_id, is_enabled=True)
    reply = _ask(db, shop, "buy baguette")
    assert "someone from our team will contact you" in reply.text


def test_out_of_stock_is_said_plainly(db, shop, stripe_on):
    assert "Order #1" in _ask(db, shop, "buy chocolate cake").text
    reply = _ask(db, shop, "buy chocolate cake")
    assert reply.text == "Sorry, I could not place this order: Chocolate cake is out of stock."
    assert reply.quick_replies == []


def test_another_business_catalogue_is_never_matched(db, shop):
    other, _ = actor_for(db)
    service.create_product(db, actor=other, name="Samosa", price="1", currency="USD")
    assert _ask(db, shop, "buy samosa") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("buy 3 x baguette", (3, "baguette")),
        ("order baguette x2", (2, "baguette")),
        ("comprar uma baguette", (1, "baguette")),
        ("acheter deux pains", (2, "pains")),
        ("nunua tatu mkate", (3, "mkate")),
    ],
)
def test_quantities(text, expected):
    intent = chat.parse_intent(text)
    assert (intent.quantity, intent.phrase) == expected


def test_the_sales_page_shows_the_link_and_cancelling_the_order_cancels_it(db, shop, stripe_on):
    owner, business, _, _ = shop
    reply = _ask(db, shop, "buy 1 chocolate cake")
    [order] = _orders(db, business)
    view = service.get_order(db, actor=owner, order_id=order.id)
    assert view.payment_link_status == "active"
    assert reply.text.endswith(view.payment_link_url)

    cancelled = service.set_status(db, actor=owner, order_id=order.id, status="cancelled")
    assert (cancelled.status, cancelled.payment_link_status) == ("cancelled", "cancelled")
    # The cake is back in stock.
    assert "Order #2" in _ask(db, shop, "buy chocolate cake").text


def test_the_owner_can_cancel_a_link_and_make_a_new_one(db, shop, stripe_on):
    owner, business, _, _ = shop
    _ask(db, shop, "buy baguette")
    [order] = _orders(db, business)
    first = service.get_order(db, actor=owner, order_id=order.id).payment_link_url
    view = service.cancel_payment_link(db, actor=owner, order_id=order.id)
    assert (view.status, view.payment_link_status) == ("pending", "cancelled")
    again = service.create_payment_link(db, actor=owner, order_id=order.id)
    assert (again.status, again.payment_link_status) == ("awaiting_payment", "active")
    assert again.payment_link_url != first


def test_a_free_product_gets_an_order_and_no_link(db, shop, stripe_on):
    owner, _, _, _ = shop
    service.create_product(db, actor=owner, name="Tasting sample", price="0", currency="USD")
    reply = _ask(db, shop, "buy tasting sample")
    assert "Total: 0.00 USD" in reply.text
    assert "someone from our team will contact you" in reply.text
    assert db.exec(select(PaymentLink)).all() == []
