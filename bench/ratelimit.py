"""Rate-limit load test: one API key floods /api/v1 while two others keep working.

    .venv/bin/python bench/ratelimit.py                       # starts its own server
    .venv/bin/python bench/ratelimit.py --seconds 30
    .venv/bin/python bench/ratelimit.py --url http://127.0.0.1:3000 --keys FLOOD,KEY2,KEY3

Without `--url` it makes a throwaway database (embedded PostgreSQL) and Redis, three API keys,
and serves `backend.api.asgi_app` with granian on 127.0.0.1 and a free port (the same routes
`make run` serves beside the dashboard). With `--url`, pass three keys made with
`python -m backend.cli api-key create --business ID --scopes conversations:read`.

During the run, at the same time and from the same address:
- "flood": one key, many concurrent requests as fast as they go → expect mostly 429;
- "legit B" / "legit C": two other keys, one request every 0.5 s each → expect all 200;
- "bad keys": random keys as fast as they go → expect 429 (not endless 401) once the
  failed-authentication limit per IP is reached.
Prints a Markdown table (status counts, req/s, latency) for bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PATH = "/api/v1/me"


@dataclass
class Tally:
    """What one kind of client saw."""

    name: str
    statuses: Counter = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)

    def row(self, seconds: float) -> str:
        total = sum(self.statuses.values())
        other = total - sum(self.statuses[s] for s in (200, 401, 429))
        lat = sorted(self.latencies_ms) or [0.0]
        p95 = lat[min(len(lat) - 1, int(len(lat) * 0.95))]
        return (
            f"| {self.name} | {total} | {self.statuses[200]} | {self.statuses[401]} | "
            f"{self.statuses[429]} | {other} | {total / seconds:.0f} | "
            f"{statistics.median(lat):.1f} / {p95:.1f} |"
        )


async def _request(client, tally: Tally, key: str) -> None:
    import httpx

    started = time.perf_counter()
    try:
        response = await client.get(PATH, headers={"Authorization": f"Bearer {key}"})
        tally.statuses[response.status_code] += 1
    except httpx.HTTPError as exc:
        tally.statuses[type(exc).__name__] += 1
    tally.latencies_ms.append((time.perf_counter() - started) * 1000)


async def _flood(client, tally: Tally, keys, until: float, concurrency: int) -> None:
    async def worker() -> None:
        while time.monotonic() < until:
            await _request(client, tally, keys())

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def _paced(client, tally: Tally, key: str, until: float, every: float) -> None:
    while time.monotonic() < until:
        tick = time.monotonic()
        await _request(client, tally, key)
        await asyncio.sleep(max(0.0, every - (time.monotonic() - tick)))


async def run(url: str, flood_key: str, legit: list[str], seconds: float, concurrency: int):
    """Drive the four kinds of client at once; their tallies."""
    import httpx

    tallies = [Tally("flood (1 key)"), Tally("legit B"), Tally("legit C"), Tally("bad keys")]
    limits = httpx.Limits(max_connections=4 * concurrency + 8)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        until = time.monotonic() + seconds
        await asyncio.gather(
            _flood(client, tallies[0], lambda: flood_key, until, concurrency),
            _paced(client, tallies[1], legit[0], until, 0.5),
            _paced(client, tallies[2], legit[1], until, 0.5),
            _flood(
                client, tallies[3], lambda: f"bb_{secrets.token_hex(4)}_bad", until, concurrency
            ),
        )
    return tallies


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _own_server():
    """A throwaway database, Redis, three keys and a granian server; (url, keys, cleanup)."""
    os.environ["DATA_DIR"] = tempfile.mkdtemp(prefix="bizbot-bench-")
    os.environ["DATABASE_URL"] = os.environ["REDIS_URL"] = ""
    os.environ["SECRET_KEY"] = "bench-" + secrets.token_urlsafe(40)
    os.environ.setdefault("PYTHONWARNINGS", "ignore")

    import httpx
    import psycopg
    import sqlalchemy as sa

    from backend.core import db as core_db
    from backend.core import migrate
    from backend.core import redis as core_redis
    from backend.core.config import settings
    from backend.core.db import session_scope
    from backend.core.embedded import EmbeddedRedis, embedded_database_url
    from backend.models import Business, Membership, Role, User
    from backend.security import service as security

    redis_server = EmbeddedRedis().start()
    settings.redis_url = redis_server.url
    core_redis.get_redis.cache_clear()
    server = embedded_database_url()
    name = f"bizbot_bench_{secrets.token_hex(3)}"
    admin = core_db.sqlalchemy_url(server).replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = sa.engine.make_url(core_db.sqlalchemy_url(server)).set(database=name)
    settings.database_url = url.render_as_string(hide_password=False)
    core_db.get_engine.cache_clear()
    with core_db.get_engine().begin() as conn:
        conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS vector"))
    migrate.upgrade()
    keys = []
    with session_scope() as session:
        for n in range(3):
            business = Business(name=f"Bench {n}", slug=f"bench-{n}-{secrets.token_hex(3)}")
            owner = User(email=f"owner{n}@bench.example", name="Owner", password_hash="!")
            session.add_all([business, owner])
            session.flush()
            session.add(Membership(business_id=business.id, user_id=owner.id, role=Role.OWNER))
            created = security.create_api_key_for_business(
                session, business_id=business.id, name="bench", scopes=["conversations:read"]
            )
            keys.append(created.key)
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "PYTHONPATH": str(ROOT),
    }
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "granian"), "--interface", "asgi", "--host",
         "127.0.0.1", "--port", str(port), "--workers", "1", "--log-level", "warning",
         "backend.api:asgi_app"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def cleanup() -> None:
        process.terminate()
        process.wait(timeout=30)
        core_db.get_engine().dispose()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        redis_server.stop()

    deadline = time.monotonic() + 60
    while True:  # a script waiting for its own server to come up, not a test
        try:
            if httpx.get(base + "/api/v1/openapi.json", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            cleanup()
            raise SystemExit("the server did not start; see its output above")
        time.sleep(0.2)
    return base, keys, cleanup


def main(argv: list[str] | None = None) -> int:
    """Run the load test and print the table."""
    parser = argparse.ArgumentParser(prog="bench/ratelimit.py")
    parser.add_argument("--url", help="a running BizBot (default: start one)")
    parser.add_argument("--keys", help="with --url: FLOOD,LEGIT_B,LEGIT_C API keys")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args(argv)
    cleanup = None
    if args.url:
        keys = (args.keys or "").split(",")
        if len(keys) != 3 or not all(keys):
            parser.error("--url needs --keys FLOOD,LEGIT_B,LEGIT_C")
        url = args.url.rstrip("/")
    else:
        url, keys, cleanup = _own_server()
    try:
        tallies = asyncio.run(run(url, keys[0], keys[1:], args.seconds, args.concurrency))
    finally:
        if cleanup:
            cleanup()
    print(f"\n{args.seconds:g} s against {url}{PATH}, flood and bad keys {args.concurrency} "
          "concurrent each, legit keys 2 req/s each\n")  # fmt: skip
    print("| client | requests | 200 | 401 | 429 | other | req/s | latency p50 / p95 ms |")
    print("|---|---|---|---|---|---|---|---|")
    for tally in tallies:
        print(tally.row(args.seconds))
    legit_ok = all(t.statuses[200] == sum(t.statuses.values()) for t in tallies[1:3])
    flood_limited = tallies[0].statuses[429] > 0
    bad_limited = tallies[3].statuses[429] > tallies[3].statuses[401]
    print(f"\nlegit keys all 200: {legit_ok}; flood got 429: {flood_limited}; "
          f"bad keys mostly 429: {bad_limited}")  # fmt: skip
    return 0 if legit_ok and flood_limited and bad_limited else 1


if __name__ == "__main__":
    sys.exit(main())
