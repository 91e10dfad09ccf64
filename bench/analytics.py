"""Overview analytics benchmark: each query's latency over 1,000,000 messages in 90 days.

    .venv/bin/python bench/analytics.py                     # 1,000,000 messages
    .venv/bin/python bench/analytics.py --messages 200000   # quicker

Runs against the embedded PostgreSQL in a throwaway database `bizbot_bench_*` (dropped at the
end). Rows are made with generate_series in SQL and stored in time order, as a live database
stores them: one business with `--messages` messages (10 per conversation, customer and AI
turns, one AI reply in five below the confidence threshold, every 7th conversation handed
over to an agent), plus a second business with a tenth as many, so every query also has to
skip another tenant's rows.
Times are the median of `--runs` runs per query, for the last 30 and 90 days, for both
businesses, first with the analytics indexes of migration e9analytics1 and then without them.
Prints JSON and Markdown tables for bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from datetime import timedelta
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
from backend.core.config import settings  # noqa: E402
from backend.core.embedded import embedded_database_url  # noqa: E402

MESSAGES_PER_CONVERSATION = 10
INDEXES = {
    "ix_message_business_created": "message (business_id, created_at)",
    "ix_conversation_business_created": "conversation (business_id, created_at)",
}


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


_FILL = """
INSERT INTO contact (business_id, attributes, name, created_at, updated_at)
SELECT :b, '{}'::json, 'Customer ' || g, now(), now() FROM generate_series(1, :contacts) g;

INSERT INTO conversation (business_id, contact_id, channel_integration_id, status, labels,
                          unread_count, ai_turns, priority, created_at, updated_at,
                          csat_score, resolved_at)
SELECT :b, (SELECT min(id) FROM contact WHERE business_id = :b) + (g % :contacts),
       (SELECT min(id) FROM channelintegration WHERE business_id = :b) + (g % 3),
       CASE WHEN g % 3 = 0 THEN 'resolved' ELSE 'ai' END, '[]'::json, 0, 4, 'normal',
       t, t, CASE WHEN g % 5 = 0 THEN 1 + (g / 5) % 5 END,
       CASE WHEN g % 3 = 0 THEN t + interval '30 minutes' END
FROM (SELECT g, now() - ((g * 7919) % 90000) * interval '86.4 seconds' AS t
      FROM generate_series(1, :conversations) g) r
ORDER BY t;

INSERT INTO message (business_id, conversation_id, direction, sender_type, content_type,
                     attachments, delivery_status, is_private_note, ai_sources, text,
                     ai_confidence, created_at, updated_at)
SELECT c.business_id, c.id,
       CASE WHEN k % 2 = 1 THEN 'inbound' ELSE 'outbound' END,
       CASE WHEN k % 2 = 1 THEN 'customer'
            WHEN c.id % 7 = 0 AND k >= 6 THEN 'agent' ELSE 'ai' END,
       'text', '[]'::json, 'delivered', false, '[]'::json,
       CASE WHEN k % 2 = 1 THEN 'Question number ' || ((c.id * k) % 300) || '?'
            ELSE 'An answer.' END,
       CASE WHEN k % 2 = 0 THEN CASE WHEN (c.id * 31 + k) % 100 < 20 THEN 0.3 ELSE 0.8 END
       END,
       c.created_at + k * interval '2 minutes', c.created_at
FROM conversation c, generate_series(1, :per) k
WHERE c.business_id = :b
ORDER BY c.created_at + k * interval '2 minutes';

INSERT INTO handoff (business_id, conversation_id, reason, requested_by, sla_events,
                     created_at, updated_at)
SELECT c.business_id, c.id,
       (ARRAY['low_confidence', 'customer_request', 'keyword', 'max_turns'])[1 + c.id % 4],
       'ai', '{}'::json, c.created_at + interval '9 minutes', c.created_at
FROM conversation c WHERE c.business_id = :b AND c.id % 7 = 0;
"""


def _fill(business_id: int, messages: int) -> None:
    conversations = max(1, messages // MESSAGES_PER_CONVERSATION)
    params = {"b": business_id, "conversations": conversations, "per": MESSAGES_PER_CONVERSATION,
              "contacts": max(1, conversations // 5)}  # fmt: skip
    with core_db.get_engine().begin() as conn:
        for statement in _FILL.split(";\n"):
            if statement.strip():
                conn.execute(sa.text(statement), params)


def _make_business(name: str) -> int:
    from backend.core.db import session_scope
    from backend.models import Business, ChannelIntegration

    with session_scope() as session:
        business = Business(name=name, slug=name.lower().replace(" ", "-"))
        session.add(business)
        session.flush()
        for kind in ("widget", "whatsapp", "telegram"):
            session.add(ChannelIntegration(business_id=business.id, kind=kind, name=kind))
        return business.id


def _time(fn, runs: int) -> float:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(samples), 1)


def _queries(s, actor, scope: dict, start, end, now) -> dict:
    from backend.analytics import repository as repo
    from backend.analytics import service as analytics

    return {
        "summary (counts, AI-resolved, CSAT, p50/p90 times)":
            lambda: repo.summary(s, **scope, now=now),
        "conversations per day by channel":
            lambda: repo.daily_by_channel(s, **scope, tz="UTC"),
        "handoff reasons": lambda: repo.handoff_reasons(s, **scope),
        "top unanswered questions":
            lambda: repo.unanswered_questions(s, **scope, threshold=0.55, limit=10),
        "revenue": lambda: repo.paid_revenue(s, **scope),
        "whole Overview (report)":
            lambda: analytics.report(s, actor=actor, start=start, end=end),
        "CSV export": lambda: analytics.daily_csv(s, actor=actor, start=start, end=end),
    }  # fmt: skip


def _measure(business_id: int, runs: int) -> dict[str, dict[str, float]]:
    from backend.analytics import service as analytics
    from backend.auth.permissions import Actor
    from backend.core.db import session_scope
    from backend.models import Role
    from backend.models.base import utcnow

    actor = Actor(user_id=0, business_id=business_id, role=Role.OWNER)
    out: dict[str, dict[str, float]] = {}
    for days in (30, 90):
        with session_scope() as s:
            end = analytics.business_today(s, actor=actor)
            start = end - timedelta(days=days - 1)
            _, lo, hi = analytics._period(s, actor=actor, start=start, end=end, channel=None)
            scope = {"business_id": business_id, "start": lo, "end": hi, "channel": None}
            queries = _queries(s, actor, scope, start, end, utcnow())
            for name, fn in queries.items():
                fn()  # warm the cache once
                out.setdefault(name, {})[f"{days}d"] = _time(fn, runs)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    admin, name = _setup_database()
    try:
        t0 = time.perf_counter()
        main_id = _make_business("Bench Bakery")
        _fill(main_id, args.messages)
        other_id = _make_business("Other Tenant")
        _fill(other_id, args.messages // 10)
        with core_db.get_engine().connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("VACUUM ANALYZE"))
            counts = conn.execute(sa.text(
                "SELECT count(*) FILTER (WHERE business_id = :b), count(*) FROM message"
            ), {"b": main_id}).one()  # fmt: skip
        load_s = round(time.perf_counter() - t0, 1)
        with_ix = _measure(main_id, args.runs)
        small_with_ix = _measure(other_id, args.runs)
        with core_db.get_engine().begin() as conn:
            for index in INDEXES:
                conn.execute(sa.text(f"DROP INDEX {index}"))
            conn.execute(sa.text("ANALYZE"))
        without_ix = _measure(main_id, args.runs)
        small_without_ix = _measure(other_id, args.runs)
    finally:
        core_db.get_engine().dispose()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    result = {"messages": counts[0], "all_messages": counts[1], "load_seconds": load_s,
              "runs": args.runs, "with_indexes_ms": with_ix,
              "without_indexes_ms": without_ix, "small_tenant_with_indexes_ms": small_with_ix,
              "small_tenant_without_indexes_ms": small_without_ix}  # fmt: skip
    print(json.dumps(result))
    print(f"\n{counts[0]:,} messages of the business ({counts[1]:,} in all), median of "
          f"{args.runs} runs, ms:\n")  # fmt: skip
    print("| query | 30 days | 90 days | 30 days, no indexes | 90 days, no indexes |")
    print("|---|---|---|---|---|")
    for query, t in with_ix.items():
        w = without_ix[query]
        print(f"| {query} | {t['30d']} | {t['90d']} | {w['30d']} | {w['90d']} |")
    print(f"\nThe second business ({args.messages // 10:,} messages in the same tables):\n")
    print("| query | 30 days | 90 days | 30 days, no indexes | 90 days, no indexes |")
    print("|---|---|---|---|---|")
    for query, t in small_with_ix.items():
        w = small_without_ix[query]
        print(f"| {query} | {t['30d']} | {t['90d']} | {w['30d']} | {w['90d']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
