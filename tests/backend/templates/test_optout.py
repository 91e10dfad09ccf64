"""Opt-out by reply (STOP / START in the customer's language) and from the contact card."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from backend.api import create_app
from backend.core.db import session_scope
from backend.models.contacts import Contact
from backend.models.conversations import Message
from backend.models.tenants import Role
from backend.templates import optout, service
from backend.templates.schemas import TemplateError
from tests.backend.channels.helpers import make_channel, meta_headers, payload, run_worker
from tests.factories import actor_for, make_contact


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("STOP", "en"),
        ("Stop!", "en"),
        ("  unsubscribe. ", "en"),
        ("Stop messages", "en"),
        ("Stop promotions", "en"),  # the label of Meta's marketing opt-out button
        ("Arrêt", "fr"),
        ("arret", "fr"),
        ("Me désabonner", "fr"),
        ("BAJA", "es"),
        ("Sair", "pt"),
        ("acha", "sw"),
        ("Sitisha 🙏", "sw"),
        ("Abmelden", "de"),
        ("afmelden", "nl"),
    ],
)
def test_a_message_that_is_a_stop_keyword_is_recognised_in_its_language(text, language):
    action, languages = optout.keyword_of(text)
    assert action == optout.OPTED_OUT
    assert language in languages


@pytest.mark.parametrize(
    "text",
    [
        "Please don't stop the delivery",
        "stop by the shop tomorrow?",
        "Can I unsubscribe later?",
        "acha nikuambie kitu",  # Swahili: "let me tell you something"
        "parar en la tienda",
        "stopped",
        "",
        "   ",
    ],
)
def test_a_sentence_containing_a_keyword_is_not_an_opt_out(text):
    assert optout.keyword_of(text) is None


@pytest.mark.parametrize("text", ["START", "S'abonner", "s\u2019abonner !", "Me réabonner"])
def test_a_start_keyword_is_recognised_whatever_its_apostrophe_or_accents(text):
    action, languages = optout.keyword_of(text)
    assert action == optout.OPTED_IN
    assert languages


def test_stop_opts_out_with_a_confirmation_in_the_customers_language(db):
    _, business = actor_for(db)
    contact = make_contact(db, business=business, name="Amélie")
    reply = optout.handle_keyword(
        db, business_id=business.id, contact_id=contact.id, text="Arrêt !"
    )
    assert reply.action == optout.OPTED_OUT
    assert reply.language == "fr"
    assert reply.text == optout.CONFIRM_STOP["fr"]
    assert "START" in reply.text
    db.refresh(contact)
    first = contact.opted_out_at
    assert first is not None

    # A second STOP is confirmed again; the first opt-out's time is kept.
    again = optout.handle_keyword(db, business_id=business.id, contact_id=contact.id, text="stop")
    assert again.action == optout.OPTED_OUT
    db.refresh(contact)
    assert contact.opted_out_at == first

    # START subscribes again, confirmed in the conversation's language for a shared word.
    back = optout.handle_keyword(
        db, business_id=business.id, contact_id=contact.id, text="START", language="fr"
    )
    assert (back.action, back.text) == (optout.OPTED_IN, optout.CONFIRM_START["fr"])
    db.refresh(contact)
    assert contact.opted_out_at is None


def test_a_shared_word_is_answered_in_the_customers_known_language(db):
    _, business = actor_for(db)
    contact = make_contact(db, business=business)
    contact.language = "pt"
    db.add(contact)
    db.flush()
    reply = optout.handle_keyword(db, business_id=business.id, contact_id=contact.id, text="Parar")
    assert (reply.language, reply.text) == ("pt", optout.CONFIRM_STOP["pt"])
    other = make_contact(db, business=business)
    reply = optout.handle_keyword(db, business_id=business.id, contact_id=other.id, text="parar")
    assert reply.language == "es"  # nothing known about them: the first language of the word
    reply = optout.handle_keyword(
        db, business_id=business.id, contact_id=make_contact(db, business=business).id,
        text="STOP",
    )  # fmt: skip
    assert (reply.language, reply.text) == ("en", optout.CONFIRM_STOP["en"])


def test_start_from_a_subscribed_contact_and_other_messages_are_left_to_the_ai(db):
    _, business = actor_for(db)
    contact = make_contact(db, business=business)
    assert optout.handle_keyword(db, business_id=business.id, contact_id=contact.id,
                                 text="start") is None  # fmt: skip
    assert optout.handle_keyword(db, business_id=business.id, contact_id=contact.id,
                                 text="Do you stop selling at 6?") is None  # fmt: skip
    db.refresh(contact)
    assert contact.opted_out_at is None


def test_a_keyword_never_touches_another_businesss_contact(db):
    _, business = actor_for(db)
    _, other_business = actor_for(db)
    stranger = make_contact(db, business=other_business)
    assert optout.handle_keyword(db, business_id=business.id, contact_id=stranger.id,
                                 text="STOP") is None  # fmt: skip
    db.refresh(stranger)
    assert stranger.opted_out_at is None


def test_an_agent_opts_a_contact_out_and_back_in_from_the_contact_card(db):
    agent, business = actor_for(db, role=Role.AGENT)
    contact = make_contact(db, business=business)
    assert service.set_opt_out(db, actor=agent, contact_id=contact.id, opted_out=True) is True
    db.refresh(contact)
    assert contact.opted_out_at is not None
    assert service.set_opt_out(db, actor=agent, contact_id=contact.id, opted_out=True) is False
    assert service.set_opt_out(db, actor=agent, contact_id=contact.id, opted_out=False) is True
    db.refresh(contact)
    assert contact.opted_out_at is None

    stranger, _ = actor_for(db, role=Role.OWNER)
    with pytest.raises(TemplateError, match="does not exist"):
        service.set_opt_out(db, actor=stranger, contact_id=contact.id, opted_out=True)
    viewer, _ = actor_for(db, role=Role.VIEWER, business=business)
    with pytest.raises(PermissionError):
        service.set_opt_out(db, actor=viewer, contact_id=contact.id, opted_out=True)
    db.refresh(contact)
    assert contact.opted_out_at is None


# --- in the pipeline --------------------------------------------------------------------------


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app()) as c:
        yield c


def _customer_writes(client: TestClient, cfg, text: str, message_id: str) -> None:
    body = (
        payload("whatsapp", "text")
        .replace(b"Hello! Do you deliver to Westlands?", text.encode())
        .replace(b"wamid.HBgMMjU0NzEyMzQ1Njc4FQIAEhggQUFBQUFB", message_id.encode())
    )
    response = client.post(
        f"/webhooks/whatsapp/{cfg.integration_id}", content=body, headers=meta_headers(body)
    )
    assert response.status_code == 200
    run_worker()


def _outbound_texts(business_id: int) -> list[str]:
    with session_scope() as session:
        return [
            m.text
            for m in session.exec(
                select(Message)
                .where(Message.business_id == business_id, Message.direction == "outbound")
                .order_by(Message.id)
            ).all()
        ]


@pytest.mark.usefixtures("committed")
def test_stop_on_whatsapp_opts_out_and_only_the_confirmation_is_sent(client, graph):
    cfg = make_channel("whatsapp")
    _customer_writes(client, cfg, "STOP", "wamid.STOP1")
    with session_scope() as session:
        contact = session.exec(select(Contact).where(Contact.business_id == cfg.business_id)).one()
    assert contact.opted_out_at is not None
    # One short confirmation and no AI answer; the fake Graph received exactly that.
    assert _outbound_texts(cfg.business_id) == [optout.CONFIRM_STOP["en"]]
    assert [m["text"]["body"] for m in graph.sent("messages")] == [optout.CONFIRM_STOP["en"]]

    _customer_writes(client, cfg, "Start", "wamid.START1")
    with session_scope() as session:
        assert session.get(Contact, contact.id).opted_out_at is None
    assert _outbound_texts(cfg.business_id)[-1] == optout.CONFIRM_START["en"]
    assert len(_outbound_texts(cfg.business_id)) == 2


@pytest.mark.usefixtures("committed")
def test_an_ordinary_message_with_stop_in_it_is_answered_by_the_ai(client, graph):
    cfg = make_channel("whatsapp")
    _customer_writes(client, cfg, "Do you stop delivering at 6pm?", "wamid.Q1")
    with session_scope() as session:
        contact = session.exec(select(Contact).where(Contact.business_id == cfg.business_id)).one()
    assert contact.opted_out_at is None
    texts = _outbound_texts(cfg.business_id)
    assert len(texts) == 1
    assert texts[0] != optout.CONFIRM_STOP["en"]


def test_every_language_has_both_confirmations():
    assert set(optout.STOP_KEYWORDS) == set(optout.CONFIRM_STOP) == set(optout.CONFIRM_START)
    assert set(optout.START_KEYWORDS) == set(optout.CONFIRM_STOP)
    for text in optout.CONFIRM_STOP.values():
        assert "START" in text
    for text in optout.CONFIRM_START.values():
        assert "STOP" in text
