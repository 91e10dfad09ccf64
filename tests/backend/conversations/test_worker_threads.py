"""Inbound workers share the cores for query embeddings instead of fighting over them, and
load the engine before their first job."""

from __future__ import annotations

import pytest

from backend import worker
from backend.ai import decision, engine
from backend.core.config import settings
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
