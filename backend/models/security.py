"""Security records: the audit log, API keys and the IP allowlist."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from backend.models.base import Table, business_fk, json_field, tz_field


class AuditLog(Table, table=True):
    """A record of who did what in the business (a member, or a program using an API key)."""

    __table_args__ = (sa.Index("ix_auditlog_business_created", "business_id", "created_at"),)

    business_id: int = business_fk()
    actor_user_id: int | None = Field(
        default=None, foreign_key="user.id", ondelete="SET NULL", index=True
    )
    actor_api_key_id: int | None = Field(
        default=None, foreign_key="apikey.id", ondelete="SET NULL", index=True
    )
    action: str = Field(max_length=64)
    target_type: str | None = Field(default=None, max_length=64)
    target_id: str | None = Field(default=None, max_length=64)
    ip_address: str | None = Field(default=None, max_length=64)
    details: dict = json_field()


class APIKey(Table, table=True):
    """A key for the public REST API; only its hash is stored, the prefix identifies it."""

    business_id: int = business_fk()
    name: str = Field(max_length=120)
    prefix: str = Field(max_length=16, index=True)
    key_hash: str = Field(max_length=128, unique=True)
    scopes: list = json_field(default_factory=list)
    created_by_user_id: int | None = Field(
        default=None, foreign_key="user.id", ondelete="SET NULL", index=True
    )
    expires_at: datetime | None = tz_field()
    last_used_at: datetime | None = tz_field()
    revoked_at: datetime | None = tz_field()


class IPAllowlistEntry(Table, table=True):
    """An address range allowed to reach the dashboard and API when the allowlist is on."""

    __table_args__ = (
        sa.UniqueConstraint("business_id", "cidr", name="uq_ipallowlistentry_business_cidr"),
    )

    business_id: int = business_fk()
    # Plain text in CIDR notation, validated by the service; keeps rows plain strings.
    cidr: str = Field(max_length=64)
    label: str | None = Field(default=None, max_length=120)
    created_by_user_id: int | None = Field(
        default=None, foreign_key="user.id", ondelete="SET NULL", index=True
    )
