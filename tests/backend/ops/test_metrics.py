"""`GET /metrics`: Prometheus text for localhost or a bearer token, with live queue figures."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families
from rq import SimpleWorker
from starlette.testclient import TestClient

from backend.api import create_app
from backend.core.config import settings
from backend.core.queue import get_queue
from backend.core.redis import get_redis
from backend.ops import metrics


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@pytest.fixture
def local():
    """A client whose requests come from 127.0.0.1, as a scraper on the same host."""
    with TestClient(create_app(), client=("127.0.0.1", 50000)) as c:
        yield c


@pytest.fixture
def remote():
    """A client whose requests come from another host."""
    with TestClient(create_app(), client=("203.0.113.9", 50000)) as c:
        yield c


def _job() -> str:
    return "ok"


def test_localhost_gets_prometheus_text_with_queue_depth_and_workers(local):
    get_queue("knowledge").enqueue(_job)
    get_queue("knowledge").enqueue(_job)
    worker = SimpleWorker([get_queue("default")], connection=get_redis())
    worker.register_birth()
    try:
        resp = local.get("/metrics")
    finally:
        worker.register_death()
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain")
    samples = _samples(resp.text)
    assert samples[("bizbot_queue_depth", (("queue", "knowledge"),))] == 2
    assert samples[("bizbot_queue_depth", (("queue", "inbound"),))] == 0
    assert samples[("bizbot_queue_oldest_age_seconds", (("queue", "knowledge"),))] >= 0
    assert samples[("bizbot_workers_alive", ())] == 1
    assert samples[("bizbot_redis_up", ())] == 1


def test_counters_a_process_increments_are_exposed(local):
    before = _samples(local.get("/metrics").text).get(
        ("bizbot_handoffs_total", (("reason", "customer_request"),)), 0
    )
    metrics.HANDOFFS.labels(reason="customer_request").inc()
    after = _samples(local.get("/metrics").text)
    assert after[("bizbot_handoffs_total", (("reason", "customer_request"),))] == before + 1


def test_another_host_is_refused_with_how_to_get_access(remote):
    resp = remote.get("/metrics")
    assert resp.status_code == 403
    assert "METRICS_TOKEN" in resp.text
    assert "bizbot_queue_depth" not in resp.text


def test_the_configured_bearer_token_opens_it_from_anywhere(remote, monkeypatch):
    monkeypatch.setattr(settings, "metrics_token", "scrape-secret-123")
    assert remote.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    resp = remote.get("/metrics", headers={"Authorization": "Bearer scrape-secret-123"})
    assert resp.status_code == 200
    assert "# TYPE bizbot_queue_depth gauge" in resp.text


def test_redis_down_is_reported_as_a_gauge_not_an_error(local, monkeypatch):
    def broken() -> list:
        raise ConnectionError("redis is gone")

    monkeypatch.setattr(metrics, "queue_stats", broken)
    resp = local.get("/metrics")
    assert resp.status_code == 200
    assert _samples(resp.text)[("bizbot_redis_up", ())] == 0


def test_webhook_requests_are_counted_by_channel_and_status(local):
    key = ("bizbot_webhook_requests_total", (("channel", "telegram"), ("status", "404")))
    before = _samples(local.get("/metrics").text).get(key, 0)
    assert local.post("/webhooks/telegram/987654", content=b"{}").status_code == 404
    assert _samples(local.get("/metrics").text)[key] == before + 1


def test_an_odd_path_segment_cannot_create_new_series(local):
    local.post("/webhooks/%F0%9F%98%80x/1", content=b"{}")
    text = local.get("/metrics").text
    assert "😀" not in text


def test_jobs_are_timed_by_queue_job_and_outcome(local):
    get_queue("default").enqueue(_job)
    worker = metrics.MeteredWorker([get_queue("default")], connection=get_redis())
    key = (
        "bizbot_job_duration_seconds_count",
        (("job", "_job"), ("outcome", "ok"), ("queue", "default")),
    )
    before = _samples(local.get("/metrics").text).get(key, 0)
    worker.work(burst=True)
    assert _samples(local.get("/metrics").text)[key] == before + 1


@pytest.mark.usefixtures("committed")
def test_each_ai_reply_is_timed_and_its_confidence_counted(local):
    from backend.channels.base import MessageIn
    from backend.conversations import service as pipeline
    from backend.core.db import session_scope
    from tests.backend.channels.helpers import make_channel, run_worker

    timed = ("bizbot_ai_reply_seconds_count", (("answerer", "offline"),))
    scored = ("bizbot_ai_confidence_count", ())
    before = _samples(local.get("/metrics").text)
    cfg = make_channel("telegram")
    with session_scope() as session:
        pipeline.receive(session, cfg=cfg, events_in=[
            MessageIn(external_id="m-metrics", sender_id="c-metrics", text="When do you open?")
        ])  # fmt: skip
    run_worker("inbound")
    after = _samples(local.get("/metrics").text)
    assert after[timed] == before.get(timed, 0) + 1
    assert after[scored] == before.get(scored, 0) + 1


@pytest.mark.usefixtures("committed")
def test_a_message_the_channel_refused_is_counted_under_its_channel(local):
    from backend.events import DomainEvent, dispatch
    from tests.backend.channels.helpers import make_channel
    from tests.factories import make_contact

    cfg = make_channel("telegram")
    from backend.core.db import session_scope
    from backend.models import Business, Conversation

    with session_scope() as session:
        contact = make_contact(session, business=session.get(Business, cfg.business_id))
        convo = Conversation(business_id=cfg.business_id, contact_id=contact.id,
                             channel_integration_id=cfg.integration_id)  # fmt: skip
        session.add(convo)
        session.flush()
        conversation_id = convo.id
    key = ("bizbot_send_failures_total", (("channel", "telegram"),))
    before = _samples(local.get("/metrics").text).get(key, 0)
    for status in ("failed", "sent"):  # only the refusal counts
        data = {"conversation_id": conversation_id, "delivery_status": status}
        dispatch(DomainEvent("message.updated", cfg.business_id, data))
    assert _samples(local.get("/metrics").text)[key] == before + 1
