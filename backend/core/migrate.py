"""Apply and check alembic migrations from code (the CLI, `make run` and tests use it)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from backend.core.config import PROJECT_ROOT


def alembic_config(connection=None) -> Config:
    """The project's alembic config, optionally bound to an open connection."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(revision: str = "head", connection=None) -> None:
    """Bring the database schema to `revision`."""
    command.upgrade(alembic_config(connection), revision)


def check(connection=None) -> None:
    """Raise if the models and the migrations disagree (`alembic check`)."""
    command.check(alembic_config(connection))
