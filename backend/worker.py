"""`python -m backend.worker [QUEUE …]`: an RQ worker for BizBot's queues.

A SimpleWorker runs jobs in its own process: no fork per job, one database pool and one
asyncio loop per worker (see ARCHITECTURE.md); a job's exception never stops the worker.
"""

from __future__ import annotations

import logging
import sys

from rq import SimpleWorker

from backend.core.config import settings
from backend.core.queue import QUEUE_NAMES, get_queue
from backend.core.redis import get_redis


def main(argv: list[str] | None = None) -> int:
    """Work the named queues (all of them by default) until SIGTERM/SIGINT."""
    names = (argv if argv is not None else sys.argv[1:]) or list(QUEUE_NAMES)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(name)s %(message)s")
    settings.check_production()
    worker = SimpleWorker([get_queue(n) for n in names], connection=get_redis())
    worker.work(with_scheduler=True, logging_level=settings.log_level)
    return 0


if __name__ == "__main__":
    sys.exit(main())
