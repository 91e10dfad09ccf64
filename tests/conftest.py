"""Test fixtures: a real PostgreSQL + pgvector and a real Redis, isolated per test.

The database is the embedded pgserver (or TEST_DATABASE_URL) with a fresh database per test
session, migrated once; each `db` test runs in a transaction that is rolled back. Redis is an
embedded redis-server, flushed before each test.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path

# Isolate from the developer's data/ and .env before any settings are read.
_TEST_DATA = Path(tempfile.mkdtemp(prefix="bizbot-test-"))
os.environ.update(
    BIZBOT_ENV="development",
    DATA_DIR=str(_TEST_DATA),
    DATABASE_URL="",
    REDIS_URL="",
    SECRET_KEY="test-" + secrets.token_urlsafe(40),
    ALLOW_SIGNUP="true",
    # Offline unless a test starts the fake OpenAI server: a developer's key is never used.
    OPENAI_API_KEY="",
    OPENAI_BASE_URL="",
    EMBEDDINGS_BASE_URL="",
)

import psycopg  # noqa: E402
import pytest  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from sqlmodel import Session, SQLModel  # noqa: E402

import backend.models  # noqa: E402, F401
from backend.channels import repository as channels_repo  # noqa: E402
from backend.core import db as core_db  # noqa: E402
from backend.core import migrate, ratelimit  # noqa: E402
from backend.core import redis as core_redis  # noqa: E402
from backend.core.config import settings  # noqa: E402
from backend.core.embedded import EmbeddedRedis, embedded_database_url  # noqa: E402

# The embedded server for tests lives outside the project so runs can reuse it.
_TEST_PG_HOME = Path(tempfile.gettempdir()) / "bizbot-test-pg"


def _server_url() -> str:
    if os.environ.get("TEST_DATABASE_URL"):
        return os.environ["TEST_DATABASE_URL"]
    return embedded_database_url(_TEST_PG_HOME)


def _with_database(url: str, name: str) -> str:
    parsed = sa.engine.make_url(core_db.sqlalchemy_url(url))
    return parsed.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session", autouse=True)
def database_url() -> Iterator[str]:
    """A fresh, migrated database for this test session (dropped at the end)."""
    server = _server_url()
    name = f"bizbot_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = core_db.sqlalchemy_url(server).replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(server, name)
    settings.database_url = url
    core_db.get_engine.cache_clear()
    with core_db.get_engine().begin() as conn:
        conn.execute(sa.text("SET client_min_messages TO warning"))
        conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS vector"))
    migrate.upgrade()
    yield url
    core_db.get_engine().dispose()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", autouse=True)
def redis_server() -> Iterator[EmbeddedRedis]:
    """An embedded redis-server for this test session."""
    server = EmbeddedRedis(_TEST_DATA).start()
    settings.redis_url = server.url
    core_redis.get_redis.cache_clear()
    ratelimit.reset_cache()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _fresh_redis(redis_server: EmbeddedRedis) -> None:
    core_redis.get_redis().flushdb()


@pytest.fixture
def db() -> Iterator[Session]:
    """A session whose work is rolled back after the test (services flush, never commit)."""
    with core_db.get_engine().connect() as conn:
        outer = conn.begin()
        session = Session(bind=conn, join_transaction_mode="create_savepoint")
        try:
            yield session
        finally:
            session.close()
            outer.rollback()


@pytest.fixture
def committed() -> Iterator[None]:
    """For tests whose code opens its own sessions (routes, CLI): empty every table after."""
    yield
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with core_db.get_engine().begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    channels_repo.forget_kinds()  # ids start again: an id may name another channel now
