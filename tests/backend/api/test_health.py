"""`GET /api/health` reports the database, Redis and the workers."""

from __future__ import annotations

import pytest
from rq import SimpleWorker
from starlette.testclient import TestClient

from backend.api import create_app
from backend.core import db as core_db
from backend.core.config import settings
from backend.core.queue import get_queue
from backend.core.redis import get_redis


@pytest.fixture
def client():
    with TestClient(create_app()) as c:
        yield c


def test_no_worker_means_503_with_the_reason(client):
    resp = client.get("/api/health")
    assert resp.status_code == 503
    body = resp.json()
    assert body["database"] == "ok"
    assert body["redis"] == "ok"
    assert "no RQ worker" in body["worker"]


def test_all_ok_with_a_live_worker(client):
    worker = SimpleWorker([get_queue("default")], connection=get_redis())
    worker.register_birth()
    try:
        resp = client.get("/api/health")
    finally:
        worker.register_death()
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok", "database": "ok", "redis": "ok", "worker": "ok"}


def test_unreachable_database_is_reported_not_raised(client, monkeypatch):
    monkeypatch.setattr(
        settings, "database_url", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2"
    )
    core_db.get_engine.cache_clear()
    try:
        resp = client.get("/api/health")
    finally:
        monkeypatch.undo()
        core_db.get_engine.cache_clear()
    assert resp.status_code == 503
    assert resp.json()["database"].startswith("error:")
