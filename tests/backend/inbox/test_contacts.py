"""The same person on two channels: BizBot suggests likely duplicates (same phone or email) and
an agent merges them; everything moves to the surviving contact, the other goes, it is audited,
and another business's contacts are never found or touched."""

from __future__ import annotations

import pytest
from sqlmodel import select

from backend.auth.permissions import PermissionDenied
from backend.inbox import service as inbox
from backend.inbox.schemas import InboxError, NotFound
from backend.models import AuditLog, Contact, ContactChannelIdentity, Conversation, Lead
from backend.models.commerce import Order
from tests.backend.inbox.helpers import channel, conversation, make_team


def test_a_whatsapp_number_and_a_phone_typed_elsewhere_are_suggested_as_the_same_person(db):
    team = make_team(db)
    whatsapp = channel(db, team.business, "whatsapp")
    on_whatsapp = conversation(
        db, team.business, integration_id=whatsapp, name="Wanjiru", external_id="254712345678"
    )
    on_telegram = conversation(
        db, team.business, integration_id=channel(db, team.business, "telegram"),
        name="Wanjiru K", phone="+254 712 345 678", email="wanjiru@example.com",
    )  # fmt: skip
    by_email = conversation(db, team.business, name="W. K.", email="Wanjiru@Example.com")
    conversation(db, team.business, name="Someone else", phone="+254799999999")
    other = make_team(db)  # the same number in another business is never suggested
    conversation(db, other.business, name="Wanjiru", phone="+254712345678")

    card = inbox.get_thread(db, actor=team.agent, conversation_id=on_whatsapp.id).contact
    assert [(d.id, d.name, d.reason) for d in card.duplicates] == [
        (on_telegram.contact_id, "Wanjiru K", "phone")
    ]
    assert card.duplicates[0].channel_kinds == ["telegram"]
    card = inbox.get_thread(db, actor=team.agent, conversation_id=on_telegram.id).contact
    assert {(d.id, d.reason) for d in card.duplicates} == {
        (on_whatsapp.contact_id, "phone"),
        (by_email.contact_id, "email"),
    }


def test_an_agent_finds_a_contact_by_name_or_number_in_their_business_only(db):
    team = make_team(db)
    mine = conversation(db, team.business, name="Amina Otieno")
    found = conversation(db, team.business, name="Zawadi Njeri", phone="0712 000111")
    other = make_team(db)
    conversation(db, other.business, name="Zawadi Other", phone="0712 000111")

    def names(search: str) -> list[str]:
        return [
            m.name
            for m in inbox.find_contacts(
                db, actor=team.agent, contact_id=mine.contact_id, search=search
            )
        ]

    assert names("zawa") == ["Zawadi Njeri"]
    assert names("712 000") == ["Zawadi Njeri"]
    assert names("amina") == []  # not the contact being merged into
    assert names("") == []
    assert found.contact_id != mine.contact_id


def test_merging_moves_channels_conversations_leads_and_orders_and_removes_the_other(db):
    team = make_team(db)
    keep_conv = conversation(
        db, team.business, integration_id=channel(db, team.business, "whatsapp"),
        name="Wanjiru", external_id="254712345678",
    )  # fmt: skip
    gone_conv = conversation(
        db, team.business, integration_id=channel(db, team.business, "telegram"),
        name="Wanjiru K", email="wanjiru@example.com", external_id="tg-42",
    )  # fmt: skip
    keep_id, gone_id = keep_conv.contact_id, gone_conv.contact_id
    db.add(Lead(business_id=team.business.id, contact_id=gone_id, interest="Wedding cake"))
    db.add(Order(business_id=team.business.id, contact_id=gone_id, number=1, currency="KES"))
    db.flush()

    result = inbox.merge_contacts(
        db, actor=team.agent, contact_id=keep_id, other_contact_id=gone_id
    )
    assert (result.identities, result.conversations, result.leads, result.orders) == (1, 1, 1, 1)
    assert result.removed_name == "Wanjiru K"

    assert db.get(Contact, gone_id) is None
    kept = db.get(Contact, keep_id)
    assert (kept.name, kept.email) == ("Wanjiru", "wanjiru@example.com")  # blanks filled
    owners = {
        model.__name__: set(db.exec(select(model.contact_id)).all())
        for model in (ContactChannelIdentity, Conversation, Lead, Order)
    }
    assert owners == {name: {keep_id} for name in owners}

    card = inbox.get_thread(db, actor=team.agent, conversation_id=keep_conv.id).contact
    assert sorted(i.external_user_id for i in card.identities) == ["254712345678", "tg-42"]
    assert [p.id for p in card.past_conversations] == [gone_conv.id]
    assert card.lead.interest == "Wedding cake"

    [entry] = db.exec(select(AuditLog).where(AuditLog.action == "contact.merged")).all()
    assert (entry.actor_user_id, entry.target_type, entry.target_id) == (
        team.agent.user_id,
        "contact",
        str(keep_id),
    )
    assert entry.details["merged_contact_id"] == gone_id
    assert entry.details["conversations"] == 1


def test_merging_refuses_another_business_itself_and_viewers_and_changes_nothing(db):
    team = make_team(db)
    mine = conversation(db, team.business, name="Amina")
    other = make_team(db)
    theirs = conversation(db, other.business, name="Secret customer")

    with pytest.raises(NotFound):
        inbox.merge_contacts(
            db, actor=team.agent, contact_id=mine.contact_id, other_contact_id=theirs.contact_id
        )
    with pytest.raises(NotFound):
        inbox.merge_contacts(
            db, actor=team.agent, contact_id=theirs.contact_id, other_contact_id=mine.contact_id
        )
    with pytest.raises(InboxError, match="different contact"):
        inbox.merge_contacts(
            db, actor=team.agent, contact_id=mine.contact_id, other_contact_id=mine.contact_id
        )
    second = conversation(db, team.business, name="Amina O")
    with pytest.raises(PermissionDenied):
        inbox.merge_contacts(
            db, actor=team.viewer, contact_id=mine.contact_id, other_contact_id=second.contact_id
        )
    assert db.get(Contact, theirs.contact_id).name == "Secret customer"
    assert db.get(Conversation, theirs.id).contact_id == theirs.contact_id
    assert db.get(Contact, second.contact_id) is not None
    assert db.exec(select(AuditLog).where(AuditLog.action == "contact.merged")).all() == []


def test_the_contact_card_lists_the_customers_orders_newest_first_and_only_theirs(db):
    team = make_team(db)
    convo = conversation(db, team.business, name="Baraka")
    someone_else = conversation(db, team.business, name="Neema")
    orders = ((convo, 1, 1250, "paid"), (convo, 2, 4000, "awaiting_payment"),
              (someone_else, 3, 99, "paid"))  # fmt: skip
    for owner, number, total, status in orders:
        db.add(
            Order(business_id=team.business.id, contact_id=owner.contact_id, number=number,
                  status=status, currency="KES", subtotal_cents=total, total_cents=total)
        )  # fmt: skip
    db.flush()

    card = inbox.get_thread(db, actor=team.agent, conversation_id=convo.id).contact
    assert [(o.number, o.status, o.total_cents, o.currency) for o in card.orders] == [
        (2, "awaiting_payment", 4000, "KES"),
        (1, "paid", 1250, "KES"),
    ]
    assert (
        inbox.get_thread(db, actor=team.agent, conversation_id=someone_else.id)
        .contact.orders[0]
        .number
        == 3
    )
