"""The team: invitations by emailed link, role changes and removals that end sessions at once."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlmodel import select

from backend.auth import members
from backend.auth import service as auth
from backend.auth.permissions import Actor, PermissionDenied
from backend.core.config import settings
from backend.core.db import session_scope
from backend.models import AuditLog, Invitation, Role, User
from tests.backend.inbox.helpers import run_worker
from tests.factories import PASSWORD, actor_for, make_business, make_user
from tests.fakes.smtp_server import FakeSMTP

GOOD = "lantern orbit cactus 42"


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSMTP]:
    with FakeSMTP() as server:
        monkeypatch.setattr(settings, "smtp_host", server.host)
        monkeypatch.setattr(settings, "smtp_port", server.port)
        monkeypatch.setattr(settings, "smtp_security", "none")
        yield server


def _session_of(db, user) -> str:
    ticket = auth.authenticate(db, email=user.email, password=PASSWORD)
    return auth.start_session(db, ticket=ticket, ip_address="192.0.2.1", user_agent="x")


def _actor(user, business, role) -> Actor:
    return Actor(user_id=user.id, business_id=business.id, role=role)


@pytest.mark.usefixtures("committed")
def test_an_invited_person_joins_by_the_emailed_link_verified(smtp):
    with session_scope() as session:
        owner, business = actor_for(session)
        members.invite_member(session, actor=owner, email="Zawadi@Example.com", role="agent",
                              ip="192.0.2.3")  # fmt: skip
    run_worker("default")
    [email] = smtp.messages
    assert email.message["To"] == "Zawadi@example.com"
    token = re.search(r"/invite\?token=(\S+)", email.text).group(1)
    with session_scope() as session:
        details = members.invitation_details(session, token=token)
        assert (details.business_name, details.role, details.has_account) == (
            business.name, "agent", False,
        )  # fmt: skip
        with pytest.raises(members.MemberError, match="name"):
            members.accept_invitation(session, token=token, name=" ", password=GOOD)
    with session_scope() as session:
        ticket = members.accept_invitation(session, token=token, name="Zawadi", password=GOOD)
    with session_scope() as session:
        user = session.get(User, ticket.user_id)
        assert user.email_verified_at is not None
        assert auth.membership_role(session, business_id=business.id, user_id=user.id) == "agent"
        with pytest.raises(members.MemberError, match="already accepted"):
            members.invitation_details(session, token=token)
        actions = session.exec(
            select(AuditLog.action).where(AuditLog.business_id == business.id)
        ).all()
    assert {"member.invited", "member.joined"} <= set(actions)


def test_an_existing_account_accepts_with_its_password(db):
    owner, business = actor_for(db)
    someone = make_user(db)
    members.invite_member(db, actor=owner, email=someone.email, role="viewer")
    row = db.exec(select(Invitation).where(Invitation.business_id == business.id)).one()
    token = "t0ken"
    from backend.core.crypto import hash_token

    row.token_hash = hash_token(token)
    db.add(row)
    with pytest.raises(auth.InvalidCredentials):
        members.accept_invitation(db, token=token, name="", password="wrong")
    ticket = members.accept_invitation(db, token=token, name="", password=PASSWORD)
    assert ticket.user_id == someone.id
    assert auth.membership_role(db, business_id=business.id, user_id=someone.id) == "viewer"


def test_invitation_rules(db):
    owner, business = actor_for(db)
    admin = make_user(db, business=business, role=Role.ADMIN)
    agent = make_user(db, business=business, role=Role.AGENT)
    with pytest.raises(members.MemberError, match="Only an owner"):
        members.invite_member(db, actor=_actor(admin, business, Role.ADMIN),
                              email="x@example.com", role="owner")  # fmt: skip
    with pytest.raises(PermissionDenied):
        members.invite_member(db, actor=_actor(agent, business, Role.AGENT),
                              email="x@example.com", role="viewer")  # fmt: skip
    with pytest.raises(members.MemberError, match="already a member"):
        members.invite_member(db, actor=owner, email=agent.email, role="viewer")
    with pytest.raises(members.MemberError, match="Unknown role"):
        members.invite_member(db, actor=owner, email="x@example.com", role="boss")
    first = members.invite_member(db, actor=owner, email="x@example.com", role="viewer")
    second = members.invite_member(db, actor=owner, email="x@example.com", role="agent")
    assert [i.id for i in members.list_invitations(db, actor=owner)] == [second.id]
    members.revoke_invitation(db, actor=owner, invitation_id=second.id)
    assert members.list_invitations(db, actor=owner) == []
    assert first.id != second.id
    # Another business's owner cannot touch these.
    stranger, _ = actor_for(db)
    with pytest.raises(members.MemberError, match="No invitation"):
        members.revoke_invitation(db, actor=stranger, invitation_id=first.id)


def test_a_role_change_ends_that_members_sessions_in_the_business(db):
    owner, business = actor_for(db)
    agent = make_user(db, business=business, role=Role.AGENT)
    token = _session_of(db, agent)
    assert auth.resolve_session(db, token=token).role == Role.AGENT
    assert (
        members.change_role(db, actor=owner, user_id=agent.id, role="viewer", ip="192.0.2.8") == 1
    )
    assert auth.resolve_session(db, token=token) is None
    assert auth.membership_role(db, business_id=business.id, user_id=agent.id) == Role.VIEWER
    assert auth.resolve_session(db, token=_session_of(db, agent)).role == Role.VIEWER
    entry = db.exec(select(AuditLog).where(AuditLog.action == "member.role_changed")).one()
    assert (entry.details["from"], entry.details["to"]) == ("agent", "viewer")
    assert (entry.business_id, entry.target_id, entry.ip_address) == (
        business.id, str(agent.id), "192.0.2.8",
    )  # fmt: skip


def test_removal_ends_sessions_and_membership(db):
    owner, business = actor_for(db)
    agent = make_user(db, business=business, role=Role.AGENT)
    token = _session_of(db, agent)
    assert members.remove_member(db, actor=owner, user_id=agent.id) == 1
    assert auth.resolve_session(db, token=token) is None
    assert auth.membership_role(db, business_id=business.id, user_id=agent.id) is None
    assert db.exec(select(AuditLog).where(AuditLog.action == "member.removed")).one()


def test_owners_are_protected(db):
    owner, business = actor_for(db)
    admin = make_user(db, business=business, role=Role.ADMIN)
    as_admin = _actor(admin, business, Role.ADMIN)
    with pytest.raises(members.MemberError, match="needs an owner"):
        members.change_role(db, actor=owner, user_id=owner.user_id, role="admin")
    with pytest.raises(members.MemberError, match="needs an owner"):
        members.remove_member(db, actor=owner, user_id=owner.user_id)
    with pytest.raises(members.MemberError, match="Only an owner"):
        members.remove_member(db, actor=as_admin, user_id=owner.user_id)
    other_business = make_business(db)
    outsider = make_user(db, business=other_business, role=Role.AGENT)
    with pytest.raises(members.MemberError, match="No member"):
        members.change_role(db, actor=owner, user_id=outsider.id, role="viewer")
    with pytest.raises(members.MemberError, match="No member"):
        members.remove_member(db, actor=owner, user_id=outsider.id)
    assert auth.membership_role(db, business_id=other_business.id, user_id=outsider.id) == "agent"
