"""What the Templates page reads about broadcasts and segments, and what it costs: counts are
made in SQL (never by loading every contact or recipient), a live batch re-reads only the
broadcasts it names, and no business ever counts or sees another's contacts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from reflex.istate.data import RouterData
from reflex.state import State
from sqlmodel import Session

from backend.core.db import get_engine, session_scope
from backend.models.base import utcnow
from backend.models.contacts import ContactChannelIdentity
from backend.models.conversations import Conversation, Message
from backend.models.leads import Lead
from backend.models.templates import Broadcast, BroadcastRecipient, MessageTemplate
from backend.templates import repository as repo
from backend.templates import service
from state.live import LiveBatch
from state.templates import (
    BroadcastRow,
    BroadcastsRead,
    BroadcastsState,
    _named_broadcasts,
    _read_broadcasts,
)
from tests.factories import actor_for, make_channel, make_contact


@contextmanager
def statements() -> Iterator[list[tuple[str, int]]]:
    """Every statement sent to PostgreSQL meanwhile, with how many rows it returned."""
    seen: list[tuple[str, int]] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, cursor.rowcount))

    sa.event.listen(get_engine(), "after_cursor_execute", count)
    try:
        yield seen
    finally:
        sa.event.remove(get_engine(), "after_cursor_execute", count)


def _business(session: Session):
    actor, business = actor_for(session)
    number = make_channel(session, business=business, kind="whatsapp")
    return actor, business, number


def _contact(session, business, number, name, *, label=None, stage=None, opted_out=False):
    contact = make_contact(session, business=business, name=name)
    if opted_out:
        contact.opted_out_at = utcnow()
    session.add(
        ContactChannelIdentity(
            business_id=business.id, contact_id=contact.id, channel_integration_id=number.id,
            external_user_id=f"2547{contact.id:08d}",
        )
    )  # fmt: skip
    session.add(
        Conversation(
            business_id=business.id, contact_id=contact.id, channel_integration_id=number.id,
            status="resolved", labels=[label] if label else [],
        )
    )  # fmt: skip
    if stage:
        session.add(Lead(business_id=business.id, contact_id=contact.id, stage=stage))
    session.flush()
    return contact


# --- the segment preview -------------------------------------------------------------------------


def test_the_segment_count_is_made_in_sql_for_one_business_only(db):
    owner, mine, number = _business(db)
    other_owner, theirs, their_number = _business(db)
    for n in range(6):
        _contact(db, mine, number, f"VIP {n}", label="vip", opted_out=n < 2)
    _contact(db, mine, number, "Won VIP", label="vip", stage="won")
    _contact(db, mine, number, "Not VIP")
    twice = _contact(db, mine, number, "Two ids on the number", label="vip")
    db.add(
        ContactChannelIdentity(
            business_id=mine.id, contact_id=twice.id, channel_integration_id=number.id,
            external_user_id="254799999999",
        )
    )  # fmt: skip
    # Another business shares the tables, the label and the stage.
    for n in range(4):
        _contact(db, theirs, their_number, f"Their VIP {n}", label="vip", stage="won")
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
    # The count is the segment a broadcast would go to.
    assert len(repo.segment_contacts(db, business_id=mine.id, integration_id=number.id,
                                     label="vip")) == 8  # fmt: skip

    with statements() as seen:
        preview = service.preview_segment(db, actor=owner, label="vip")
    assert (preview.total, preview.will_send, preview.opted_out) == (8, 6, 2)
    # One row per statement (the number, then the counts): no contact is loaded to count it.
    assert [rows for _, rows in seen] == [1, 1]
    assert "count(*) FILTER (WHERE contact.opted_out_at IS NOT NULL)" in seen[-1][0]
    assert service.preview_segment(db, actor=other_owner, label="vip").total == 4


def test_typing_a_segment_asks_for_a_count_in_the_background_and_the_last_keystroke_wins():
    assert BroadcastsState.refresh_preview.is_background
    root = State(_reflex_internal_init=True)
    page = root.get_substate(BroadcastsState.get_full_name().split(".")[1:])
    with statements() as seen:
        first = BroadcastsState.set_b.fn(page, "b_label", "v")
        second = BroadcastsState.set_b.fn(page, "b_label", "vip")
        BroadcastsState.set_b.fn(page, "b_name", "Weekend")  # not the segment: no count
    assert seen == []  # a keystroke runs no SQL on the websocket's loop
    assert page.b_label == "vip"
    # Each keystroke asks for a count with its own number; only the newest one's is shown.
    assert first.handler.fn is BroadcastsState.refresh_preview.fn
    assert [(str(name), str(value)) for name, value in first.args] == [("seq", "1")]
    assert [(str(name), str(value)) for name, value in second.args] == [("seq", "2")]
    assert page._preview_seq == 2


# --- broadcasts on the page and live -------------------------------------------------------------


def _broadcast(session, owner, business, number, name, statuses: list[str]) -> Broadcast:
    """A broadcast whose recipients are at `statuses`: "queued", "opted_out", "failed", or
    "sent:<delivery status>" for a message the outbox took."""
    template = MessageTemplate(
        business_id=business.id, channel_integration_id=number.id, name=f"t_{name.lower()}",
        language="en_US", category="marketing", status="approved", body="Hi {{1}}!",
    )  # fmt: skip
    session.add(template)
    session.flush()
    broadcast = Broadcast(
        business_id=business.id, template_id=template.id, channel_integration_id=number.id,
        name=name, segment={}, created_by_user_id=owner.user_id,
    )  # fmt: skip
    session.add(broadcast)
    session.flush()
    for n, status in enumerate(statuses):
        contact = make_contact(session, business=business, name=f"{name} {n:03d}")
        recipient = BroadcastRecipient(
            business_id=business.id, broadcast_id=broadcast.id, contact_id=contact.id,
            status=status.split(":")[0],
        )  # fmt: skip
        if status.startswith("sent:"):
            conversation = Conversation(
                business_id=business.id, contact_id=contact.id, status="resolved",
                channel_integration_id=number.id,
            )  # fmt: skip
            session.add(conversation)
            session.flush()
            message = Message(
                business_id=business.id, conversation_id=conversation.id, direction="outbound",
                sender_type="agent", text="Hi!", content_type="template",
                delivery_status=status.split(":")[1],
                error="Undeliverable (code 131026)" if status == "sent:failed" else None,
            )  # fmt: skip
            session.add(message)
            session.flush()
            recipient.message_id = message.id
        session.add(recipient)
    session.flush()
    return broadcast


@pytest.fixture
def three_broadcasts(committed):
    with session_scope() as session:
        owner, business, number = _business(session)
        big = _broadcast(
            session, owner, business, number, "Big",
            ["sent:delivered"] * 40 + ["sent:read"] * 15 + ["queued"] * 4 + ["opted_out"] * 3,
        )  # fmt: skip
        small = _broadcast(
            session, owner, business, number, "Small",
            ["sent:queued", "sent:read", "sent:failed", "opted_out"],
        )  # fmt: skip
        quiet = _broadcast(session, owner, business, number, "Quiet", ["queued"])
        stranger, other, other_number = _business(session)
        theirs = _broadcast(session, stranger, other, other_number, "Theirs", ["queued"] * 2)
    return owner, {"big": big.id, "small": small.id, "quiet": quiet.id, "theirs": theirs.id}


def test_a_live_batch_rereads_only_the_broadcasts_it_names_with_counts_made_in_sql(
    three_broadcasts,
):
    owner, ids = three_broadcasts
    with statements() as seen:
        [small] = _read_broadcasts(owner, BroadcastsRead((ids["small"],)))
    assert isinstance(small, BroadcastRow)
    assert (small.id, small.name, small.total) == (ids["small"], "Small", 4)
    assert small.summary == "1 failed, 1 opted out, 1 queued, 1 read"
    assert {r.name: r.status for r in small.recipients} == {
        "Small 000": "queued", "Small 001": "read", "Small 002": "failed",
        "Small 003": "opted_out",
    }  # fmt: skip
    [failed] = [r for r in small.recipients if r.status == "failed"]
    assert failed.error == "Undeliverable (code 131026)"
    assert (small.shown_label, small.can_show_more) == ("", False)
    # The broadcast, its counts (one GROUP BY), its recipients: nothing of the other broadcasts.
    assert len(seen) == 3
    assert max(rows for _, rows in seen) == 4
    assert "GROUP BY broadcastrecipient.broadcast_id" in seen[1][0]

    # Thousands of recipients or a few: the counts cover all, the list stops at the first 50.
    with statements() as seen:
        [big] = _read_broadcasts(owner, BroadcastsRead((ids["big"],)))
    assert big.summary == "40 delivered, 3 opted out, 4 queued, 15 read"
    assert big.total == 62
    assert len(big.recipients) == service.RECIPIENTS_SHOWN == 50
    assert big.recipients[0].name == "Big 000"
    assert (big.shown_label, big.can_show_more) == ("Showing 50 of 62 recipients.", True)
    assert len(seen) == 3
    assert max(rows for _, rows in seen) == 50

    [more] = _read_broadcasts(owner, BroadcastsRead((ids["big"],), ((ids["big"], 100),)))
    assert (len(more.recipients), more.shown_label, more.can_show_more) == (62, "", False)

    # Several named broadcasts still cost three statements; another business's are never read.
    with statements() as seen:
        rows = _read_broadcasts(owner, BroadcastsRead((ids["quiet"], ids["small"], ids["theirs"])))
    assert [r.name for r in rows] == ["Quiet", "Small"]
    assert len(seen) == 3
    # The full read (a resync) lists the latest ones, newest first.
    assert [r.name for r in _read_broadcasts(owner)] == ["Quiet", "Small", "Big"]


def test_the_page_merges_what_a_live_batch_rereads(three_broadcasts):
    owner, ids = three_broadcasts
    batch = LiveBatch.of([
        {"event": "broadcast.updated", "broadcast_id": ids["small"]},
        {"event": "broadcast.updated", "broadcast_id": str(ids["quiet"])},
        {"event": "message.updated", "message_id": 1, "broadcast_id": 999},
    ])  # fmt: skip
    assert _named_broadcasts(batch) == {ids["small"], ids["quiet"]}

    root = State(_reflex_internal_init=True)
    page = root.get_substate(BroadcastsState.get_full_name().split(".")[1:])
    shown = _read_broadcasts(owner)
    page.broadcasts = [r for r in shown if r.name != "Quiet"]  # opened before Quiet started
    with session_scope() as session:
        session.exec(
            sa.update(BroadcastRecipient)
            .where(BroadcastRecipient.broadcast_id == ids["small"])
            .values(status="opted_out")
        )
    root.router = RouterData.from_router_data({"asPath": "/templates"})
    page.b_loaded, page._shown = True, {ids["small"]: 100, ids["big"]: 100}
    request = page._live_request(batch, owner)
    assert request == BroadcastsRead(
        tuple(sorted((ids["quiet"], ids["small"]))), ((ids["small"], 100),)
    )
    assert page._live_request(LiveBatch(tick=True), owner) is None
    assert page._live_request(LiveBatch(resync=True), owner).broadcast_ids is None
    page._live_apply(request, _read_broadcasts(owner, request))
    assert [r.name for r in page.broadcasts] == ["Quiet", "Small", "Big"]
    [small] = [r for r in page.broadcasts if r.name == "Small"]
    assert small.summary == "4 opted out"
    big = next(r for r in page.broadcasts if r.name == "Big")
    assert big == next(r for r in shown if r.name == "Big")
