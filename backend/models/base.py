"""Shared column helpers for every table: ids, timestamps and the tenant key."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def created_at_field() -> datetime:
    """A `created_at` column filled by the database and by Python alike."""
    return Field(
        default_factory=utcnow,
        sa_type=sa.DateTime(timezone=True),
        sa_column_kwargs={"server_default": sa.func.now(), "nullable": False},
    )


def updated_at_field() -> datetime:
    """An `updated_at` column that moves on every ORM update."""
    return Field(
        default_factory=utcnow,
        sa_type=sa.DateTime(timezone=True),
        sa_column_kwargs={
            "server_default": sa.func.now(),
            "onupdate": utcnow,
            "nullable": False,
        },
    )


def tz_field(*, nullable: bool = True, index: bool = False) -> datetime | None:
    """An optional timezone-aware timestamp column."""
    return Field(
        default=None,
        sa_type=sa.DateTime(timezone=True),
        nullable=nullable,
        index=index,
    )


def business_fk() -> int:
    """The tenant key every tenant-owned table carries: indexed, cascades on delete."""
    return Field(
        foreign_key="business.id",
        ondelete="CASCADE",
        index=True,
        nullable=False,
    )


def json_field(*, default_factory=dict) -> dict:
    """A JSONB column (defaults to an empty object)."""
    return Field(
        default_factory=default_factory,
        sa_type=JSONB,
        sa_column_kwargs={"nullable": False},
    )


def enum_field(default, *, index: bool = False):
    """A short text column holding an enum's value (plain text keeps migrations simple)."""
    return Field(
        default=default,
        sa_type=sa.String(32),
        index=index,
        nullable=False,
    )


class Table(SQLModel):
    """Base of every table: an integer primary key and creation/update timestamps."""

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()
