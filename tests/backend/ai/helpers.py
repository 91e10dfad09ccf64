"""Helpers for AI tests: set a business's rules without creating a member."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from backend.ai import service
from backend.ai.rules import RulesView
from backend.auth.permissions import Actor
from backend.models import Business, Role


def set_rules(session: Session, business: Business, **fields: Any) -> RulesView:
    """Change the business's AI rules as its owner would on the AI Rules page."""
    # An owner's Actor without a user row: hashing a password per test costs about a second.
    owner = Actor(user_id=0, business_id=business.id, role=Role.OWNER)
    return service.update_rules(session, actor=owner, **fields)
