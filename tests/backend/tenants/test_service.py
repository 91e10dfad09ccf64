"""Business profile and team listing, with roles enforced by the services."""

from __future__ import annotations

import pytest

from backend.auth.permissions import PermissionDenied
from backend.models import Business, Role
from backend.tenants import service as tenants
from tests.factories import actor_for, make_user

PROFILE = {"name": "New Name", "timezone": "Africa/Nairobi", "default_language": "sw",
           "currency": "kes"}  # fmt: skip


def test_owner_updates_the_profile(db):
    owner, business = actor_for(db, role=Role.OWNER)
    profile = tenants.update_profile(db, actor=owner, **PROFILE)
    assert (profile.name, profile.timezone, profile.currency) == (
        "New Name", "Africa/Nairobi", "KES"
    )  # fmt: skip
    assert db.get(Business, business.id).default_language == "sw"


@pytest.mark.parametrize("role", [Role.ADMIN, Role.AGENT, Role.VIEWER])
def test_only_owners_change_the_profile(db, role):
    member, business = actor_for(db, role=role)
    with pytest.raises(PermissionDenied):
        tenants.update_profile(db, actor=member, **PROFILE)
    assert db.get(Business, business.id).name != "New Name"


@pytest.mark.parametrize(
    ("change", "field"),
    [({"timezone": "Mars/Base"}, "timezone"), ({"currency": "dollars"}, "currency"),
     ({"name": " "}, "name")],
)  # fmt: skip
def test_bad_profile_input_names_the_field(db, change, field):
    owner, _ = actor_for(db)
    with pytest.raises(tenants.BusinessError) as err:
        tenants.update_profile(db, actor=owner, **{**PROFILE, **change})
    assert err.value.field == field


def test_team_list_is_for_owners_and_admins_and_stays_in_the_business(db):
    admin, business = actor_for(db, role=Role.ADMIN)
    make_user(db, business=business, role=Role.AGENT, name="Tom")
    other_admin, _ = actor_for(db, role=Role.ADMIN)
    names = [m.name for m in tenants.list_members(db, actor=admin)]
    assert len(names) == 2
    assert "Tom" in names
    assert "Tom" not in [m.name for m in tenants.list_members(db, actor=other_admin)]
    agent, _ = actor_for(db, role=Role.AGENT, business=business)
    with pytest.raises(PermissionDenied):
        tenants.list_members(db, actor=agent)
