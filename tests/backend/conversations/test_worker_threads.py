"""Inbound workers share the cores for query embeddings instead of fighting over them, and
load the engine before their first job."""

from __future__ import annotations

import logging

import pytest

from backend import worker
from backend.ai import decision, engine
from backend.core.config import settings
from backend.core.queue import get_queue
from backend.core.redis import get_redis
from backend.knowledge import embeddings


@pytest.mark.parametrize(
    ("cores", "inbound_workers", "configured", "queues", "threads"),
    [
        (2, 2, None, ["inbound"], 1),  # two workers on two cores: one thread each
        (2, 1, None, ["inbound", "outbound"], 2),
        (8, 3, None, ["inbound"], 2),
        (2, 4, None, ["inbound"], 1),
        (2, 2, 3, ["inbound"], 3),  # EMBEDDING_THREADS wins
        (2, 2, None, ["knowledge"], None),  # not answering customers: left as configured
    ],
)
def test_embedding_threads_per_worker(
    monkeypatch, cores, inbound_workers, configured, queues, threads
):
    monkeypatch.setattr(worker.os, "cpu_count", lambda: cores)
    monkeypatch.setattr(settings, "workers_inbound", inbound_workers)
    monkeypatch.setattr(settings, "embedding_threads", configured)
    assert worker.embedding_threads(queues) == threads


def test_warming_up_loads_the_model_and_the_human_request_prototypes(monkeypatch):
    fresh = embeddings.LocalE5Embedder()  # as in a new process: nothing loaded yet
    monkeypatch.setattr(embeddings, "BUNDLED", fresh)
    monkeypatch.setattr(engine, "BUNDLED", fresh)
    decision._prototype_vectors.cache_clear()
    assert fresh._onnx is None
    assert fresh._model is None

    engine.warm_up()

    assert fresh._onnx is not None or fresh._model is not None
    assert decision._prototype_vectors.cache_info().currsize == 1


@pytest.mark.parametrize(
    ("queues", "warmed"),
    [(["inbound"], True), ([], True), (["knowledge", "outbound"], False)],
)
def test_a_worker_answering_customers_warms_up_before_taking_jobs(monkeypatch, queues, warmed):
    calls: list[str] = []
    monkeypatch.setattr(settings, "embedding_threads", settings.embedding_threads)  # main sets it
    monkeypatch.setattr(worker.logs, "configure", lambda: None)
    monkeypatch.setattr(worker.listeners, "install", lambda: None)
    monkeypatch.setattr(worker.engine, "warm_up", lambda: calls.append("warm up"))
    monkeypatch.setattr(worker.MeteredWorker, "work", lambda self, **kw: calls.append("work"))

    assert worker.main([*queues, "--burst"]) == 0

    assert calls == (["warm up", "work"] if warmed else ["work"])


def test_a_worker_sends_its_heartbeat_every_few_seconds_not_three_times_a_job(monkeypatch):
    sent: list[int] = []
    monkeypatch.setattr(
        worker.MeteredWorker,
        "heartbeat",
        lambda self, timeout=None, pipeline=None: sent.append(timeout),
        raising=False,
    )
    clock = [1000.0]
    monkeypatch.setattr(worker.time, "monotonic", lambda: clock[0])
    inbound = worker.Worker([get_queue("inbound")], connection=get_redis(), worker_ttl=60)

    for _ in range(3):  # what RQ sends around one job
        inbound.heartbeat()
    inbound.heartbeat(90)  # a shorter expiry than the one just set: still covered
    assert sent == [120]
    clock[0] += worker.HEARTBEAT_EVERY
    inbound.heartbeat()
    assert sent == [120, 120]
    inbound.heartbeat(400)  # a longer expiry is sent at once
    assert sent == [120, 120, 400]


@pytest.mark.parametrize(
    ("level", "message", "shown"),
    [
        (logging.INFO, "Worker %s: %s: %s", False),  # a job dequeued
        (logging.INFO, "Successfully completed %s job in %ss on worker %s", False),
        (logging.INFO, "Worker %s: %s: %s (%s)", False),  # "Job OK"
        (logging.INFO, "Worker %s: job %s result is kept for %s seconds", False),
        (logging.INFO, "Worker %s: warm shut down requested", True),
        (logging.WARNING, "Worker %s: %s: %s", True),
        (logging.ERROR, "Successfully completed %s job in %ss on worker %s", True),
    ],
)
def test_rq_lines_for_every_job_are_left_out_of_the_log(level, message, shown):
    record = logging.LogRecord("rq.worker", level, __file__, 1, message, None, None)
    assert worker._PerJobLines().filter(record) is shown
