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
# Every key `hold` has used: a transaction that ends unsettled drops them all.
_HELD_KEYS: set[str] = set()


def hold(session: OrmSession, key: str, item: object) -> None:
    """Keep `item` under `key` until the work done so far in `session` is settled, tagged with
    the savepoint it is done in. The one mechanism behind work done after a commit (jobs,
    domain events, files): a hook takes the items with `committed` or `undone`."""
    _HELD_KEYS.add(key)
    session.info.setdefault(key, []).append((session.get_nested_transaction(), item))


def held(session: OrmSession, key: str) -> list:
    """The items held under `key` in `session` now, oldest first."""
    return [item for _, item in session.info.get(key, [])]


def committed(session: OrmSession, key: str) -> list:
    """For an `after_commit` hook: the items under `key`, taken, once the transaction itself
    commits; none when only a savepoint was released (they wait for the real commit)."""
    if session.get_nested_transaction() is not None:
        return []
    return [item for _, item in session.info.pop(key, [])]


def undone(session: OrmSession, key: str) -> list:
    """For an `after_rollback` hook: the items under `key` the rollback undid, taken: all of
    them, or those of the savepoint rolled back (the others stay held)."""
    notes = session.info.pop(key, [])
    savepoint = session.get_nested_transaction()
    if savepoint is None:
        return [item for _, item in notes]
    kept = [note for note in notes if not _within(note[0], savepoint)]
    if kept:
        session.info[key] = kept
    return [item for tag, item in notes if _within(tag, savepoint)]


def call_after_commit(session: OrmSession, func: Callable[[], object]) -> None:
    """Call `func` once the work done so far in `session` is committed; never if it rolls back."""
    hold(session, _OUTCOME_KEY, (True, func))


def call_after_rollback(session: OrmSession, func: Callable[[], object]) -> None:
    """Call `func` if the work done so far in `session` is rolled back (by the whole transaction,
    or by a savepoint it was done in); never once it is committed."""
    hold(session, _OUTCOME_KEY, (False, func))


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
    for on_commit, func in committed(session, _OUTCOME_KEY):
        if on_commit:
            _call(func)


@event.listens_for(OrmSession, "after_rollback")
def _run_after_rollback(session: OrmSession) -> None:
    for on_commit, func in undone(session, _OUTCOME_KEY):
        if not on_commit:
            _call(func)


@event.listens_for(OrmSession, "after_transaction_end")
def _forget_unsettled(session: OrmSession, transaction: SessionTransaction) -> None:
    # Closed without a commit or a rollback we saw (or a commit hook failed before ours): the
    # outcome is unknown, so nothing held runs; at worst a file is left behind, never lost.
    if transaction.parent is None:
        for key in _HELD_KEYS:
            session.info.pop(key, None)
