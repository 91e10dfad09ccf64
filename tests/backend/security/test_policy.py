"""Business rules owners set: two-factor sign-in for everyone and the IP allowlist (dashboard
gate and /api/v1), on the real PostgreSQL and Redis."""

from __future__ import annotations

from collections.abc import Iterator

import pyotp
import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from backend.api import create_app
from backend.auth.permissions import PermissionDenied
from backend.core.config import settings
from backend.core.db import session_scope
from backend.models import AuditLog, Role, User
from backend.security import policy, two_factor
from backend.security import service as security
from backend.security.service import SecurityError
from tests.factories import actor_for, make_user


def _enable_2fa(db, actor) -> None:
    enrolment = two_factor.start_enrolment(db, user_id=actor.user_id)
    two_factor.confirm_enrolment(db, user_id=actor.user_id, business_id=actor.business_id,
                                 code=pyotp.TOTP(enrolment.secret).now())  # fmt: skip


def test_owners_require_two_factor_for_everyone(db):
    owner, business = actor_for(db)
    admin, _ = actor_for(db, role=Role.ADMIN, business=business)
    agent = make_user(db, business=business, role=Role.AGENT)
    with pytest.raises(PermissionDenied):
        policy.set_two_factor_required(db, actor=admin, required=True)
    with pytest.raises(SecurityError, match="for yourself first"):
        policy.set_two_factor_required(db, actor=owner, required=True)
    _enable_2fa(db, owner)
    policy.set_two_factor_required(db, actor=owner, required=True, ip="192.0.2.1")
    assert policy.must_enrol(db, business_id=business.id, user_id=agent.id) is True
    assert policy.must_enrol(db, business_id=business.id, user_id=owner.user_id) is False
    gate = policy.access_gate(db, business_id=business.id, user_id=agent.id, ip="192.0.2.1")
    assert gate.kind == "two_factor"
    policy.set_two_factor_required(db, actor=owner, required=False)
    assert policy.access_gate(db, business_id=business.id, user_id=agent.id, ip="x") is None
    actions = db.exec(select(AuditLog.action).where(AuditLog.business_id == business.id)).all()
    assert {"2fa.required_on", "2fa.required_off"} <= set(actions)


def test_allowlist_entries_are_validated_ipv4_and_ipv6(db):
    owner, business = actor_for(db)
    with pytest.raises(SecurityError, match=r"'10\.0\.0\.300' is not an address range"):
        policy.set_allowlist(db, actor=owner, entries="10.0.0.300", current_ip="10.0.0.1")
    saved = policy.set_allowlist(
        db, actor=owner, entries="203.0.113.0/24\n2001:db8::/32, 198.51.100.7",
        current_ip="2001:db8::5",
    )  # fmt: skip
    assert saved == ["203.0.113.0/24", "2001:db8::/32", "198.51.100.7/32"]
    assert policy.list_allowlist(db, actor=owner) == saved
    allowed = {
        ip: policy.ip_allowed(db, business_id=business.id, ip=ip)
        for ip in ["203.0.113.9", "::ffff:203.0.113.9", "2001:db8:1::1", "198.51.100.8", "junk"]
    }
    assert allowed == {
        "203.0.113.9": True, "::ffff:203.0.113.9": True, "2001:db8:1::1": True,
        "198.51.100.8": False, "junk": False,
    }  # fmt: skip
    entry = db.exec(select(AuditLog).where(AuditLog.action == "allowlist.changed")).one()
    assert entry.details == {"before": [], "after": saved}


def test_an_owner_cannot_lock_themselves_out(db):
    owner, business = actor_for(db)
    with pytest.raises(SecurityError, match=r"address you are using now \(192.0.2.44\)"):
        policy.set_allowlist(db, actor=owner, entries="203.0.113.0/24", current_ip="192.0.2.44")
    assert policy.list_allowlist(db, actor=owner) == []
    # An empty list allows every address again.
    policy.set_allowlist(db, actor=owner, entries="192.0.2.0/24", current_ip="192.0.2.44")
    assert policy.set_allowlist(db, actor=owner, entries="", current_ip="10.1.1.1") == []
    assert policy.ip_allowed(db, business_id=business.id, ip="10.1.1.1") is True
    admin, _ = actor_for(db, role=Role.ADMIN, business=business)
    with pytest.raises(PermissionDenied):
        policy.set_allowlist(db, actor=admin, entries="", current_ip="10.1.1.1")


def test_refused_dashboard_access_names_the_address_and_business_and_is_audited_once(db):
    owner, business = actor_for(db)
    policy.set_allowlist(db, actor=owner, entries="192.0.2.0/24", current_ip="192.0.2.1")
    for _ in range(3):
        gate = policy.access_gate(db, business_id=business.id, user_id=owner.user_id,
                                  ip="198.51.100.20")  # fmt: skip
    assert gate.kind == "ip"
    assert gate.message.startswith(
        f"Your IP address 198.51.100.20 is not allowed for business {business.name}."
    )
    refused = db.exec(select(AuditLog).where(AuditLog.action == "ip.refused")).all()
    assert [(r.ip_address, r.details["via"]) for r in refused] == [("198.51.100.20", "dashboard")]
    assert policy.access_gate(db, business_id=business.id, user_id=owner.user_id,
                              ip="192.0.2.9") is None  # fmt: skip


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setattr(settings, "trusted_proxy_hops", 1)
    with TestClient(create_app()) as c:
        yield c


@pytest.mark.usefixtures("committed")
def test_the_api_answers_403_from_addresses_outside_the_allowlist(client):
    with session_scope() as session:
        owner, business = actor_for(session)
        key = security.create_api_key(session, actor=owner, name="erp", scopes="contacts:read")
        policy.set_allowlist(session, actor=owner, entries="192.0.2.0/24", current_ip="192.0.2.1")
    headers = {"Authorization": f"Bearer {key.key}"}
    inside = client.get("/api/v1/contacts", headers={**headers, "X-Forwarded-For": "192.0.2.7"})
    assert inside.status_code == 200
    outside = client.get("/api/v1/contacts", headers={**headers, "X-Forwarded-For": "203.0.113.5"})
    assert outside.status_code == 403
    assert outside.json() == {
        "error": f"Your IP address 203.0.113.5 is not allowed for business {business.name}. "
        "Ask an owner to add it to the IP allowlist on the Security page.",
        "code": "ip_not_allowed",
    }
    with session_scope() as session:
        refused = session.exec(select(AuditLog).where(AuditLog.action == "ip.refused")).one()
        assert (refused.business_id, refused.actor_api_key_id, refused.ip_address) == (
            business.id, key.id, "203.0.113.5",
        )  # fmt: skip


def test_turning_two_factor_on_ends_my_other_sessions(db):
    from backend.auth import service as auth
    from tests.factories import PASSWORD

    owner, _ = actor_for(db)
    user = db.get(User, owner.user_id)
    tokens = []
    for _ in range(2):
        ticket = auth.authenticate(db, email=user.email, password=PASSWORD)
        tokens.append(auth.start_session(db, ticket=ticket, ip_address=None, user_agent=None))
    here = auth.resolve_session(db, token=tokens[0]).session_id
    enrolment = two_factor.start_enrolment(db, user_id=owner.user_id)
    two_factor.confirm_enrolment(db, user_id=owner.user_id, business_id=owner.business_id,
                                 code=pyotp.TOTP(enrolment.secret).now(),
                                 current_session_id=here)  # fmt: skip
    assert auth.resolve_session(db, token=tokens[0]) is not None
    assert auth.resolve_session(db, token=tokens[1]) is None


def test_the_audit_log_is_searchable_by_text_within_the_business(db):
    owner, business = actor_for(db)
    other, _ = actor_for(db)
    policy.set_allowlist(db, actor=owner, entries="198.51.100.0/24", current_ip="198.51.100.3")
    policy.set_allowlist(db, actor=other, entries="198.51.100.0/24", current_ip="198.51.100.3")
    security.record(db, business_id=business.id, action="member.invited",
                    details={"email": "kofi@example.com"})  # fmt: skip
    found = security.list_audit(db, actor=owner, text="KOFI@")
    assert [e.action for e in found] == ["member.invited"]
    by_ip = security.list_audit(db, actor=owner, text="198.51.100.3")
    assert [(e.action, e.ip_address) for e in by_ip] == [("allowlist.changed", "198.51.100.3")]
    assert security.list_audit(db, actor=owner, text="100%") == []
