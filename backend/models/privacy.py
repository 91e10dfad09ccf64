"""Privacy settings of a business: how long customers' conversations are kept."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field

from backend.models.base import Table, tz_field


class RetentionPolicy(Table, table=True):
    """Conversations idle longer than `conversation_days` are purged (no row, or None: kept)."""

    business_id: int = Field(
        foreign_key="business.id", ondelete="CASCADE", unique=True, nullable=False
    )
    conversation_days: int | None = Field(default=None)
    updated_by_user_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    last_purge_at: datetime | None = tz_field()
    last_purge_count: int = Field(default=0)
