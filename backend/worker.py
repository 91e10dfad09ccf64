"""`python -m backend.worker [QUEUE …]`: an RQ worker for BizBot's queues.

A SimpleWorker runs jobs in its own process: no fork per job, one database pool and one
asyncio loop per worker (see ARCHITECTURE.md); a job's exception never stops the worker.
Each job is timed for /metrics (`MeteredWorker`). RQ's per-job bookkeeping is trimmed where it
costs Redis round trips or log lines and tells nobody anything (`Worker`).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time

from backend import listeners
from backend.ai import engine
from backend.core import logs
from backend.core.config import settings
from backend.core.queue import QUEUE_NAMES, get_queue
from backend.core.redis import get_redis
from backend.ops.metrics import MeteredWorker

log = logging.getLogger(__name__)

WORKER_TTL = 60
# RQ refreshes a worker's heartbeat (an HSET and an EXPIRE, two round trips) three times per
# job; the key lives WORKER_TTL + 60 s, so once every few seconds is plenty.
HEARTBEAT_EVERY = 5.0
# RQ's lines for every job (dequeued, "Job OK", "Successfully completed", result kept or
# discarded): four INFO lines per customer message. Shown only with LOG_LEVEL=DEBUG.
_PER_JOB_LINES = (
    "Worker %s: %s: %s",
    "Worker %s: %s: %s (%s)",
    "Successfully completed",
    "result discarded immediately",
    "result is kept for",
)


class _PerJobLines(logging.Filter):
    """Drops RQ's per-job INFO lines (start and end of a job, not warnings or errors)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or not isinstance(record.msg, str):
            return True
        return not any(line in record.msg for line in _PER_JOB_LINES)


class Worker(MeteredWorker):
    """MeteredWorker that sends its heartbeat at most every HEARTBEAT_EVERY seconds (unless a
    longer expiry is asked for): RQ would send three per job."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._beat_at = float("-inf")
        self._beat_until = float("-inf")

    def heartbeat(self, timeout: int | None = None, pipeline=None) -> None:
        timeout = timeout or self.worker_ttl + 60
        now = time.monotonic()
        recent = now - self._beat_at < HEARTBEAT_EVERY
        covered = self._beat_until - now >= timeout - 2 * HEARTBEAT_EVERY  # lives long enough
        if recent and covered:
            return
        super().heartbeat(timeout, pipeline)
        self._beat_at, self._beat_until = now, now + timeout


def embedding_threads(queues: list[str]) -> int | None:
    """CPU threads for this worker's query embeddings: EMBEDDING_THREADS when set, else the
    cores shared among the WORKERS_INBOUND workers (two workers on two cores: one each, so
    their OpenMP threads never fight over a core)."""
    if settings.embedding_threads or "inbound" not in queues:
        return settings.embedding_threads
    return max(1, (os.cpu_count() or 1) // max(1, settings.workers_inbound))


def main(argv: list[str] | None = None) -> int:
    """Work the named queues (all by default) until SIGTERM/SIGINT, or until empty (--burst)."""
    parser = argparse.ArgumentParser(prog="python -m backend.worker")
    parser.add_argument(
        "queues",
        nargs="*",
        choices=[*QUEUE_NAMES, []],
        metavar="QUEUE",
        help=f"queues to work, in priority order (default: {' '.join(QUEUE_NAMES)})",
    )
    parser.add_argument("--burst", action="store_true", help="stop when the queues are empty")
    args = parser.parse_args(argv)
    logs.configure()
    settings.check_production()
    listeners.install()  # before the first job: a broken listener module shows at start
    settings.embedding_threads = embedding_threads(args.queues or list(QUEUE_NAMES))
    if "inbound" in (args.queues or QUEUE_NAMES):
        started = time.perf_counter()
        engine.warm_up()  # before taking jobs: the first customer does not wait for the model
        log.info("AI engine loaded in %.1f s", time.perf_counter() - started)

    queues = [get_queue(n) for n in (args.queues or QUEUE_NAMES)]
    # An idle worker wakes every WORKER_TTL - 15 s to send its heartbeat, so /api/health and
    # the doctor (which call a worker gone after 90 s of silence) see idle workers as alive.
    if settings.log_level.upper() != "DEBUG":
        logging.getLogger("rq.worker").addFilter(_PerJobLines())
    worker = Worker(queues, connection=get_redis(), worker_ttl=WORKER_TTL)
    worker.work(burst=args.burst, with_scheduler=True, logging_level=settings.log_level)
    return 0


if __name__ == "__main__":
    sys.exit(main())
