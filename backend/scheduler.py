"""`python -m backend.scheduler`: runs BizBot's periodic jobs with RQ's cron scheduler.

Each tick only enqueues a job (the workers do the work), so several schedulers on several
hosts are harmless: the jobs they enqueue are idempotent.
"""

from __future__ import annotations

import sys

from rq.cron import CronScheduler

from backend.channels.tasks import purge_webhook_bodies
from backend.conversations.tasks import sweep
from backend.core import logs
from backend.core.config import settings
from backend.core.redis import get_redis
from backend.handoff.tasks import check_sla
from backend.leads.tasks import remind_follow_ups
from backend.payments.tasks import sweep_payments
from backend.privacy.tasks import purge_retention
from backend.templates.tasks import sync_all_templates

# (job, queue, seconds between runs)
PERIODIC_JOBS = (
    (sweep, "scheduled", 30),
    (check_sla, "scheduled", 60),
    (purge_webhook_bodies, "scheduled", 3600),
    (purge_retention, "scheduled", 3600),
    (sweep_payments, "scheduled", 60),
    (remind_follow_ups, "scheduled", 60),
    (sync_all_templates, "scheduled", 900),
)


def build_scheduler() -> CronScheduler:
    """A cron scheduler with every periodic job registered."""
    scheduler = CronScheduler(connection=get_redis(), logging_level=settings.log_level)
    for func, queue, seconds in PERIODIC_JOBS:
        scheduler.register(func, queue_name=queue, interval=seconds)
    return scheduler


def main() -> int:
    """Run until SIGTERM/SIGINT."""
    logs.configure()
    settings.check_production()
    build_scheduler().start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
