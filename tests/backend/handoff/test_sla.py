"""SLA: deadlines in business time, warnings, breaches and their escalation, with time travel."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from backend.auth.permissions import PermissionDenied
from backend.core.db import session_scope
from backend.handoff import service as handoff
from backend.handoff import sla, tasks
from backend.handoff.schemas import HandoffError
from backend.inbox import service as inbox
from backend.models import AIRule, Conversation, Message, Notification
from tests.backend.inbox.helpers import (
    T0,
    conversation,
    customer_says,
    hand_over,
    make_team,
    minutes,
    policy,
    set_presence,
)

WEEKDAYS_9_TO_5 = {
    "timezone": "Africa/Nairobi",  # UTC+3, no daylight saving
    "days": {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
}


def nairobi(day: int, hour: int, minute: int = 0) -> datetime:
    """March 2026 in Nairobi (the 2nd is a Monday), as UTC."""
    return datetime(2026, 3, day, hour - 3, minute, tzinfo=UTC)


def notes(db, kind: str) -> list[Notification]:
    return list(
        db.exec(select(Notification).where(Notification.kind == kind).order_by(Notification.id))
    )


# --- the clock ------------------------------------------------------------------------------


def test_business_minutes_skip_nights_and_weekends():
    def due(start, mins):
        return sla.add_minutes(start, mins, hours=WEEKDAYS_9_TO_5, timezone="UTC")

    assert due(nairobi(2, 10), 30) == nairobi(2, 10, 30)
    assert due(nairobi(2, 16, 50), 30) == nairobi(3, 9, 20)  # Monday evening -> Tuesday
    assert due(nairobi(6, 16, 50), 30) == nairobi(9, 9, 20)  # Friday evening -> Monday
    assert due(nairobi(7, 12), 0) == nairobi(9, 9)  # Saturday: the clock starts Monday
    assert due(nairobi(2, 10), 8 * 60) == nairobi(3, 10)  # a full working day later
    assert sla.add_minutes(nairobi(7, 12), 30, hours={}, timezone="UTC") == nairobi(7, 12, 30)
    closed = {"days": {"mon": []}}
    assert sla.add_minutes(T0, 30, hours=closed, timezone="UTC") is None
    assert sla.is_open(WEEKDAYS_9_TO_5, "UTC", nairobi(2, 9))
    assert not sla.is_open(WEEKDAYS_9_TO_5, "UTC", nairobi(2, 17))
    assert not sla.is_open(WEEKDAYS_9_TO_5, "UTC", nairobi(7, 12))
    late = {"days": {"fri": [["22:00", "24:00"]], "sat": [["00:00", "02:00"]]}}
    assert sla.add_minutes(
        datetime(2026, 3, 6, 23, 0, tzinfo=UTC), 120, hours=late, timezone="UTC"
    ) == datetime(2026, 3, 7, 1, 0, tzinfo=UTC)


# --- warnings, breaches, escalation -----------------------------------------------------------


def test_first_response_warns_then_breaches_and_escalates_once(db):
    team = make_team(db, agents=1)
    standard = policy(
        db,
        team.business,
        first_response_minutes=10,
        warn_before_minutes=3,
        business_hours_only=False,
    )
    conv = conversation(db, team.business)
    hand_over(db, conv, at=T0)
    handoff.route_handoff(db, conversation=conv, now=T0)  # nobody online: stays unassigned
    business = team.business.id

    run = handoff.check_sla(db, business_id=business, now=T0 + minutes(6))
    assert (run.warned, run.breached) == (0, 0)
    [row] = inbox.list_conversations(db, actor=team.agent, now=T0 + minutes(6)).rows
    assert (row.sla_state, row.sla_metric, row.sla_seconds_left) == ("ok", "first_response", 240)
    assert row.sla_due_at == T0 + minutes(10)

    run = handoff.check_sla(db, business_id=business, now=T0 + minutes(8))
    assert (run.warned, run.breached) == (1, 0)
    # Unassigned: everyone who can reply is warned.
    assert {n.user_id for n in notes(db, "sla_about_to_breach")} == {
        team.owner.user_id,
        team.agent.user_id,
    }

    run = handoff.check_sla(db, business_id=business, now=T0 + minutes(11))
    assert (run.warned, run.breached) == (0, 1)
    db.refresh(conv)
    assert conv.priority == "high"  # the policy raises priority one step
    [breach] = notes(db, "sla_breached")  # the owner (escalate_notify_owner)
    assert breach.user_id == team.owner.user_id
    assert "first response" in breach.title
    assert standard.escalate_notify_owner

    # Idempotent: later runs (or a second worker) do nothing more.
    for later in (12, 13, 60):
        run = handoff.check_sla(db, business_id=business, now=T0 + minutes(later))
        assert (run.warned, run.breached) == (0, 0)
    assert len(notes(db, "sla_breached")) == 1
    db.refresh(conv)
    assert conv.priority == "high"
    [row] = inbox.list_conversations(db, actor=team.agent, now=T0 + minutes(20)).rows
    assert (row.sla_state, row.sla_seconds_left) == ("breached", -600)


def test_a_reply_meets_the_first_response_and_starts_the_next_response_clock(db):
    team = make_team(db, agents=1)
    policy(
        db,
        team.business,
        first_response_minutes=10,
        next_response_minutes=5,
        resolution_minutes=240,
        warn_before_minutes=1,
        business_hours_only=False,
    )
    conv = conversation(db, team.business)
    hand_over(db, conv, at=T0)
    handoff.route_handoff(db, conversation=conv, now=T0)
    inbox.reply(
        db, actor=team.agent, conversation_id=conv.id, text="Hi, I'm here.", now=T0 + minutes(4)
    )
    run = handoff.check_sla(db, business_id=team.business.id, now=T0 + minutes(30))
    assert (run.warned, run.breached) == (0, 0)  # answered in time; resolution far off
    [row] = inbox.list_conversations(db, actor=team.agent, now=T0 + minutes(30)).rows
    assert (row.sla_metric, row.sla_due_at) == ("resolution", T0 + minutes(240))

    customer_says(db, conv, "Are you still there?", T0 + minutes(40))
    customer_says(db, conv, "Hello??", T0 + minutes(42))
    [row] = inbox.list_conversations(db, actor=team.agent, now=T0 + minutes(43)).rows
    # The next-response clock starts at the first unanswered message.
    assert (row.sla_metric, row.sla_due_at) == ("next_response", T0 + minutes(45))
    run = handoff.check_sla(db, business_id=team.business.id, now=T0 + minutes(46))
    assert run.breached == 1
    breaches = notes(db, "sla_breached")
    assert all("next response" in n.title for n in breaches)
    # Assigned: the agent is told, and the owner as the policy says.
    assert {n.user_id for n in breaches} == {team.owner.user_id, team.agent.user_id}

    inbox.reply(db, actor=team.agent, conversation_id=conv.id, text="Sorry!", now=T0 + minutes(47))
    customer_says(db, conv, "One more thing", T0 + minutes(50))
    run = handoff.check_sla(db, business_id=team.business.id, now=T0 + minutes(56))
    assert run.breached == 1  # a new wait is a new promise, escalated on its own


def test_a_reply_sent_from_the_business_phone_counts_too(db):
    team = make_team(db, agents=1)
    policy(db, team.business, first_response_minutes=10, business_hours_only=False)
    conv = conversation(db, team.business)
    hand_over(db, conv, at=T0)
    handoff.route_handoff(db, conversation=conv, now=T0)
    echo = Message(
        business_id=team.business.id,
        conversation_id=conv.id,
        direction="outbound",
        sender_type="agent",
        text="On it!",
        delivery_status="sent",
        created_at=T0 + minutes(3),
    )
    db.add(echo)
    db.flush()
    assert handoff.record_agent_reply(db, business_id=team.business.id, message_id=echo.id)
    assert handoff.check_sla(db, business_id=team.business.id, now=T0 + minutes(20)).breached == 0
    other = make_team(db)
    assert not handoff.record_agent_reply(db, business_id=other.business.id, message_id=echo.id)


def test_business_hours_pause_the_clock_over_the_weekend(db):
    team = make_team(db, agents=1)
    db.add(AIRule(business_id=team.business.id, business_hours=WEEKDAYS_9_TO_5))
    policy(db, team.business, first_response_minutes=30, warn_before_minutes=5)
    conv = conversation(db, team.business)
    friday_evening = nairobi(6, 16, 50)
    hand_over(db, conv, at=friday_evening)
    handoff.route_handoff(db, conversation=conv, now=friday_evening)

    saturday = nairobi(7, 12)
    assert handoff.check_sla(db, business_id=team.business.id, now=saturday).breached == 0
    [row] = inbox.list_conversations(db, actor=team.agent, now=saturday).rows
    assert (row.sla_due_at, row.sla_paused, row.sla_state) == (nairobi(9, 9, 20), True, "ok")
    monday_warning = handoff.check_sla(db, business_id=team.business.id, now=nairobi(9, 9, 16))
    assert (monday_warning.warned, monday_warning.breached) == (1, 0)
    late = handoff.check_sla(db, business_id=team.business.id, now=nairobi(9, 9, 21))
    assert late.breached == 1


def test_a_breach_can_reassign_to_another_online_agent(db):
    team = make_team(db, agents=2)
    first, second = team.agents
    set_presence(db, first, "online")
    policy(
        db,
        team.business,
        first_response_minutes=5,
        escalate_reassign=True,
        escalate_raise_priority=False,
        escalate_notify_owner=False,
        business_hours_only=False,
    )
    conv = conversation(db, team.business)
    hand_over(db, conv, at=T0)
    handoff.route_handoff(db, conversation=conv, now=T0)
    db.refresh(conv)
    assert conv.assignee_user_id == first.user_id
    set_presence(db, second, "online")
    run = handoff.check_sla(db, business_id=team.business.id, now=T0 + minutes(6))
    assert run.breached == 1
    db.refresh(conv)
    assert (conv.assignee_user_id, conv.priority) == (second.user_id, "normal")
    [breach] = notes(db, "sla_breached")
    assert breach.user_id == first.user_id
    assert "Reassigned to Agent 2" in breach.body
    assert [n.user_id for n in notes(db, "assigned_to_me")] == [first.user_id, second.user_id]


def test_no_policy_or_an_inactive_one_times_nothing(db):
    team = make_team(db, agents=1)
    conv = conversation(db, team.business)
    hand_over(db, conv, at=T0)
    handoff.route_handoff(db, conversation=conv, now=T0)
    assert handoff.check_sla(db, business_id=team.business.id, now=T0 + minutes(600)).breached == 0
    late = policy(db, team.business, first_response_minutes=1, is_active=False)
    other = conversation(db, team.business)
    hand_over(db, other, at=T0)
    handoff.route_handoff(db, conversation=other, now=T0)
    assert late.is_active is False
    run = handoff.check_sla(db, business_id=team.business.id, now=T0 + minutes(600))
    assert run.breached == 0
    assert {r.sla_state for r in inbox.list_conversations(db, actor=team.agent).rows} == {"none"}


def test_a_policy_for_a_channel_wins_over_the_general_one(db):
    team = make_team(db, agents=1)
    policy(db, team.business, name="General", first_response_minutes=60)
    handoff.save_sla_policy(
        db,
        actor=team.owner,
        name="WhatsApp",
        first_response_minutes=5,
        applies_to_channels=["whatsapp"],
    )
    conv = conversation(db, team.business)  # on a WhatsApp channel
    hand_over(db, conv, at=T0)
    handoff.route_handoff(db, conversation=conv, now=T0)
    [row] = inbox.list_conversations(db, actor=team.agent, now=T0).rows
    assert row.sla_seconds_left == 300


def test_policies_are_validated_and_managed_by_owners_and_admins(db):
    team = make_team(db, agents=1)
    with pytest.raises(PermissionDenied):
        handoff.save_sla_policy(db, actor=team.agent, name="x", first_response_minutes=5)
    for bad, field in (
        ({"name": "", "first_response_minutes": 5}, "name"),
        ({"name": "x"}, "first_response_minutes"),
        ({"name": "x", "resolution_minutes": 0}, "resolution_minutes"),
        ({"name": "x", "first_response_minutes": "soon"}, "first_response_minutes"),
        (
            {"name": "x", "first_response_minutes": 5, "applies_to_channels": ["fax"]},
            "applies_to_channels",
        ),
    ):
        with pytest.raises(HandoffError) as error:
            handoff.save_sla_policy(db, actor=team.owner, **bad)
        assert error.value.field == field
    saved = handoff.save_sla_policy(
        db, actor=team.owner, name="Standard", first_response_minutes="15", resolution_minutes=480
    )
    assert (saved.first_response_minutes, saved.resolution_minutes) == (15, 480)
    changed = handoff.save_sla_policy(
        db, actor=team.owner, policy_id=saved.id, name="Fast", first_response_minutes=5
    )
    assert [p.name for p in handoff.list_sla_policies(db, actor=team.viewer)] == ["Fast"]
    assert changed.resolution_minutes is None
    other = make_team(db)
    with pytest.raises(handoff.NotFound):
        handoff.delete_sla_policy(db, actor=other.owner, policy_id=saved.id)
    handoff.delete_sla_policy(db, actor=team.owner, policy_id=saved.id)
    assert handoff.list_sla_policies(db, actor=team.owner) == []


def test_the_board_sorts_waiting_assigned_and_breaching(db):
    team = make_team(db, agents=1)
    policy(db, team.business, first_response_minutes=30, business_hours_only=False)
    old, new, mine = (conversation(db, team.business) for _ in range(3))
    hand_over(db, old, at=T0 - minutes(60))
    hand_over(db, new, at=T0 - minutes(5))
    hand_over(db, mine, at=T0 - minutes(10))
    for conv in (old, new, mine):
        handoff.route_handoff(db, conversation=conv, now=T0)
    handoff.assign(db, actor=team.owner, conversation_id=mine.id, user_id=team.agent.user_id)
    conversation(db, team.business, status="ai")
    board = inbox.board(db, actor=team.viewer, now=T0)
    assert [r.id for r in board.breaching] == [old.id]
    assert [r.id for r in board.waiting] == [new.id]
    assert [r.id for r in board.assigned] == [mine.id]
    assert [a.name for a in board.agents] == ["Agent 1", "Olive Owner"]


@pytest.mark.usefixtures("committed")
def test_the_minute_job_checks_every_business_and_a_busy_business_is_skipped():
    with session_scope() as session:
        team = make_team(session, agents=1)
        policy(session, team.business, first_response_minutes=1, business_hours_only=False)
        conv = conversation(session, team.business)
        hand_over(session, conv, at=T0)  # long ago: breached at once
        conversation_id, business_id = conv.id, team.business.id
    # Another worker holds the business's SLA lock: this pass leaves it alone.
    with session_scope() as holder:
        from backend.handoff import repository

        assert repository.try_lock_sla(holder, business_id=business_id)
        with session_scope() as session:
            assert handoff.check_sla(session, business_id=business_id).skipped
    totals = tasks.check_sla()
    assert (totals["businesses"], totals["routed"], totals["breached"]) == (1, 1, 1)
    assert tasks.check_sla()["breached"] == 0
    with session_scope() as session:
        assert session.get(Conversation, conversation_id).priority == "high"
