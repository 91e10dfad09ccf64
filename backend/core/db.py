"""The database engine and `session_scope()`, the one place sessions are opened and committed;
`call_after_commit` / `call_after_rollback` tie work outside the database (files) to a session's
outcome."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction
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


log = logging.getLogger(__name__)

_OUTCOME_KEY = "bizbot_after_outcome"


def call_after_commit(session: OrmSession, func: Callable[[], object]) -> None:
    """Call `func` once the work done so far in `session` is committed; never if it rolls back."""
    _note(session, func, committed=True)


def call_after_rollback(session: OrmSession, func: Callable[[], object]) -> None:
    """Call `func` if the work done so far in `session` is rolled back (by the whole transaction,
    or by a savepoint it was done in); never once it is committed."""
    _note(session, func, committed=False)


def _note(session: OrmSession, func: Callable[[], object], *, committed: bool) -> None:
    # Tagged with the savepoint the work is done in, so a savepoint's rollback undoes its own.
    tag = session.get_nested_transaction()
    session.info.setdefault(_OUTCOME_KEY, []).append((tag, committed, func))


def _call(func: Callable[[], object]) -> None:
    try:
        func()
    except Exception:  # The outcome is settled; a failing clean-up must not undo or mask it.
        log.exception("after-commit/rollback call %s failed", getattr(func, "__name__", func))


def _within(tag: SessionTransaction | None, savepoint: SessionTransaction) -> bool:
    while tag is not None:
        if tag is savepoint:
            return True
        tag = tag.parent
    return False


@event.listens_for(OrmSession, "after_commit")
def _run_after_commit(session: OrmSession) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint was released: its work commits or rolls back with the transaction
    for _, committed, func in session.info.pop(_OUTCOME_KEY, []):
        if committed:
            _call(func)


@event.listens_for(OrmSession, "after_rollback")
def _run_after_rollback(session: OrmSession) -> None:
    savepoint = session.get_nested_transaction()
    notes = session.info.pop(_OUTCOME_KEY, [])
    if savepoint is not None:
        kept = [note for note in notes if not _within(note[0], savepoint)]
        notes = [note for note in notes if _within(note[0], savepoint)]
        if kept:
            session.info[_OUTCOME_KEY] = kept
    for _, committed, func in notes:
        if not committed:
            _call(func)


@event.listens_for(OrmSession, "after_transaction_end")
def _forget_unsettled(session: OrmSession, transaction: SessionTransaction) -> None:
    # Closed without a commit or a rollback we saw (or a commit hook failed before ours): the
    # outcome is unknown, so neither call runs; at worst a file is left behind, never lost.
    if transaction.parent is None:
        session.info.pop(_OUTCOME_KEY, None)
