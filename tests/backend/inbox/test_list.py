"""The inbox list on the real PostgreSQL: rows, filters, search, pagination, counts, isolation."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from backend.handoff import service as handoff
from backend.inbox import service as inbox
from backend.inbox.schemas import InboxError
from tests.backend.inbox.helpers import (
    T0,
    channel,
    conversation,
    hand_over,
    make_team,
    minutes,
    set_presence,
)


def ids(page) -> list[int]:
    return [row.id for row in page.rows]


def test_rows_show_what_an_agent_needs_newest_activity_first(db):
    team = make_team(db)
    wa = channel(db, team.business, "whatsapp", "Shop WhatsApp")
    tg = channel(db, team.business, "telegram", "Shop bot")
    older = conversation(
        db,
        team.business,
        integration_id=wa,
        name="Zawadi",
        texts=("Hi", "Do you deliver to Kisumu?"),
        at=T0,
        unread=2,
        labels=["delivery"],
    )
    nameless = conversation(
        db, team.business, integration_id=tg, name=None, external_id="tg-777", at=T0 + minutes(5)
    )
    empty = conversation(
        db, team.business, integration_id=wa, name=None, texts=(), at=T0 + minutes(10)
    )

    page = inbox.list_conversations(db, actor=team.agent, now=T0 + minutes(20))

    assert ids(page) == [empty.id, nameless.id, older.id]
    assert page.next_cursor is None
    row = page.rows[2]
    assert (row.contact_name, row.channel_kind, row.channel_name) == (
        "Zawadi",
        "whatsapp",
        "Shop WhatsApp",
    )
    assert (row.last_message_preview, row.last_message_sender) == (
        "Do you deliver to Kisumu?",
        "customer",
    )
    assert (row.unread_count, row.labels, row.priority, row.status) == (
        2,
        ["delivery"],
        "normal",
        "ai",
    )
    assert row.last_activity_at == T0
    assert row.sla_state == "none"
    assert page.rows[1].contact_name == "tg-777"  # no name: the channel's id for them
    assert page.rows[0].last_message_preview == ""


def test_filters_by_status_channel_assignee_label_and_unread(db):
    team = make_team(db)
    wa = channel(db, team.business, "whatsapp")
    widget = channel(db, team.business, "widget")
    a = conversation(db, team.business, integration_id=wa, status="ai", labels=["vip"], unread=1)
    b = conversation(
        db,
        team.business,
        integration_id=widget,
        status="human",
        assignee=team.agent,
        at=T0 + minutes(1),
    )
    c = conversation(db, team.business, integration_id=wa, at=T0 + minutes(2))
    hand_over(db, c)
    d = conversation(
        db,
        team.business,
        integration_id=widget,
        status="resolved",
        assignee=team.agents[1],
        labels=["vip", "refund"],
        at=T0 + minutes(3),
    )

    def listed(**filters):
        return set(ids(inbox.list_conversations(db, actor=team.agent, **filters)))

    assert listed(status="waiting_for_agent") == {c.id}
    assert listed(status="open") == {a.id, b.id, c.id}
    assert listed(status=["human", "resolved"]) == {b.id, d.id}
    assert listed(channel="widget") == {b.id, d.id}
    assert listed(assignee="me") == {b.id}
    assert listed(assignee=team.agents[1].user_id) == {d.id}
    assert listed(assignee="unassigned") == {a.id, c.id}
    assert listed(label="VIP") == {a.id, d.id}
    assert listed(label="vip", status="open") == {a.id}
    assert listed(unread=True) == {a.id}
    assert listed(channel="telegram") == set()
    with pytest.raises(InboxError) as bad:
        inbox.list_conversations(db, actor=team.agent, status="pending")
    assert bad.value.field == "status"
    with pytest.raises(InboxError) as bad:
        inbox.list_conversations(db, actor=team.agent, assignee="somebody")
    assert bad.value.field == "assignee"


def test_search_finds_message_words_contact_details_and_phone_digits(db):
    team = make_team(db)
    refund = conversation(
        db, team.business, name="Amina", texts=("I want refunds for the broken oven",)
    )
    by_email = conversation(
        db,
        team.business,
        name=None,
        email="baraka.otieno@mail.example",
        texts=("hello",),
        at=T0 + minutes(1),
    )
    by_phone = conversation(
        db,
        team.business,
        name="Chebet",
        phone="+254 712 345 678",
        texts=("hello",),
        at=T0 + minutes(2),
    )
    by_channel_id = conversation(
        db,
        team.business,
        name="Dan",
        external_id="+255765432100",
        texts=("habari",),
        at=T0 + minutes(3),
    )
    noted = conversation(db, team.business, name="Esther", texts=("hi",), at=T0 + minutes(4))
    inbox.add_note(db, actor=team.agent, conversation_id=noted.id, text="Wants the wholesale price")

    def found(search: str) -> set[int]:
        return set(ids(inbox.list_conversations(db, actor=team.agent, search=search)))

    assert found("refund") == {refund.id}  # word prefix: "refunds"
    assert found("broken oven") == {refund.id}
    assert found("amina") == {refund.id}
    assert found("baraka") == {by_email.id}
    assert found("0712 345678") == {by_phone.id}
    assert found("7654321") == {by_channel_id.id}
    assert found("wholesale") == {noted.id}  # the team's notes are searchable too
    assert found("hello") == {by_email.id, by_phone.id}
    assert found("nothing-like-this") == set()
    assert found("  ") == {refund.id, by_email.id, by_phone.id, by_channel_id.id, noted.id}


def test_keyset_pages_cover_every_conversation_once(db):
    team = make_team(db)
    made = [conversation(db, team.business, at=T0 + minutes(i % 3)) for i in range(8)]
    seen, cursor, pages = [], None, 0
    while True:
        page = inbox.list_conversations(db, actor=team.agent, limit=3, cursor=cursor)
        seen += ids(page)
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert pages == 3
    assert sorted(seen) == sorted(c.id for c in made)
    assert len(seen) == len(set(seen))
    # Newest activity first, ties broken by id, across page boundaries.
    expected = sorted(made, key=lambda c: (c.last_message_at, c.id), reverse=True)
    assert seen == [c.id for c in expected]
    with pytest.raises(InboxError) as bad:
        inbox.list_conversations(db, actor=team.agent, cursor="not-a-cursor")
    assert bad.value.field == "cursor"


def test_counts_per_tab(db):
    team = make_team(db)
    conversation(db, team.business, status="ai", unread=1)
    conversation(db, team.business, status="human", assignee=team.agent)
    hand_over(db, conversation(db, team.business))
    conversation(db, team.business, status="resolved", unread=3)
    counts = inbox.counts(db, actor=team.agent)
    assert (counts.ai, counts.waiting_for_agent, counts.human, counts.resolved) == (1, 1, 1, 1)
    assert (counts.mine, counts.unassigned, counts.unread) == (1, 1, 1)


def test_another_business_never_appears_or_opens(db):
    mine, theirs = make_team(db), make_team(db)
    own = conversation(db, mine.business, texts=("secret order 42",))
    other = conversation(db, theirs.business, texts=("secret order 42",))
    assert ids(inbox.list_conversations(db, actor=mine.agent, search="secret")) == [own.id]
    assert inbox.get_rows(db, actor=mine.agent, conversation_ids=[own.id, other.id])[0].id == own.id
    assert len(inbox.get_rows(db, actor=mine.agent, conversation_ids=[other.id])) == 0
    assert inbox.counts(db, actor=mine.agent).ai == 1


def test_the_list_walks_the_inbox_index(db):
    """With many conversations the newest-first page is read in index order, not sorted."""
    team = make_team(db)
    wa = channel(db, team.business)
    conversation(db, team.business, integration_id=wa)
    db.execute(
        sa.text(
            "INSERT INTO contact (business_id, name, attributes) "
            "SELECT :b, 'Bulk ' || g, '{}' FROM generate_series(1, 20000) g"
        ),
        {"b": team.business.id},
    )
    db.execute(
        sa.text(
            "INSERT INTO conversation (business_id, contact_id, channel_integration_id, status, "
            "labels, unread_count, ai_turns, priority, last_message_at) "
            "SELECT :b, c.id, :wa, "
            "(ARRAY['ai', 'human', 'resolved', 'waiting_for_agent'])[1 + c.id % 4], "
            "'[]', 0, 0, 'normal', now() - (c.id || ' minutes')::interval "
            "FROM contact c WHERE c.business_id = :b AND c.name LIKE 'Bulk %'"
        ),
        {"b": team.business.id, "wa": wa},
    )
    db.execute(sa.text("ANALYZE conversation"))
    statements: list[tuple[str, dict]] = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        if "ORDER BY coalesce(conversation.last_message_at" in statement:
            statements.append((statement, parameters))

    engine = db.get_bind().engine
    event.listen(engine, "before_cursor_execute", remember)
    try:
        page = inbox.list_conversations(db, actor=team.agent, limit=50)
        inbox.list_conversations(db, actor=team.agent, status="human", limit=50)
        inbox.list_conversations(db, actor=team.agent, assignee="me", limit=50)
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    assert len(page.rows) == 50
    plans = [
        "\n".join(row[0] for row in db.connection().exec_driver_sql("EXPLAIN " + sql, params))
        for sql, params in statements
    ]
    assert "ix_conversation_inbox " in plans[0]
    assert "ix_conversation_inbox_status" in plans[1]
    assert "ix_conversation_inbox_assignee" in plans[2]
    for plan in plans:
        assert "Sort" not in plan, plan


def test_an_agent_online_sees_assigned_waiting_rows_with_their_name(db):
    team = make_team(db, agents=1)
    set_presence(db, team.agent, "online")
    conv = conversation(db, team.business)
    hand_over(db, conv)
    handoff.route_handoff(db, conversation=conv, now=T0)
    [row] = inbox.list_conversations(db, actor=team.agent, assignee="me").rows
    assert (row.assignee_name, row.handoff_reason, row.waiting_since) == (
        "Agent 1",
        "low_confidence",
        T0,
    )
