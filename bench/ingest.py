"""Ingest benchmark: WhatsApp webhooks accepted per second, and messages answered per second.

    .venv/bin/python bench/ingest.py                      # 20 s per phase, 1, 2 and 4 workers
    .venv/bin/python bench/ingest.py --seconds 5 --messages 200 --workers 1 2

Phase 1 posts signed WhatsApp-shaped webhooks (a new message id each, every 20th a redelivery)
to BizBot's real route `/webhooks/whatsapp/{id}` on a granian server (the ASGI server Reflex
runs in production), with no worker running, and to a bare route in the same server that
answers 200 and does nothing; it reports accepted/s and p50/p99 accept latency for both and
the ratio full/bare (the pipeline's overhead), then counts the stored events: exactly one per
distinct message id, none lost, none doubled.

Phase 2 starts 1, 2 and 4 RQ workers on the inbound queue and posts `--messages` webhooks
from different customers; it measures from the first post to the last AI reply stored in the
outbox (offline answerer over a small knowledge base), and again counts: one customer message
and one reply per webhook.

Runs against a throwaway database in the embedded PostgreSQL and a throwaway embedded Redis.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cpu_usage  # noqa: E402  (bench/, beside this script)

APP_SECRET = "bench-app-secret-0123456789"
PHONE_ID = "106540352242922"
CONCURRENCY = 32
# What `reflex run --env prod` starts with Redis configured: GRANIAN_WORKERS, else 2 x cores + 1
# (at most 8) granian processes.
SERVER_WORKERS = int(os.environ.get("GRANIAN_WORKERS") or min((os.cpu_count() or 1) * 2 + 1, 8))
# The per-integration webhook limit would cap the benchmark, not the pipeline.
UNLIMITED = "10000000/minute"


def app():
    """The server side (granian --factory): BizBot's routes plus a bare route that does nothing."""
    from starlette.responses import Response
    from starlette.routing import Route

    from backend.api import create_app

    async def bare(request):
        await request.body()
        return Response(b'{"ok": true}', media_type="application/json")

    server = create_app()
    server.router.routes.append(Route("/bare", bare, methods=["POST"]))
    return server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _body(message_id: str, sender: str, text: str) -> bytes:
    """A WhatsApp Cloud API `messages` webhook with one text message."""
    return json.dumps({
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550000000", "phone_number_id": PHONE_ID},
            "contacts": [{"profile": {"name": f"Customer {sender}"}, "wa_id": sender}],
            "messages": [{"from": sender, "id": message_id, "timestamp": str(int(time.time())),
                          "type": "text", "text": {"body": text}}],
        }}]}],
    }).encode()  # fmt: skip


async def _post_all(url: str, bodies: list[bytes], seconds: float | None) -> list[float]:
    """POST bodies with CONCURRENCY in flight (cycling for `seconds` if given); latencies in ms."""
    import httpx

    from backend.channels import meta

    latencies: list[float] = []
    failures: list[int] = []
    deadline = time.perf_counter() + seconds if seconds else None
    index = 0

    async def one(client: httpx.AsyncClient) -> None:
        nonlocal index
        while True:
            if deadline is not None and time.perf_counter() >= deadline:
                return
            if deadline is None and index >= len(bodies):
                return
            body = bodies[index % len(bodies)]
            index += 1
            headers = {"X-Hub-Signature-256": meta.sign(body, APP_SECRET),
                       "Content-Type": "application/json"}  # fmt: skip
            start = time.perf_counter()
            resp = await client.post(url, content=body, headers=headers)
            latencies.append((time.perf_counter() - start) * 1000)
            if resp.status_code != 200:
                failures.append(resp.status_code)

    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        await asyncio.gather(*(one(client) for _ in range(CONCURRENCY)))
    if failures:
        raise SystemExit(f"{len(failures)} requests failed, e.g. HTTP {failures[0]}")
    return latencies


# wrk (C, epoll: a few % of one core at these rates) cycles through pre-signed bodies, one a line
# "signature<TAB>body"; `done` prints one JSON line the benchmark reads.
WRK_SCRIPT = r"""
sigs, bodies, n, i, bad, first_bad = {}, {}, 0, 0, 0, 0  -- globals: done() reads them
local path = os.getenv("BENCH_PATH")
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  for line in io.lines(os.getenv("BENCH_BODIES")) do
    local tab = line:find("\t", 1, true)
    n = n + 1
    sigs[n], bodies[n] = line:sub(1, tab - 1), line:sub(tab + 1)
  end
end
function request()
  i = i + 1
  local k = (i - 1) % n + 1
  return wrk.format("POST", path, {["Content-Type"] = "application/json",
                                   ["X-Hub-Signature-256"] = sigs[k]}, bodies[k])
end
function response(status, headers, body)
  if status ~= 200 then
    bad = bad + 1
    if first_bad == 0 then first_bad = status end
  end
end
function done(summary, latency, requests)
  local sent, bad_total, first = 0, 0, 0
  for _, t in ipairs(threads) do
    sent = sent + t:get("i")
    bad_total = bad_total + t:get("bad")
    if first == 0 then first = t:get("first_bad") end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"completed": %d, "duration_us": %d, "sent": %d, "bad": %d, "first_bad": %d, ' ..
    '"socket_errors": %d, "p50_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, sent, bad_total, first,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""


def _wrk(url: str, bodies: list[bytes], seconds: float, connections: int) -> dict:
    """Run wrk against `url` for `seconds`, cycling through `bodies`; its counts and latencies."""
    from backend.channels import meta

    workdir = Path(tempfile.mkdtemp(prefix="bizbot-wrk-"))
    script, data = workdir / "post.lua", workdir / "bodies.tsv"
    script.write_text(WRK_SCRIPT)
    with data.open("wb") as out:
        for body in bodies:
            out.write(meta.sign(body, APP_SECRET).encode() + b"\t" + body + b"\n")
    base, _, path = url.partition("://")[2].partition("/")
    env = {**os.environ, "BENCH_PATH": "/" + path, "BENCH_BODIES": str(data)}
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
           "-s", str(script), f"http://{base}/"]  # fmt: skip
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH ")), None)
    if done.returncode or line is None:
        raise SystemExit(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    result = json.loads(line.removeprefix("BENCH "))
    if result["bad"] or result["socket_errors"]:
        raise SystemExit(
            f"wrk: {result['bad']} non-200 answers (first HTTP {result['first_bad']}), "
            f"{result['socket_errors']} socket errors"
        )
    return result


def _count(sql: str, **params) -> int:
    import sqlalchemy as sa

    from backend.core.db import session_scope

    with session_scope() as session:
        return session.execute(sa.text(sql), params).scalar_one()


def accept_phase(
    base: str, integration_id: int, business_id: int, seconds: float, client: str,
    connections: int, server_pid: int, profile: str | None = None,
) -> dict:  # fmt: skip
    """Webhooks accepted per second on the full route and on the bare one."""
    from backend.core.queue import get_queue

    run = secrets.token_hex(3)
    # Every 20th body repeats the one before it: a redelivery, stored once. wrk cycles through
    # its bodies, so it gets more than it can send in `seconds` (a wrap would only add repeats).
    count = 200_000 if client == "python" else max(20_000, int(4000 * seconds))
    bodies = []
    for i in range(count):
        n = i - 1 if i % 20 == 19 else i
        bodies.append(_body(f"wamid.{run}.{n}", f"2547{n % 5000:08d}", "what time do you open?"))
    full_url = f"{base}/webhooks/whatsapp/{integration_id}"
    asyncio.run(_post_all(f"{base}/bare", bodies[:500], None))  # warm up both
    warm = [_body(f"wamid.warm{run}.{i}", f"2548{i:08d}", "hello") for i in range(500)]
    asyncio.run(_post_all(full_url, warm, None))
    jobs_before = get_queue("inbound").count
    if client == "wrk":
        cpu0 = _cpu(server_pid)
        bare_run = _wrk(f"{base}/bare", bodies, seconds, connections)
        cpu1 = _cpu(server_pid)
        with _profiled(profile, server_pid, seconds):
            full_run = _wrk(full_url, bodies, seconds, connections)
        cpu2 = _cpu(server_pid)
        sent = full_run["sent"]
        figures = {}
        for name, r in (("full", full_run), ("bare", bare_run)):
            figures[f"{name}_per_s"] = round(r["completed"] / (r["duration_us"] / 1e6), 1)
            figures[f"{name}_p50_ms"] = round(r["p50_us"] / 1000, 1)
            figures[f"{name}_p99_ms"] = round(r["p99_us"] / 1000, 1)
        answered = full_run["completed"]
        bare_done = bare_run["completed"]
        figures["cpu_ms_per_webhook_bare"] = cpu_usage.ms_per_request(cpu0, cpu1, bare_done)
        figures["cpu_ms_per_webhook_full"] = cpu_usage.ms_per_request(cpu1, cpu2, answered)
    else:
        bare = asyncio.run(_post_all(f"{base}/bare", bodies, seconds))
        start = time.perf_counter()
        full = asyncio.run(_post_all(full_url, bodies, seconds))
        elapsed = time.perf_counter() - start
        sent = answered = len(full)
        figures = {
            "full_per_s": round(sent / elapsed, 1),
            "full_p50_ms": round(statistics.median(full), 1),
            "full_p99_ms": round(_pct(full, 0.99), 1),
            "bare_per_s": round(len(bare) / seconds, 1),
            "bare_p50_ms": round(statistics.median(bare), 1),
            "bare_p99_ms": round(_pct(bare, 0.99), 1),
        }
    distinct = len({bodies[i % len(bodies)] for i in range(sent)})
    pattern = f"wamid.{run}.%"
    stored = _settled(
        "SELECT count(*) FROM inboundevent WHERE business_id = :b AND external_id LIKE :p",
        b=business_id, p=pattern,
    )  # fmt: skip
    doubled = _count(
        "SELECT count(*) - count(DISTINCT external_id) FROM inboundevent "
        "WHERE business_id = :b AND external_id LIKE :p", b=business_id, p=pattern,
    )  # fmt: skip
    jobs = get_queue("inbound").count - jobs_before
    return {
        "client": f"wrk -t1 -c{connections}" if client == "wrk" else f"httpx x{connections}",
        **figures,
        "ratio": round(figures["full_per_s"] / figures["bare_per_s"], 3),
        "sent": sent,
        "answered_200": answered,
        "distinct": distinct,
        "stored": stored,
        "doubled": doubled,
        "jobs_enqueued": jobs,
        # wrk stops with requests in flight: those got no answer, so they may or may not be
        # stored (the platform would redeliver them); every answered one must be stored once.
        "in_flight_at_stop": sent - answered,
        "lost": max(0, distinct - (sent - answered) - stored),
        "doubled_or_extra_jobs": doubled + max(0, stored - distinct) + abs(jobs - stored),
    }


def _cpu(server_pid: int) -> dict[str, float]:
    """CPU seconds so far of the server's processes, this PostgreSQL and Redis, and wrk."""
    from backend.core.config import settings

    return cpu_usage.snapshot(settings.data_dir, {"server": [server_pid]})


@contextlib.contextmanager
def _profiled(profile: str | None, server_pid: int, seconds: float):
    """py-spy samples the server into `profile` (collapsed stacks) while the block runs."""
    if profile is None:
        yield
        return
    pid, out = server_pid, profile
    spy = subprocess.Popen(
        ["py-spy", "record", "--pid", str(pid), "--subprocesses", "--nonblocking",
         "--format", "raw", "--rate", "200", "--duration", str(max(1, round(seconds))),
         "--output", out], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield
    finally:
        spy.wait(timeout=60)


def _settled(sql: str, **params) -> int:
    """A count once it stops changing (requests wrk left in flight finish on the server)."""
    last = -1
    while (now := _count(sql, **params)) != last:
        last = now
        time.sleep(0.5)
    return now


def e2e_phase(base: str, integration_id: int, business_id: int, workers: int, n: int) -> dict:
    """Webhook → AI reply in the outbox, per second, with `workers` inbound workers."""
    run = secrets.token_hex(3)
    env = {**os.environ, "DATABASE_URL": os.environ["DATABASE_URL"],
           "REDIS_URL": os.environ["REDIS_URL"], "PYTHONWARNINGS": "ignore"}  # fmt: skip
    if workers > 1:  # one embedding thread each: no oversubscription of the two cores
        env["EMBEDDING_THREADS"] = "1"
    procs = [
        subprocess.Popen([sys.executable, "-m", "backend.worker", "inbound"], cwd=ROOT, env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(workers)
    ]  # fmt: skip
    url = f"{base}/webhooks/whatsapp/{integration_id}"
    try:
        warm = [_body(f"wamid.{run}.w{i}", f"2559{i:08d}", "hello") for i in range(4 * workers)]
        asyncio.run(_post_all(url, warm, None))
        _wait_replies(business_id, f"wamid.{run}.w%", len(warm))
        bodies = [
            _body(f"wamid.{run}.{i}", f"2556{i:08d}", "what time do you open?") for i in range(n)
        ]
        start = time.perf_counter()
        asyncio.run(_post_all(url, bodies, None))
        _wait_replies(business_id, f"wamid.{run}.%", n + len(warm))
        elapsed = time.perf_counter() - start
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=60)
    pattern = f"wamid.{run}.%"
    inbound = _count(
        "SELECT count(*) FROM message WHERE business_id = :b AND direction = 'inbound' "
        "AND external_id LIKE :p", b=business_id, p=pattern,
    )  # fmt: skip
    return {
        "workers": workers,
        "messages": n,
        "answered_per_s": round(n / elapsed, 1),
        "customer_messages_stored": inbound - 4 * workers,
        "lost_or_doubled": inbound - 4 * workers - n,
    }


def _wait_replies(business_id: int, pattern: str, expected: int, timeout: float = 900) -> None:
    """Until every event matching `pattern` is done (its reply is in the outbox)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = _count(
            "SELECT count(*) FROM inboundevent WHERE business_id = :b AND external_id LIKE :p "
            "AND status = 'done'", b=business_id, p=pattern,
        )  # fmt: skip
        if done >= expected:
            return
        time.sleep(0.05)
    raise SystemExit(f"only {done} of {expected} messages answered after {timeout:.0f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2, 4])
    parser.add_argument(
        "--client", choices=("auto", "wrk", "python"), default="auto",
        help="load generator: wrk when on PATH (auto), else the asyncio + httpx client",
    )  # fmt: skip
    parser.add_argument("--connections", type=int, default=CONCURRENCY)
    parser.add_argument(
        "--profile", metavar="FILE",
        help="sample the server with py-spy during the full run (collapsed stacks into FILE)",
    )  # fmt: skip
    parser.add_argument(
        "--server-workers", type=int, default=SERVER_WORKERS,
        help="granian worker processes (Reflex prod: GRANIAN_WORKERS, else 2 x cores + 1)",
    )  # fmt: skip
    args = parser.parse_args()
    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
    elif client == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk is not on PATH: `apt-get install wrk`, or use --client python")

    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    os.environ["DATA_DIR"] = data_dir = tempfile.mkdtemp(prefix="bizbot-ingest-")
    # Registered first, so it runs last: after the embedded PostgreSQL stopped at exit.
    atexit.register(shutil.rmtree, data_dir, ignore_errors=True)
    os.environ["DATABASE_URL"] = os.environ["REDIS_URL"] = ""
    import psycopg
    import sqlalchemy as sa

    from backend.core import db as core_db
    from backend.core import migrate
    from backend.core import redis as core_redis
    from backend.core.config import settings
    from backend.core.embedded import EmbeddedRedis, embedded_database_url

    redis_server = EmbeddedRedis().start()
    settings.redis_url = redis_server.url
    core_redis.get_redis.cache_clear()
    server_url = embedded_database_url()
    name = f"bizbot_bench_{secrets.token_hex(3)}"
    admin = core_db.sqlalchemy_url(server_url).replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = sa.engine.make_url(core_db.sqlalchemy_url(server_url)).set(database=name)
    settings.database_url = url.render_as_string(hide_password=False)
    os.environ["DATABASE_URL"], os.environ["REDIS_URL"] = settings.database_url, redis_server.url
    core_db.get_engine.cache_clear()
    with core_db.get_engine().begin() as conn:
        conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS vector"))
    migrate.upgrade()

    server = None
    try:
        business_id, integration_id = _setup()
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "granian", "--interface", "asgi", "--factory",
             "--host", "127.0.0.1", "--port", str(port), "--workers", str(args.server_workers),
             "--log-level", "warning", "--working-dir", str(ROOT / "bench"), "ingest:app"],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), "WEBHOOK_RATE_LIMIT": UNLIMITED},
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        _wait_up(base)
        accept = accept_phase(
            base, integration_id, business_id, args.seconds, client, args.connections,
            server.pid, args.profile,
        )  # fmt: skip
        print(json.dumps({"phase": "accept", **accept}), flush=True)
        core_redis.get_redis().flushdb()
        e2e = []
        for workers in args.workers:
            result = e2e_phase(base, integration_id, business_id, workers, args.messages)
            print(json.dumps({"phase": "e2e", **result}), flush=True)
            e2e.append(result)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        core_db.get_engine().dispose()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        redis_server.stop()

    print(f"\nclient: {accept['client']}; server: granian, {args.server_workers} worker(s)")
    print("\n| route | webhooks/s | p50 | p99 |")
    print("|---|---|---|---|")
    print(f"| full `/webhooks/whatsapp/{{id}}` | {accept['full_per_s']} | "
          f"{accept['full_p50_ms']} ms | {accept['full_p99_ms']} ms |")  # fmt: skip
    print(f"| bare (200, nothing done) | {accept['bare_per_s']} | "
          f"{accept['bare_p50_ms']} ms | {accept['bare_p99_ms']} ms |")  # fmt: skip
    print(
        f"\nratio full/bare {accept['ratio']}; {accept['sent']} sent, {accept['distinct']} "
        f"distinct, {accept['stored']} stored, {accept['jobs_enqueued']} jobs enqueued, "
        f"{accept['in_flight_at_stop']} unanswered when the client stopped; lost: "
        f"{accept['lost']}, doubled: {accept['doubled_or_extra_jobs']}"
    )
    for route in ("full", "bare"):
        if f"cpu_ms_per_webhook_{route}" in accept:
            print(f"CPU ms per webhook, {route}: {accept[f'cpu_ms_per_webhook_{route}']}")
    print("\n| workers | webhook → reply in outbox, msg/s | lost or doubled |")
    print("|---|---|---|")
    for r in e2e:
        print(f"| {r['workers']} | {r['answered_per_s']} | {r['lost_or_doubled']} |")
    return 0


def _setup() -> tuple[int, int]:
    """A business with a little knowledge and a WhatsApp number; (business id, integration id)."""
    from backend.channels.service import create_integration
    from backend.core.db import session_scope
    from backend.knowledge import service as knowledge
    from backend.knowledge import tasks as knowledge_tasks
    from backend.models import AIRule
    from backend.tenants.service import create_business

    rows = [
        {"id": "hours", "question": "What time do you open?", "answer": "We open at 7:00."},
        {"id": "where", "question": "Where are you?", "answer": "12 Market Street."},
        {"id": "deliver", "question": "Do you deliver?", "answer": "Yes, within 10 km."},
    ]
    with session_scope() as session:
        business = create_business(session, name="Ingest bench")
        session.add(AIRule(business_id=business.id, confidence_threshold=0.0, max_ai_turns=0))
        integration = create_integration(
            session, business_id=business.id, kind="whatsapp", name="bench",
            credentials={"phone_number_id": PHONE_ID, "waba_id": "102290129340398",
                         "access_token": "bench", "app_secret": APP_SECRET,
                         "verify_token": "bench"},
        )  # fmt: skip
        knowledge.import_rows(session, business_id=business.id, rows=rows, enqueue=False)
        ids = business.id, integration.id
    with session_scope() as session:
        pending = knowledge.sources_to_embed(session, business_id=ids[0])
    knowledge_tasks.embed_sources(pending)
    return ids


def _wait_up(base: str, timeout: float = 120) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.post(f"{base}/bare", content=b"{}", timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit("the granian server did not start")


if __name__ == "__main__":
    sys.exit(main())
