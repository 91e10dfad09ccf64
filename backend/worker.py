"""`python -m backend.worker [QUEUE …]`: an RQ worker for BizBot's queues.

A SimpleWorker runs jobs in its own process: no fork per job, one database pool and one
asyncio loop per worker (see ARCHITECTURE.md); a job's exception never stops the worker.
Each job is timed for /metrics (`MeteredWorker`).
"""

from __future__ import annotations

import argparse
import os
import sys

from backend import listeners
from backend.ai import engine
from backend.core import logs
from backend.core.config import settings
from backend.core.queue import QUEUE_NAMES, get_queue
from backend.core.redis import get_redis
from backend.ops.metrics import MeteredWorker

WORKER_TTL = 60


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
        engine.warm_up()  # before taking jobs: the first customer does not wait for the model

    queues = [get_queue(n) for n in (args.queues or QUEUE_NAMES)]
    # An idle worker wakes every WORKER_TTL - 15 s to send its heartbeat, so /api/health and
    # the doctor (which call a worker gone after 90 s of silence) see idle workers as alive.
    worker = MeteredWorker(queues, connection=get_redis(), worker_ttl=WORKER_TTL)
    worker.work(burst=args.burst, with_scheduler=True, logging_level=settings.log_level)
    return 0


if __name__ == "__main__":
    sys.exit(main())
