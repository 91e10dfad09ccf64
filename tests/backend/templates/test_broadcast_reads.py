"""What the Templates domain reads and writes for a segment, and what it costs: counts are
made in SQL and a broadcast's recipients are chosen and stored by one INSERT … SELECT (never
by loading every contact), and no business ever counts, reaches or sees another's contacts."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlmodel import select

from backend.models.contacts import Contact, ContactChannelIdentity
from backend.models.templates import Broadcast, BroadcastRecipient
from backend.templates import repository as repo
from backend.templates import service
from backend.templates.schemas import TemplateError
from tests.backend.templates.helpers import (
    approved_template,
    business_with_number,
    segment_contact,
    statements,
)

# --- the segment preview -------------------------------------------------------------------------


def test_the_segment_count_is_made_in_sql_for_one_business_only(db):
    owner, mine, number = business_with_number(db)
    other_owner, theirs, their_number = business_with_number(db)
    for n in range(6):
        segment_contact(db, mine, number, f"VIP {n}", label="vip", opted_out=n < 2)
    segment_contact(db, mine, number, "Won VIP", label="vip", stage="won")
    segment_contact(db, mine, number, "Not VIP")
    twice = segment_contact(db, mine, number, "Two ids on the number", label="vip")
    db.add(
        ContactChannelIdentity(
            business_id=mine.id, contact_id=twice.id, channel_integration_id=number.id,
            external_user_id="254799999999",
        )
    )  # fmt: skip
    # Another business shares the tables, the label and the stage.
    for n in range(4):
        segment_contact(db, theirs, their_number, f"Their VIP {n}", label="vip", stage="won")
    db.flush()

    def count(business, integration, **segment):
        return repo.count_segment(
            db, business_id=business.id, integration_id=integration.id, **segment
        )

    assert count(mine, number, label="vip") == (8, 2)
    assert count(mine, number, label="vip", lead_stage="won") == (1, 0)
    assert count(mine, number) == (9, 2)
    assert count(theirs, their_number, label="vip") == (4, 0)
    # A business naming another's number counts nobody of either.
    assert count(mine, their_number, label="vip") == (0, 0)
    assert count(theirs, number) == (0, 0)

    with statements() as seen:
        preview = service.preview_segment(db, actor=owner, label="vip")
    assert (preview.total, preview.will_send, preview.opted_out) == (8, 6, 2)
    # One row per statement (the number, then the counts): no contact is loaded to count it.
    assert [rows for _, rows in seen] == [1, 1]
    assert "count(*) FILTER (WHERE contact.opted_out_at IS NOT NULL)" in seen[-1][0]
    assert service.preview_segment(db, actor=other_owner, label="vip").total == 4

    # The count is the segment a broadcast goes to.
    template = approved_template(db, mine, number, "vip_offer")
    view = service.create_broadcast(
        db, actor=owner, template_id=template.id, name="VIP", variables=["friend"], label="vip"
    )
    assert view.counts == {"queued": 6, "opted_out": 2}


# --- creating a broadcast ------------------------------------------------------------------------


def _recipients(db, broadcast_id: int) -> set[tuple[int, str, str]]:
    """(business id, contact name, status) of every stored recipient of the broadcast, whoever
    owns the rows: a row of another business would show here."""
    rows = db.exec(
        select(BroadcastRecipient.business_id, Contact.name, BroadcastRecipient.status)
        .join(Contact, Contact.id == BroadcastRecipient.contact_id)
        .where(BroadcastRecipient.broadcast_id == broadcast_id)
    ).all()
    return {(r[0], r[1], r[2]) for r in rows}


def test_a_broadcast_stores_its_segment_as_before_for_each_of_two_businesses(db):
    owner, mine, number = business_with_number(db)
    other_owner, theirs, their_number = business_with_number(db)
    second_number = business_with_number(db)[2]  # a number of a third business
    segment_contact(db, mine, number, "Amina", label="vip")
    segment_contact(db, mine, number, "Baraka", label="vip", stage="won")
    segment_contact(db, mine, number, "Chebet", label="vip", opted_out=True)
    segment_contact(db, mine, number, "Dalia", stage="won")  # no label
    segment_contact(db, mine, number, "Eze", label="other")
    twice = segment_contact(db, mine, number, "Fatou", label="vip")
    db.add(
        ContactChannelIdentity(
            business_id=mine.id, contact_id=twice.id, channel_integration_id=number.id,
            external_user_id="254799999999",
        )
    )  # fmt: skip
    # On another business's number: never reached by my broadcast.
    segment_contact(db, mine, second_number, "Gathoni", label="vip")
    # The other business shares the tables, the label and the stage.
    segment_contact(db, theirs, their_number, "Their Hana", label="vip", stage="won")
    segment_contact(db, theirs, their_number, "Their Imani", label="vip", opted_out=True)
    segment_contact(db, theirs, their_number, "Their Juma", stage="won")
    mine_template = approved_template(db, mine, number, "offer")
    their_template = approved_template(db, theirs, their_number, "offer")

    def broadcast(actor, template, **segment):
        return service.create_broadcast(
            db, actor=actor, template_id=template.id, name="Offer", variables=["friend"],
            **segment,
        )  # fmt: skip

    vip = broadcast(owner, mine_template, label="vip")
    assert _recipients(db, vip.id) == {
        (mine.id, "Amina", "queued"), (mine.id, "Baraka", "queued"),
        (mine.id, "Chebet", "opted_out"), (mine.id, "Fatou", "queued"),
    }  # fmt: skip
    assert vip.counts == {"queued": 3, "opted_out": 1}
    # Listed in the order of the contacts, as before: the first recipients by id.
    assert [r.contact_name for r in vip.recipients] == ["Amina", "Baraka", "Chebet", "Fatou"]

    won = broadcast(owner, mine_template, lead_stage="won")
    assert _recipients(db, won.id) == {(mine.id, "Baraka", "queued"), (mine.id, "Dalia", "queued")}
    both = broadcast(owner, mine_template, label="vip", lead_stage="won")
    assert _recipients(db, both.id) == {(mine.id, "Baraka", "queued")}
    everyone = broadcast(owner, mine_template)
    assert {name for _, name, _ in _recipients(db, everyone.id)} == {
        "Amina", "Baraka", "Chebet", "Dalia", "Eze", "Fatou",
    }  # fmt: skip

    theirs_vip = broadcast(other_owner, their_template, label="vip")
    assert _recipients(db, theirs_vip.id) == {
        (theirs.id, "Their Hana", "queued"), (theirs.id, "Their Imani", "opted_out"),
    }  # fmt: skip

    # Naming another business's number or template reaches nobody and stores nothing.
    before = db.exec(select(sa.func.count()).select_from(Broadcast)).one()
    with pytest.raises(TemplateError, match="Connect a WhatsApp number"):
        broadcast(owner, mine_template, label="vip", integration_id=their_number.id)
    with pytest.raises(TemplateError):
        broadcast(owner, their_template, label="vip")
    assert db.exec(select(sa.func.count()).select_from(Broadcast)).one() == before


def test_an_empty_segment_is_refused_and_leaves_no_broadcast(db):
    owner, mine, number = business_with_number(db)
    segment_contact(db, mine, number, "Amina", label="vip")
    template = approved_template(db, mine, number, "offer")
    with pytest.raises(TemplateError, match="No contact on this WhatsApp number") as refused:
        service.create_broadcast(
            db, actor=owner, template_id=template.id, name="Nobody", variables=["friend"],
            label="nobody-has-this",
        )  # fmt: skip
    assert refused.value.field == "segment"
    assert db.exec(select(Broadcast).where(Broadcast.business_id == mine.id)).all() == []
    assert db.exec(select(BroadcastRecipient)
                   .where(BroadcastRecipient.business_id == mine.id)).all() == []  # fmt: skip


def test_storing_the_recipients_costs_the_same_statements_for_3_or_40_contacts(db):
    def create(size: int) -> list[tuple[str, int]]:
        owner, business, number = business_with_number(db)
        for n in range(size):
            segment_contact(db, business, number, f"C{n}", label="vip", opted_out=n == 0)
        template = approved_template(db, business, number, "offer")
        with statements() as seen:
            view = service.create_broadcast(
                db, actor=owner, template_id=template.id, name="Offer", variables=["friend"],
                label="vip",
            )  # fmt: skip
        assert view.counts == {"queued": size - 1, "opted_out": 1}
        return seen

    small, large = create(3), create(40)
    assert len(small) == len(large)
    assert [s for s, _ in small] == [s for s, _ in large]
    # The recipients are chosen and written by one INSERT … SELECT; no contact is read back.
    [insert] = [(s, n) for s, n in large if s.startswith("INSERT INTO broadcastrecipient")]
    assert "SELECT" in insert[0]
    assert insert[1] == 40
    assert not any("FROM contact" in s and n > 1 for s, n in large if not s.startswith("INSERT"))
