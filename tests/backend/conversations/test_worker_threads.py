"""Inbound workers share the cores for query embeddings instead of fighting over them."""

from __future__ import annotations

import pytest

from backend import worker
from backend.core.config import settings


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
