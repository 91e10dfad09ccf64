"""Fixtures for knowledge tests."""

from __future__ import annotations

import pytest

from backend.auth.permissions import Actor
from backend.core.db import session_scope
from backend.models import Role
from tests.factories import actor_for


@pytest.fixture
def committed_owner(committed) -> Actor:
    """An owner of a new business, committed so jobs (which open their own sessions) see it."""
    with session_scope() as session:
        actor, _ = actor_for(session, role=Role.OWNER)
    return actor
