"""The getting-started checklist: each step read from real state, per business only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlmodel import select

from backend.ai import rules_admin
from backend.auth import members
from backend.auth.permissions import PermissionDenied
from backend.core.db import session_scope
from backend.models import Notification, Role
from backend.models.onboarding import OnboardingProgress
from backend.models.payments import PaymentProviderSetting
from backend.onboarding import repository as repo
from backend.onboarding import service as onboarding
from backend.onboarding.service import OnboardingError
from backend.tenants import service as tenants
from tests.factories import (
    actor_for,
    make_channel,
    make_conversation,
    make_knowledge_source,
    make_user,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def done_keys(session, actor) -> list[str]:
    return [s.key for s in onboarding.checklist(session, actor=actor).steps if s.done]


def save_profile(session, actor) -> None:
    tenants.update_profile(session, actor=actor, name="Mama's Bakery", timezone="Africa/Nairobi",
                           default_language="en", currency="KES")  # fmt: skip


def enable_payments(session, business_id: int, *, enabled: bool = True) -> None:
    session.add(PaymentProviderSetting(business_id=business_id, kind="stripe", is_enabled=enabled))
    session.flush()


def test_a_new_business_has_seven_steps_in_order_none_done(db):
    actor, _ = actor_for(db)
    checklist = onboarding.checklist(db, actor=actor)
    assert [s.key for s in checklist.steps] == [
        "profile", "channel", "knowledge", "ai_rules", "test_conversation", "team", "payments",
    ]  # fmt: skip
    assert (checklist.done_count, checklist.total) == (0, 7)
    assert checklist.next_step.key == "profile"
    assert checklist.next_step.route == "/settings"
    assert all(s.title and s.why and s.route.startswith("/") for s in checklist.steps)
    assert checklist.nudging
    assert (checklist.dismissed, checklist.completed) == (False, False)


def test_saving_the_profile_completes_the_profile_step_once(db):
    actor, business = actor_for(db)
    save_profile(db, actor)
    save_profile(db, actor)
    assert done_keys(db, actor) == ["profile"]
    stored = db.exec(
        select(OnboardingProgress).where(OnboardingProgress.business_id == business.id)
    ).one()
    assert stored.completed_steps == ["profile"]  # recorded once, however often saved


def test_only_an_enabled_channel_counts(db):
    actor, business = actor_for(db)
    channel = make_channel(db, business=business)
    channel.is_enabled = False
    db.add(channel)
    db.flush()
    assert "channel" not in done_keys(db, actor)
    channel.is_enabled = True
    db.add(channel)
    db.flush()
    assert "channel" in done_keys(db, actor)


def test_only_ready_knowledge_counts(db):
    actor, business = actor_for(db)
    source = make_knowledge_source(db, business=business)
    assert "knowledge" not in done_keys(db, actor)  # still being embedded
    source.status = "failed"
    db.add(source)
    db.flush()
    assert "knowledge" not in done_keys(db, actor)
    source.status = "ready"
    db.add(source)
    db.flush()
    assert "knowledge" in done_keys(db, actor)


def test_saving_ai_rules_and_trying_them_complete_two_steps(db):
    actor, _ = actor_for(db)
    rules_admin.save_rules(db, actor=actor, fields={"persona_name": "Amani"})
    assert done_keys(db, actor) == ["ai_rules"]
    rules_admin.try_message(db, actor=actor, text="Do you deliver?", history=[])
    assert done_keys(db, actor) == ["ai_rules", "test_conversation"]


def test_a_real_conversation_also_counts_as_the_test_conversation(db):
    actor, business = actor_for(db)
    make_conversation(db, business=business)
    assert done_keys(db, actor) == ["test_conversation"]


def test_an_invitation_or_a_second_member_completes_the_team_step(db):
    actor, business = actor_for(db)
    view = members.invite_member(db, actor=actor, email="amina@example.com", role="agent")
    assert "team" in done_keys(db, actor)
    members.revoke_invitation(db, actor=actor, invitation_id=view.id)
    assert "team" not in done_keys(db, actor)  # a revoked invitation invites nobody
    make_user(db, business=business, role=Role.AGENT)
    assert "team" in done_keys(db, actor)


def test_only_an_enabled_payment_provider_counts(db):
    actor, business = actor_for(db)
    enable_payments(db, business.id, enabled=False)  # saved but its connection not tested
    assert "payments" not in done_keys(db, actor)
    db.execute(sa.update(PaymentProviderSetting).values(is_enabled=True))
    assert "payments" in done_keys(db, actor)


def test_another_business_never_completes_my_steps(db):
    actor, _mine = actor_for(db)
    other_actor, other = actor_for(db)
    make_channel(db, business=other)
    source = make_knowledge_source(db, business=other)
    source.status = "ready"
    db.add(source)
    make_conversation(db, business=other)
    make_user(db, business=other, role=Role.AGENT)
    enable_payments(db, other.id)
    save_profile(db, other_actor)
    rules_admin.save_rules(db, actor=other_actor, fields={"persona_name": "Zed"})
    assert len(done_keys(db, other_actor)) == 7
    assert done_keys(db, actor) == []


def test_the_checklist_is_one_statement(db):
    actor, _ = actor_for(db)
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    engine = db.get_bind().engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        onboarding.checklist(db, actor=actor)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1


def test_dismiss_and_show_again(db):
    actor, _ = actor_for(db)
    onboarding.dismiss(db, actor=actor, now=NOW)
    checklist = onboarding.checklist(db, actor=actor)
    assert (checklist.dismissed, checklist.nudging) == (True, False)
    onboarding.show_again(db, actor=actor)
    assert onboarding.checklist(db, actor=actor).nudging


def test_agents_cannot_read_or_dismiss_the_checklist(db):
    _owner, business = actor_for(db)
    agent, _ = actor_for(db, role=Role.AGENT, business=business)
    with pytest.raises(PermissionDenied):
        onboarding.checklist(db, actor=agent)
    with pytest.raises(PermissionDenied):
        onboarding.dismiss(db, actor=agent)


def test_an_unknown_step_is_refused_with_the_known_ones(db):
    _actor, business = actor_for(db)
    with pytest.raises(OnboardingError, match="use one of profile, ai_rules, test_conversation"):
        onboarding.record_step(db, business_id=business.id, step="cake")


def complete_everything(session, actor, business) -> None:
    save_profile(session, actor)
    make_channel(session, business=business)
    source = make_knowledge_source(session, business=business)
    source.status = "ready"
    session.add(source)
    rules_admin.save_rules(session, actor=actor, fields={"persona_name": "Amani"})
    make_conversation(session, business=business)
    make_user(session, business=business, role=Role.AGENT)


@pytest.mark.usefixtures("committed")
def test_completing_every_step_records_it_and_tells_the_owners_once():
    with session_scope() as session:
        actor, business = actor_for(session)
        complete_everything(session, actor, business)
        checklist = onboarding.checklist(session, actor=actor)
        assert (checklist.done_count, checklist.next_step.key) == (6, "payments")
        assert checklist.nudging
    with session_scope() as session:
        enable_payments(session, business.id)
        checklist = onboarding.checklist(session, actor=actor, now=NOW)
        assert (checklist.done_count, checklist.completed, checklist.next_step) == (7, True, None)
        assert not checklist.nudging
    with session_scope() as session:
        onboarding.checklist(session, actor=actor)  # read again: no second notification
        assert repo.setup_facts(session, business_id=business.id).completed_at == NOW
        rows = session.exec(
            select(Notification).where(Notification.business_id == business.id)
        ).all()
    # The owner only: the agent is not told the setup is done.
    assert [(n.user_id, n.kind, n.title) for n in rows] == [
        (actor.user_id, "setup_complete", "All set: your business is ready")
    ]
