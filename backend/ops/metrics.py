"""Prometheus metrics: what every process counts, and what `/metrics` reads at scrape time.

Counters and histograms are `prometheus_client` objects; the processes `make run` starts share
them through the library's multiprocess mode (`PROMETHEUS_MULTIPROC_DIR`, set by the
supervisor), so `/metrics` on the web process also shows what the workers did. Queue depths,
ages and workers are read from Redis when scraped, so they are right whoever asks.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import structlog
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY, Collector
from rq import SimpleWorker
from rq.job import Job
from rq.queue import Queue
from rq.registry import StartedJobRegistry

from backend.core import logs
from backend.core.queue import QUEUE_NAMES, get_queue
from backend.core.redis import get_redis

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
WORKER_STALE_SECONDS = 90

WEBHOOK_REQUESTS = Counter(
    "bizbot_webhook_requests",
    "Channel webhook requests, by channel and HTTP status.",
    ["channel", "status"],
)
JOB_SECONDS = Histogram(
    "bizbot_job_duration_seconds",
    "How long background jobs ran, by queue, job and outcome.",
    ["queue", "job", "outcome"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
AI_REPLY_SECONDS = Histogram(
    "bizbot_ai_reply_seconds",
    "Time the AI engine took to decide a reply, by answerer (offline or llm).",
    ["answerer"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
AI_CONFIDENCE = Histogram(
    "bizbot_ai_confidence",
    "Confidence of the AI's replies (0..1).",
    buckets=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0),
)
HANDOFFS = Counter("bizbot_handoffs", "Conversations handed to a person, by reason.", ["reason"])
SEND_FAILURES = Counter(
    "bizbot_send_failures", "Outbound messages a channel failed to send, by channel.", ["channel"]
)
PAYMENT_WEBHOOKS = Counter(
    "bizbot_payment_webhooks",
    "Payment provider webhooks, by provider and result (paid, ignored, replay, invalid, …).",
    ["provider", "result"],
)


class MeteredWorker(SimpleWorker):
    """An RQ SimpleWorker that times every job into `bizbot_job_duration_seconds`, and notes on
    a failed job the business it was working for (job.meta["business_id"], for the System page).
    """

    def handle_job_failure(
        self,
        job: Job,
        queue: Queue,
        started_job_registry: StartedJobRegistry | None = None,
        exc_string: str = "",
    ) -> None:
        """Keep the business id the job bound for its log lines (`logs.bind`), then fail it as
        RQ does."""
        # Same thread and context as the job (SimpleWorker): its binds are still in place.
        business_id = structlog.contextvars.get_contextvars().get("business_id")
        if business_id is not None:
            try:
                job.meta["business_id"] = business_id
                job.save_meta()
            except Exception:  # noqa: S110 - the job is still failed; only the column stays empty
                pass
        super().handle_job_failure(
            job, queue, started_job_registry=started_job_registry, exc_string=exc_string
        )

    def perform_job(self, job: Job, queue: Queue) -> bool:
        """Run the job as RQ does, noting how long it took and whether it succeeded."""
        start = time.perf_counter()
        ok = False
        logs.bind(job_id=job.id, queue=queue.name)
        try:
            ok = super().perform_job(job, queue)
            return ok
        finally:
            logs.clear()
            JOB_SECONDS.labels(
                queue=queue.name,
                job=(job.func_name or "?").rsplit(".", 1)[-1][:40],
                outcome="ok" if ok else "failed",
            ).observe(time.perf_counter() - start)


class QueueCollector(Collector):
    """Queue depth, age of the oldest waiting job, failed jobs and live workers, from Redis."""

    def collect(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily("bizbot_queue_depth", "Jobs waiting, by queue.", labels=["queue"])
        age = GaugeMetricFamily(
            "bizbot_queue_oldest_age_seconds",
            "Seconds the oldest waiting job has waited, by queue (0 when empty).",
            labels=["queue"],
        )
        failed = GaugeMetricFamily(
            "bizbot_queue_failed_jobs", "Jobs failed after their last retry.", labels=["queue"]
        )
        workers = GaugeMetricFamily(
            "bizbot_workers_alive", "RQ workers with a heartbeat in the last 90 s."
        )
        up = GaugeMetricFamily("bizbot_redis_up", "1 when Redis answered this scrape.")
        try:
            for name, count, oldest, failures in queue_stats():
                depth.add_metric([name], count)
                age.add_metric([name], oldest)
                failed.add_metric([name], failures)
            workers.add_metric([], alive_workers())
            up.add_metric([], 1)
        except Exception:  # A scrape reports Redis down; it never fails because of it.
            up.add_metric([], 0)
            yield up
            return
        yield from (depth, age, failed, workers, up)


def queue_stats() -> list[tuple[str, int, float, int]]:
    """(queue, waiting jobs, seconds the oldest has waited, failed jobs) for every queue."""
    from rq.registry import FailedJobRegistry

    from backend.models.base import utcnow

    now = utcnow()
    stats = []
    for name in QUEUE_NAMES:
        queue = get_queue(name)
        oldest = 0.0
        ids = queue.get_job_ids(0, 0)
        job = queue.fetch_job(ids[0]) if ids else None
        if job is not None and job.enqueued_at is not None:
            enqueued = job.enqueued_at.replace(tzinfo=now.tzinfo)
            oldest = max(0.0, (now - enqueued).total_seconds())
        stats.append((name, queue.count, oldest, FailedJobRegistry(queue=queue).count))
    return stats


def alive_workers() -> int:
    """How many RQ workers sent a heartbeat recently."""
    from rq import Worker

    from backend.models.base import utcnow

    now = utcnow()
    return sum(
        1
        for w in Worker.all(connection=get_redis())
        if w.last_heartbeat
        and (now - w.last_heartbeat.replace(tzinfo=now.tzinfo)).total_seconds()
        < WORKER_STALE_SECONDS
    )


_QUEUES = QueueCollector()


def exposition() -> tuple[bytes, str]:
    """The Prometheus text of every process's metrics plus the queue gauges, and its type."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        registry.register(_QUEUES)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY) + generate_latest(_QUEUES_ONLY), CONTENT_TYPE_LATEST


_QUEUES_ONLY = CollectorRegistry()
_QUEUES_ONLY.register(_QUEUES)
