"""`GET /api/health`: is the database, Redis and at least one worker alive."""

from __future__ import annotations

import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from backend.core.db import get_engine
from backend.core.redis import get_redis
from backend.ops.metrics import alive_workers


def _short(exc: Exception) -> str:
    return f"error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:300]


def check_database() -> str:
    """ "ok" when PostgreSQL answers and has pgvector, else the error."""
    try:
        with get_engine().connect() as conn:
            found = conn.execute(
                sa.text("SELECT 1 FROM pg_extension WHERE extname = 'vector'")
            ).first()
        return "ok" if found else "error: the pgvector extension is not installed"
    except Exception as exc:  # Any failure is reported, never raised, by a health check.
        return _short(exc)


def check_redis() -> str:
    """ "ok" when Redis answers PING, else the error."""
    try:
        get_redis().ping()
        return "ok"
    except Exception as exc:
        return _short(exc)


def check_worker() -> str:
    """ "ok" when an RQ worker has sent a heartbeat recently, else why not."""
    try:
        alive = alive_workers()
    except Exception as exc:
        return _short(exc)
    if alive:
        return "ok"
    return (
        "error: no RQ worker is running; `make run` starts one, or run `python -m backend.worker`"
    )


def health_report() -> dict[str, str]:
    """The three checks by name."""
    return {"database": check_database(), "redis": check_redis(), "worker": check_worker()}


async def health(request: Request) -> JSONResponse:
    """200 with every check "ok", else 503 with the failing checks' errors."""
    report = await run_in_threadpool(health_report)
    ok = all(v == "ok" for v in report.values())
    return JSONResponse(
        {"status": "ok" if ok else "degraded", **report}, status_code=200 if ok else 503
    )
