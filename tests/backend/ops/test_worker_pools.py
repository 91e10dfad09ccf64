"""`make run` splits the queues among worker pools sized by the WORKERS_* settings."""

from __future__ import annotations

from backend.core.config import Settings
from backend.core.queue import QUEUE_NAMES
from backend.supervisor import worker_pools


def test_every_queue_is_worked_and_customers_have_their_own_worker():
    pools = dict(worker_pools())
    served = {q for queues, n in pools.items() if n for q in queues}
    assert served == set(QUEUE_NAMES)
    assert pools[("inbound",)] >= 1
    assert all("inbound" not in queues for queues in pools if queues != ("inbound",))


def test_the_settings_size_each_pool(monkeypatch):
    monkeypatch.setenv("WORKERS_INBOUND", "3")
    monkeypatch.setenv("WORKERS_KNOWLEDGE", "0")
    configured = Settings()
    monkeypatch.setattr("backend.supervisor.settings", configured)
    pools = dict(worker_pools())
    assert pools[("inbound",)] == 3
    assert pools[("knowledge",)] == 0
    assert pools[("outbound", "scheduled", "default")] == 1
