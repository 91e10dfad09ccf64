"""`python -m backend.worker [QUEUE …]`: an RQ worker for BizBot's queues.

A SimpleWorker runs jobs in its own process: no fork per job, one database pool and one
asyncio loop per worker (see ARCHITECTURE.md); a job's exception never stops the worker.
Each job is timed for /metrics (`MeteredWorker`).
"""

from __future__ import annotations

import argparse
import sys

from backend.core import logs
from backend.core.config import settings
from backend.core.queue import QUEUE_NAMES, get_queue
from backend.core.redis import get_redis
from backend.ops.metrics import MeteredWorker

WORKER_TTL = 60


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
    # Listeners: live push; and the inbox side's (route handoffs, SLA clocks, lead notices).
    import backend.handoff.tasks
    import backend.live
    import backend.notifications.tasks  # noqa: F401

    queues = [get_queue(n) for n in (args.queues or QUEUE_NAMES)]
    # An idle worker wakes every WORKER_TTL - 15 s to send its heartbeat, so /api/health and
    # the doctor (which call a worker gone after 90 s of silence) see idle workers as alive.
    worker = MeteredWorker(queues, connection=get_redis(), worker_ttl=WORKER_TTL)
    worker.work(burst=args.burst, with_scheduler=True, logging_level=settings.log_level)
    return 0


if __name__ == "__main__":
    sys.exit(main())
