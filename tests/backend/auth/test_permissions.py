"""The role matrix: what each role may do and which sections it may open."""

from __future__ import annotations

import pytest

from backend.auth.permissions import SECTION_PERMISSIONS, Actor, Permission, PermissionDenied
from backend.models import Role


def actor(role: Role) -> Actor:
    return Actor(user_id=1, business_id=1, role=role)


def test_owner_may_do_everything():
    assert all(actor(Role.OWNER).can(p) for p in Permission)


@pytest.mark.parametrize("section", ["settings", "billing", "onboarding"])
@pytest.mark.parametrize("role", [Role.ADMIN, Role.AGENT, Role.VIEWER])
def test_owner_only_sections(section, role):
    assert not actor(role).can_open(section)
    assert actor(Role.OWNER).can_open(section)


def test_agent_works_conversations_but_not_configuration():
    agent = actor(Role.AGENT)
    assert agent.can(Permission.CONVERSATIONS_REPLY)
    assert agent.can_open("conversations")
    assert agent.can_open("leads")
    for section in ("knowledge", "integrations", "users", "ai-rules"):
        assert not agent.can_open(section)


def test_viewer_reads_but_cannot_reply():
    viewer = actor(Role.VIEWER)
    assert viewer.can_open("conversations")
    with pytest.raises(PermissionDenied, match="viewer"):
        viewer.require(Permission.CONVERSATIONS_REPLY)


def test_every_section_has_a_permission_and_everyone_opens_overview():
    assert len(SECTION_PERMISSIONS) == 16
    assert all(actor(r).can_open("overview") for r in Role)
