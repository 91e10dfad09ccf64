"""The setup checklist a new business works through."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field

from backend.models.base import Table, json_field, tz_field


class OnboardingProgress(Table, table=True):
    """Which setup steps a business has done, and whether it dismissed the checklist."""

    # One row per business, so the tenant key is unique rather than merely indexed.
    business_id: int = Field(foreign_key="business.id", ondelete="CASCADE", unique=True)
    completed_steps: list = json_field(default_factory=list)
    dismissed_at: datetime | None = tz_field()
    completed_at: datetime | None = tz_field()
