"""The plan's limits where they bite: a new conversation over the month's allowance is kept and
handed to a person (the owner told once), a third member or a second channel is refused."""

from __future__ import annotations

import dataclasses

import pytest
from sqlmodel import select

from backend.auth import members
from backend.auth.members import MemberError
from backend.auth.permissions import Actor
from backend.billing import plans
from backend.billing import service as billing
from backend.channels.base import MessageIn
from backend.conversations import service as pipeline
from backend.core.db import session_scope
from backend.integrations import service as integrations
from backend.integrations.service import ChannelSetupError
from backend.models import Business, Conversation, Handoff, Message, Notification
from backend.models.tenants import Role
from tests.backend.channels.helpers import CREDENTIALS, make_channel, run_worker
from tests.factories import make_business, make_user

pytestmark = pytest.mark.usefixtures("committed", "stripe_fake")


@pytest.fixture
def tiny_free_plan(monkeypatch):
    """A Free plan of one AI conversation a month, so the test reaches its limit quickly."""
    tiny = dataclasses.replace(plans.FREE, conversations=1)
    monkeypatch.setattr(billing, "FREE", tiny)
    return tiny


def _customer_writes(cfg, sender: str, text: str) -> None:
    with session_scope() as session:
        pipeline.receive(session, cfg=cfg, events_in=[
            MessageIn(external_id=f"m-{sender}", sender_id=sender, text=text)
        ])  # fmt: skip
    run_worker("inbound")


def test_a_conversation_beyond_the_months_allowance_is_kept_and_handed_to_a_person(
    tiny_free_plan,
):
    cfg = make_channel("telegram")
    with session_scope() as session:
        owner_id = make_user(session, business=session.get(Business, cfg.business_id)).id
    _customer_writes(cfg, "first", "What time do you open?")
    _customer_writes(cfg, "second", "Do you deliver?")

    with session_scope() as session:
        first, second = session.exec(
            select(Conversation).where(Conversation.business_id == cfg.business_id)
            .order_by(Conversation.id)
        ).all()  # fmt: skip
        first_senders = session.exec(
            select(Message.sender_type).where(Message.conversation_id == first.id)
        ).all()
        assert "ai" in first_senders  # within the allowance: the AI answered
        reasons = session.exec(
            select(Handoff.reason).where(Handoff.conversation_id == first.id)
        ).all()
        assert "plan_limit" not in reasons
        assert second.status == "waiting_for_agent"
        senders = session.exec(
            select(Message.sender_type).where(Message.conversation_id == second.id)
            .order_by(Message.id)
        ).all()  # fmt: skip
        assert senders == ["customer", "system"]  # kept, told a person comes, no AI answer
        [handoff] = session.exec(select(Handoff).where(Handoff.conversation_id == second.id)).all()
        assert handoff.reason == "plan_limit"
    _customer_writes(cfg, "third", "Hello?")  # the owner is told once a month, not each time
    with session_scope() as session:
        told = session.exec(
            select(Notification).where(
                Notification.business_id == cfg.business_id, Notification.kind == "billing"
            )
        ).all()
    assert [n.user_id for n in told] == [owner_id]
    assert "/billing" in (told[0].link or "")


def test_a_third_member_is_refused_on_the_free_plan_with_the_way_out():
    with session_scope() as session:
        business = make_business(session)
        owner = make_user(session, business=business, role=Role.OWNER)
        make_user(session, business=business, role=Role.AGENT)
        actor = Actor(user_id=owner.id, business_id=business.id, role=Role.OWNER)
    with session_scope() as session, pytest.raises(MemberError) as refused:
        members.invite_member(session, actor=actor, email="third@shop.example", role="agent")
    assert refused.value.field == "email"
    assert "Pro" in str(refused.value)


def test_a_second_channel_is_refused_on_the_free_plan_but_the_widget_is_free():
    cfg = make_channel("telegram")
    with session_scope() as session, pytest.raises(ChannelSetupError) as refused:
        integrations.add_channel(
            session, business_id=cfg.business_id, kind="whatsapp", config=CREDENTIALS["whatsapp"]
        )
    assert "channel" in str(refused.value).lower()


def test_the_demo_business_is_not_held_back_by_plan_limits():
    from backend.demo import seed_demo

    with session_scope() as session:
        seed = seed_demo(session)
    with session_scope() as session:
        plan = billing.current_plan(session, business_id=seed.business_id)
    assert plan.key == "business"
