"""In-dashboard notifications for the team, and what each member wants to receive."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field

from backend.models.base import Table, business_fk, json_field, tz_field


class NotificationKind(StrEnum):
    """What a notification is about; members choose per kind (in-app and/or email)."""

    NEW_HANDOFF = "new_handoff"
    ASSIGNED_TO_ME = "assigned_to_me"
    SLA_ABOUT_TO_BREACH = "sla_about_to_breach"
    SLA_BREACHED = "sla_breached"
    NEW_LEAD = "new_lead"
    PAYMENT_RECEIVED = "payment_received"
    LEAD_FOLLOW_UP = "lead_follow_up"
    WEBHOOK_DISABLED = "webhook_disabled"
    BILLING = "billing"
    TEMPLATE_STATUS = "template_status"
    SETUP_COMPLETE = "setup_complete"


class Notification(Table, table=True):
    """Something a team member should see: a handoff, a new lead, a paid order, …"""

    __table_args__ = (
        sa.Index("ix_notification_business_user_read", "business_id", "user_id", "read_at"),
        # The same happening notifies a member once, however often the job that saw it runs.
        sa.Index(
            "uq_notification_business_user_dedup",
            "business_id",
            "user_id",
            "dedup_key",
            unique=True,
            postgresql_where=sa.text("dedup_key IS NOT NULL"),
        ),
    )

    business_id: int = business_fk()
    # One row per member (each reads their own); notifications.service fans out to the team.
    user_id: int | None = Field(default=None, foreign_key="user.id", ondelete="CASCADE", index=True)
    kind: str = Field(max_length=64)
    title: str = Field(max_length=200)
    body: str | None = Field(default=None, sa_type=sa.Text)
    link: str | None = Field(default=None, max_length=500)
    read_at: datetime | None = tz_field()
    # False when the member wants this kind by email only (the row is what the email job sends).
    in_app: bool = Field(default=True)
    # Ids the bell needs to open what it is about, e.g. {"conversation_id": 12}.
    data: dict = json_field()
    dedup_key: str | None = Field(default=None, max_length=200)
    email_requested: bool = Field(default=False)
    emailed_at: datetime | None = tz_field()
    email_error: str | None = Field(default=None, sa_type=sa.Text)


class NotificationPreference(Table, table=True):
    """One member's choice for one kind of notification (no row: the kind's defaults)."""

    __table_args__ = (
        sa.UniqueConstraint(
            "business_id", "user_id", "kind", name="uq_notificationpreference_member_kind"
        ),
    )

    business_id: int = business_fk()
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE", index=True)
    kind: str = Field(max_length=64)
    in_app: bool = Field(default=True)
    email: bool = Field(default=False)
