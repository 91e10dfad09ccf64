"""Alembic environment: BizBot's metadata and the database its settings point at."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import backend.models  # noqa: F401  (registers every table)
from backend.core.db import get_engine

target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    """Run migrations on a live connection (a connection given by the caller wins)."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    with get_engine().connect() as connection:
        _run(connection)
        connection.commit()


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("BizBot migrations run online only: `python -m backend.cli db upgrade`.")
run_migrations_online()
