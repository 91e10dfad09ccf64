"""In-dashboard notifications for the team."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from backend.models.base import Table, business_fk, tz_field


class Notification(Table, table=True):
    """Something a team member should see: a handoff, a new lead, a paid order, …"""

    __table_args__ = (
        sa.Index("ix_notification_business_user_read", "business_id", "user_id", "read_at"),
    )

    business_id: int = business_fk()
    # None means the notification is for every member of the business.
    user_id: int | None = Field(default=None, foreign_key="user.id", ondelete="CASCADE", index=True)
    kind: str = Field(max_length=64)
    title: str = Field(max_length=200)
    body: str | None = Field(default=None, sa_type=sa.Text)
    link: str | None = Field(default=None, max_length=500)
    read_at: datetime | None = tz_field()
