"""Assignment: round-robin among online agents with room, manual assignment, presence, and two
handoffs at once on the real PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlmodel import select

from backend.auth.permissions import PermissionDenied
from backend.channels import registry
from backend.channels.base import MessageIn
from backend.channels.service import create_integration, to_config
from backend.conversations import service as pipeline
from backend.core.db import session_scope
from backend.core.queue import get_queue
from backend.handoff import service as handoff
from backend.handoff import tasks
from backend.handoff.schemas import HandoffError
from backend.models import Assignment, Conversation, Handoff, Notification
from tests.backend.inbox.helpers import (
    T0,
    conversation,
    hand_over,
    make_team,
    member,
    minutes,
    run_worker,
    set_presence,
)
from tests.fakes.channel import RecordingChannel


def waiting(db, team, n: int, *, at=T0):
    convs = [conversation(db, team.business, at=at + minutes(i)) for i in range(n)]
    for conv in convs:
        hand_over(db, conv, at=at)
    return convs


def assignees(db, convs) -> list[int | None]:
    for conv in convs:
        db.refresh(conv)
    return [conv.assignee_user_id for conv in convs]


def test_round_robin_takes_turns_among_online_agents(db):
    team = make_team(db, agents=3)
    for agent in team.agents:
        set_presence(db, agent, "online")
    convs = waiting(db, team, 6)
    for i, conv in enumerate(convs):
        handoff.route_handoff(db, conversation=conv, now=T0 + minutes(i))
    got = assignees(db, convs)
    a, b, c = (agent.user_id for agent in team.agents)
    assert got == [a, b, c, a, b, c]
    assert {x.method for x in db.exec(select(Assignment)).all()} == {"round_robin"}
    # Each assignee was told; the owner and viewer were not given work.
    told = db.exec(select(Notification).where(Notification.kind == "assigned_to_me")).all()
    assert Counter(n.user_id for n in told) == {a: 2, b: 2, c: 2}


def test_capacity_and_presence_decide_who_gets_work(db):
    team = make_team(db, agents=3)
    first, second, away = team.agents
    set_presence(db, first, "online", capacity=1)
    set_presence(db, second, "online", capacity=2)
    set_presence(db, away, "away", capacity=10)
    convs = waiting(db, team, 4)
    for conv in convs:
        handoff.route_handoff(db, conversation=conv, now=T0)
    got = assignees(db, convs)
    assert Counter(got) == {first.user_id: 1, second.user_id: 2, None: 1}
    # The one left waits until someone has room: resolving frees a slot.
    mine = next(c for c in convs if c.assignee_user_id == first.user_id)
    handoff.resolve(db, actor=first, conversation_id=mine.id)
    assert handoff.assign_waiting(db, business_id=team.business.id, now=T0 + minutes(5)) == 1
    assert None not in assignees(db, [c for c in convs if c.id != mine.id])


def test_a_resolved_conversation_does_not_count_against_capacity(db):
    team = make_team(db, agents=1)
    set_presence(db, team.agent, "online", capacity=1)
    conversation(db, team.business, status="resolved", assignee=team.agent)
    [conv] = waiting(db, team, 1)
    handoff.route_handoff(db, conversation=conv, now=T0)
    assert assignees(db, [conv]) == [team.agent.user_id]


def test_going_online_picks_up_conversations_that_waited(db):
    team = make_team(db, agents=1)
    convs = waiting(db, team, 2)
    for conv in convs:
        handoff.route_handoff(db, conversation=conv, now=T0)
    assert assignees(db, convs) == [None, None]
    view = handoff.set_availability(db, actor=team.agent, availability="online")
    assert view.availability == "online"
    assert handoff.assign_waiting(db, business_id=team.business.id, now=T0) == 2
    assert assignees(db, convs) == [team.agent.user_id] * 2
    [view] = [a for a in handoff.list_agents(db, actor=team.viewer) if a.user_id == view.user_id]
    assert (view.open_conversations, view.capacity, view.has_capacity) == (2, 10, True)
    with pytest.raises(PermissionDenied):
        handoff.set_availability(db, actor=team.viewer, availability="online")
    with pytest.raises(HandoffError) as bad:
        handoff.set_availability(db, actor=team.agent, availability="busy")
    assert bad.value.field == "availability"


def test_capacity_is_set_by_owners_and_admins(db):
    team = make_team(db, agents=1)
    view = handoff.set_capacity(
        db, actor=team.owner, user_id=team.agent.user_id, max_open_conversations=3
    )
    assert view.capacity == 3
    with pytest.raises(PermissionDenied):
        handoff.set_capacity(
            db, actor=team.agent, user_id=team.agent.user_id, max_open_conversations=30
        )
    with pytest.raises(HandoffError) as bad:
        handoff.set_capacity(
            db, actor=team.owner, user_id=team.agent.user_id, max_open_conversations=-1
        )
    assert bad.value.field == "max_open_conversations"


def test_manual_assignment_tells_the_assignee_and_refuses_viewers(db):
    team = make_team(db, agents=2)
    [conv] = waiting(db, team, 1)
    state = handoff.assign(
        db, actor=team.owner, conversation_id=conv.id, user_id=team.agents[1].user_id
    )
    assert (state.assignee_name, state.status) == ("Agent 2", "waiting_for_agent")
    [told] = db.exec(select(Notification).where(Notification.kind == "assigned_to_me")).all()
    assert (told.user_id, told.data) == (team.agents[1].user_id, {"conversation_id": conv.id})
    assert "Assigned by Olive Owner" in told.body
    with pytest.raises(HandoffError) as viewer:
        handoff.assign(db, actor=team.owner, conversation_id=conv.id, user_id=team.viewer.user_id)
    assert viewer.value.field == "assignee"
    assert (
        handoff.assign(db, actor=team.owner, conversation_id=conv.id, user_id=None).assignee_user_id
        is None
    )
    periods = db.exec(select(Assignment).order_by(Assignment.id)).all()
    assert [p.unassigned_at is not None for p in periods] == [True]


def test_an_inactive_member_gets_no_work(db):
    team = make_team(db, agents=1)
    set_presence(db, team.agent, "online")
    extra = member(db, team.business, "agent", "Gone Agent")
    set_presence(db, extra, "online")
    from backend.models import User

    user = db.get(User, extra.user_id)
    user.is_active = False
    db.add(user)
    convs = waiting(db, team, 2)
    for conv in convs:
        handoff.route_handoff(db, conversation=conv, now=T0)
    assert assignees(db, convs) == [team.agent.user_id] * 2


@pytest.mark.usefixtures("committed")
def test_two_handoffs_at_once_never_overfill_an_agent():
    with session_scope() as session:
        team = make_team(session, agents=2)
        set_presence(session, team.agents[0], "online", capacity=1)
        set_presence(session, team.agents[1], "online", capacity=1)
        convs = waiting(session, team, 6)
        ids = [c.id for c in convs]
    barrier = threading.Barrier(len(ids))
    errors: list[BaseException] = []

    def route(conversation_id: int) -> None:
        try:
            barrier.wait(timeout=10)
            tasks.route_handoff(conversation_id)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=route, args=(cid,)) for cid in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with session_scope() as session:
        rows = session.exec(select(Conversation).where(Conversation.id.in_(ids))).all()
        load = Counter(c.assignee_user_id for c in rows)
        routed = session.exec(select(Handoff).where(Handoff.routed_at.is_not(None))).all()
    assert load == {team.agents[0].user_id: 1, team.agents[1].user_id: 1, None: 4}
    assert len(routed) == 6


@pytest.mark.usefixtures("committed")
def test_the_ai_handing_over_routes_the_conversation_through_the_listener():
    registry.register(RecordingChannel())
    with session_scope() as session:
        team = make_team(session, agents=1)
        set_presence(session, team.agent, "online")
        integration = create_integration(
            session, business_id=team.business.id, kind="test", name="Test", credentials={"k": "v"}
        )
        cfg = to_config(integration)
    with session_scope() as session:
        pipeline.receive(
            session,
            cfg=cfg,
            events_in=[
                MessageIn(external_id="m1", sender_id="cust-1", text="I want to talk to a human")
            ],
        )
    run_worker("inbound")
    assert get_queue("default").count == 1  # the listener queued the routing job
    run_worker("default", "outbound")
    with session_scope() as session:
        [conv] = session.exec(select(Conversation)).all()
        [routed] = session.exec(select(Handoff)).all()
        kinds = Counter(n.kind for n in session.exec(select(Notification)).all())
    assert (conv.status, conv.assignee_user_id) == ("waiting_for_agent", team.agent.user_id)
    assert routed.routed_at is not None
    # Owner and agent hear of the handoff; the agent also that it is theirs.
    assert kinds == {"new_handoff": 2, "assigned_to_me": 1}
    # Routing again (the minute job, a duplicate delivery) changes nothing.
    assert tasks.route_handoff(conv.id) == "already routed"
