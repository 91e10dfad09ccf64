"""API keys and the audit log: scopes, roles, tenants, hashed storage."""

from __future__ import annotations

import pytest
from sqlmodel import select

from backend.auth.permissions import PermissionDenied
from backend.core.crypto import hash_token
from backend.models import AuditLog
from backend.models.security import APIKey
from backend.models.tenants import Role
from backend.security import service as security
from tests.factories import actor_for, make_user


def test_owner_creates_a_key_shown_once_and_stored_hashed(db):
    actor, business = actor_for(db)
    created = security.create_api_key(
        db, actor=actor, name="  CRM   sync ", scopes=["orders:read", "conversations:read"],
        expires_days=30, ip="192.0.2.1",
    )  # fmt: skip
    row = db.get(APIKey, created.id)
    assert created.key.startswith(created.prefix + "_")
    assert row.key_hash == hash_token(created.key)
    assert row.name == "CRM sync"
    assert row.scopes == ["conversations:read", "orders:read"]
    assert row.expires_at is not None
    [view] = security.list_api_keys(db, actor=actor)
    assert view.status == "active"
    assert not hasattr(view, "key")
    entry = db.exec(select(AuditLog).where(AuditLog.business_id == business.id)).one()
    assert (entry.action, entry.actor_user_id, entry.ip_address) == (
        "api_key.created", actor.user_id, "192.0.2.1",
    )  # fmt: skip


def test_bad_scopes_and_expiry_name_the_field(db):
    actor, _ = actor_for(db)
    with pytest.raises(security.SecurityError) as err:
        security.create_api_key(db, actor=actor, name="x", scopes=["everything"])
    assert err.value.field == "scopes"
    with pytest.raises(security.SecurityError) as err:
        security.create_api_key(db, actor=actor, name="x", scopes=[])
    assert err.value.field == "scopes"
    with pytest.raises(security.SecurityError) as err:
        security.create_api_key(db, actor=actor, name="x", scopes="orders:read", expires_days=0)
    assert err.value.field == "expires_days"


@pytest.mark.parametrize("role", [Role.AGENT, Role.VIEWER])
def test_agents_and_viewers_cannot_manage_keys_or_read_the_audit_log(db, role):
    actor, _ = actor_for(db, role=role)
    with pytest.raises(PermissionDenied):
        security.create_api_key(db, actor=actor, name="x", scopes=["orders:read"])
    with pytest.raises(PermissionDenied):
        security.list_api_keys(db, actor=actor)
    with pytest.raises(PermissionDenied):
        security.list_audit(db, actor=actor)


def test_another_business_cannot_see_or_revoke_a_key(db):
    mine, _ = actor_for(db)
    theirs, _ = actor_for(db)
    created = security.create_api_key(db, actor=mine, name="x", scopes=["orders:read"])
    assert security.list_api_keys(db, actor=theirs) == []
    assert security.list_audit(db, actor=theirs) == []
    with pytest.raises(security.SecurityError):
        security.revoke_api_key(db, actor=theirs, key_id=created.id)
    assert db.get(APIKey, created.id).revoked_at is None


def test_revoked_key_no_longer_authenticates(db):
    actor, _ = actor_for(db, role=Role.ADMIN)
    created = security.create_api_key(db, actor=actor, name="x", scopes=["orders:read"])
    client = security.authenticate_api_key(db, token=created.key)
    assert client.business_id == actor.business_id
    assert client.scopes == frozenset({"orders:read"})
    security.revoke_api_key(db, actor=actor, key_id=created.id)
    with pytest.raises(security.InvalidAPIKey):
        security.authenticate_api_key(db, token=created.key)
    with pytest.raises(security.InvalidAPIKey):
        security.authenticate_api_key(db, token=None)


def test_failed_login_is_audited_in_the_accounts_business(db):
    actor, business = actor_for(db)
    user = make_user(db, business=business, email="Ama@Example.com")
    security.record_failed_login(db, email="ama@example.com", ip="203.0.113.5", reason="password")
    security.record_failed_login(db, email="nobody@example.com", ip="203.0.113.5", reason="x")
    security.record_login(db, user_id=user.id, business_id=business.id, ip="203.0.113.5")
    entries = security.list_audit(db, actor=actor)
    assert [(e.action, e.target, e.ip_address) for e in entries] == [
        ("login", f"user {user.id}", "203.0.113.5"),
        ("login.failed", f"user {user.id}", "203.0.113.5"),
    ]
    assert [e.action for e in security.list_audit(db, actor=actor, action="login")] == ["login"]
