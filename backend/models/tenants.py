"""The tenant (Business), people (User) and who belongs where (Membership)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field

from backend.models.base import Table, business_fk, enum_field, json_field, tz_field


class Role(StrEnum):
    """A member's role in one business, most to least powerful."""

    OWNER = "owner"
    ADMIN = "admin"
    AGENT = "agent"
    VIEWER = "viewer"


class Business(Table, table=True):
    """A tenant: one business with its own channels, knowledge, customers and team."""

    name: str = Field(max_length=120)
    slug: str = Field(max_length=80, unique=True)
    timezone: str = Field(default="UTC", max_length=64)
    default_language: str = Field(default="en", max_length=16)
    currency: str = Field(default="USD", max_length=3)
    is_demo: bool = Field(default=False)
    settings: dict = json_field()
    # Every member must sign in with a second factor (owners switch it on, Security page).
    require_two_factor: bool = Field(default=False, sa_column_kwargs={"server_default": "false"})
    # The logo, relative to DATA_DIR (Settings page); served by /api/media/logo/{business_id}.
    logo_path: str | None = Field(default=None, max_length=500)
    # The business's own SMTP server (Settings page); unset host means the .env defaults.
    smtp_host: str | None = Field(default=None, max_length=255)
    smtp_port: int | None = Field(default=None)
    smtp_username: str | None = Field(default=None, max_length=254)
    smtp_password_encrypted: str | None = Field(default=None, max_length=1024)
    smtp_from: str | None = Field(default=None, max_length=254)
    smtp_security: str | None = Field(default=None, max_length=16)  # starttls | ssl | none


class User(Table, table=True):
    """A person who signs in to the dashboard (owner, admin, agent or viewer)."""

    __table_args__ = (
        sa.Index("uq_user_email_lower", sa.func.lower(sa.text("email")), unique=True),
    )

    email: str = Field(max_length=254)
    name: str = Field(max_length=120)
    password_hash: str = Field(max_length=255)
    email_verified_at: datetime | None = tz_field()
    is_active: bool = Field(default=True)
    last_login_at: datetime | None = tz_field()
    # Runs the installation (the System page, `user admin`): the first user, or given by one.
    is_instance_admin: bool = Field(default=False, sa_column_kwargs={"server_default": "false"})


class Membership(Table, table=True):
    """A user's role in a business; a user may belong to several businesses."""

    __table_args__ = (sa.UniqueConstraint("business_id", "user_id"),)

    business_id: int = business_fk()
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE", index=True)
    role: str = enum_field(Role.AGENT)
    # Agent presence for assignment: "online" or "away".
    availability: str = Field(default="away", max_length=16)
    max_open_conversations: int = Field(default=10)
    # Round-robin turns: the online agent assigned longest ago gets the next handoff.
    last_assigned_at: datetime | None = tz_field()


class UserSession(Table, table=True):
    """A signed-in browser: revocable, found by the hash of the token in its cookie."""

    business_id: int = business_fk()
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    ip_address: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=400)
    last_seen_at: datetime | None = tz_field()
    expires_at: datetime = Field(sa_type=sa.DateTime(timezone=True), nullable=False)
    revoked_at: datetime | None = tz_field()


class TwoFactor(Table, table=True):
    """A user's TOTP enrolment: secret (encrypted) and hashed single-use recovery codes."""

    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE", unique=True)
    secret_encrypted: str = Field(max_length=512)
    confirmed_at: datetime | None = tz_field()
    recovery_code_hashes: list = json_field(default_factory=list)
    last_used_step: int | None = Field(default=None)


class AccountToken(Table, table=True):
    """A single-use emailed link (password reset, email verification): only its hash is kept.

    It belongs to the user; `business_id` is the business whose audit log records its use."""

    business_id: int = business_fk()
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE", index=True)
    purpose: str = Field(max_length=32)  # "password_reset" | "email_verification"
    token_hash: str = Field(max_length=64, unique=True)
    expires_at: datetime = Field(sa_type=sa.DateTime(timezone=True), nullable=False)
    used_at: datetime | None = tz_field()


class Invitation(Table, table=True):
    """An emailed invitation to join a business with a role; accepted once, by link."""

    business_id: int = business_fk()
    email: str = Field(max_length=254)
    role: str = enum_field(Role.AGENT)
    token_hash: str = Field(max_length=64, unique=True)
    invited_by_user_id: int | None = Field(
        default=None, foreign_key="user.id", ondelete="SET NULL", index=True
    )
    expires_at: datetime = Field(sa_type=sa.DateTime(timezone=True), nullable=False)
    accepted_at: datetime | None = tz_field()
    revoked_at: datetime | None = tz_field()
