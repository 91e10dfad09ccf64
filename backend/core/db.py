"""The database engine and `session_scope()`, the one place sessions are opened and committed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from backend.core.config import settings
from backend.core.embedded import embedded_database_url


def sqlalchemy_url(url: str) -> str:
    """Normalise a PostgreSQL URL to the psycopg 3 driver SQLAlchemy needs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if url.startswith("postgresql+psycopg://"):
        return url
    msg = (
        f"DATABASE_URL must be a PostgreSQL URL (postgresql://user:pass@host/db), got "
        f"{url.split('://')[0]}://…"
    )
    raise ValueError(msg)


def database_url() -> str:
    """DATABASE_URL when set, else the embedded PostgreSQL under `data/pg`."""
    return sqlalchemy_url(settings.database_url or embedded_database_url())


@lru_cache(maxsize=1)
def get_engine() -> Engine:
    """The process-wide engine (created on first use)."""
    return sa.create_engine(database_url(), pool_pre_ping=True, pool_size=5, max_overflow=10)


@contextmanager
def session_scope() -> Iterator[Session]:
    """Open a session, commit when the block ends, roll back if it raises."""
    session = Session(get_engine(), expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
