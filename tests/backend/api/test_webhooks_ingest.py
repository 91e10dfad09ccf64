"""The webhook accept path's shortcuts keep its contract: cached configs never go stale for long,
one statement stores a body's events and its raw copy, their jobs are enqueued together."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from backend.api import create_app
from backend.channels import webhook_cache
from backend.core.crypto import encrypt
from backend.core.db import get_engine, session_scope
from backend.core.queue import enqueue_all, get_queue
from backend.integrations import service as integrations
from backend.models import Business, ChannelIntegration, InboundEvent
from backend.models.channels import WebhookDelivery
from tests.backend.channels.helpers import WHATSAPP, make_channel, meta_headers, payload, rows
from tests.factories import actor_for

pytestmark = pytest.mark.usefixtures("committed")

NEW_SECRET = "a-brand-new-app-secret-42"


@pytest.fixture
def client() -> Iterator[TestClient]:
    webhook_cache.forget()
    with TestClient(create_app()) as c:
        yield c
    webhook_cache.forget()


def post(client, cfg, body: bytes, secret: str | None = None):
    headers = meta_headers(body, secret) if secret else meta_headers(body)
    return client.post(f"/webhooks/whatsapp/{cfg.integration_id}", content=body, headers=headers)


def text_message(n: int) -> bytes:
    data = json.loads(payload("whatsapp", "text"))
    data["entry"][0]["changes"][0]["value"]["messages"][0]["id"] = f"wamid.ingest.{n}"
    return json.dumps(data).encode()


def three_messages(first: int) -> bytes:
    data = json.loads(payload("whatsapp", "text"))
    value = data["entry"][0]["changes"][0]["value"]
    template = value["messages"][0]
    value["messages"] = [
        {**template, "id": f"wamid.batch.{first + i}", "text": {"body": f"question {i + 1}"}}
        for i in range(3)
    ]
    return json.dumps(data).encode()


class Clock:
    """The cache's clock, moved by hand: TTLs are tested without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(webhook_cache, "_clock", fake)
    return fake


# --- the config cache never serves a stale secret for long -------------------------------------


def test_a_new_app_secret_saved_by_the_owner_applies_to_the_next_webhook(client, clock):
    cfg = make_channel("whatsapp")
    assert post(client, cfg, text_message(1)).status_code == 200  # the config is now cached
    with session_scope() as session:
        actor, _ = actor_for(session, business=session.get(Business, cfg.business_id))
        integrations.save_channel(
            session, actor=actor, kind="whatsapp", values={**WHATSAPP, "app_secret": NEW_SECRET}
        )
    old = post(client, cfg, text_message(2))
    assert (old.status_code, old.json()["code"]) == (403, "invalid_signature")
    assert post(client, cfg, text_message(2), secret=NEW_SECRET).status_code == 200
    assert len(rows(InboundEvent)) == 2


def test_a_disconnected_channel_refuses_the_next_webhook(client, clock):
    cfg = make_channel("whatsapp")
    assert post(client, cfg, text_message(1)).status_code == 200
    with session_scope() as session:
        actor, _ = actor_for(session, business=session.get(Business, cfg.business_id))
        integrations.disconnect_channel(session, actor=actor, kind="whatsapp")
    gone = post(client, cfg, text_message(2))
    assert (gone.status_code, gone.json()["code"]) == (410, "disabled")
    assert len(rows(InboundEvent)) == 1


def test_a_change_made_outside_bizbot_applies_within_the_ttl(client, clock):
    cfg = make_channel("whatsapp")
    assert post(client, cfg, text_message(1)).status_code == 200
    # Plain SQL on its own connection (as in psql): no BizBot session sees it.
    secret = encrypt(json.dumps({**WHATSAPP, "app_secret": NEW_SECRET}))
    with get_engine().begin() as conn:
        conn.execute(
            sa.update(ChannelIntegration)
            .where(ChannelIntegration.id == cfg.integration_id)
            .values(credentials_encrypted=secret)
        )
    clock.now += webhook_cache.CONFIG_TTL - 0.5
    assert post(client, cfg, text_message(2)).status_code == 200  # the documented bound
    clock.now += 1
    assert post(client, cfg, text_message(3)).status_code == 403
    assert post(client, cfg, text_message(3), secret=NEW_SECRET).status_code == 200


def test_an_integration_deleted_behind_the_cache_is_a_404_not_an_error(client, clock):
    cfg = make_channel("whatsapp")
    assert post(client, cfg, text_message(1)).status_code == 200
    with get_engine().begin() as conn:
        conn.execute(sa.delete(Business).where(Business.id == cfg.business_id))
    resp = post(client, cfg, text_message(2))
    assert (resp.status_code, resp.json()["code"]) == (404, "unknown_integration")
    assert rows(InboundEvent) == []


def test_an_unknown_integration_is_found_once_it_is_created(client, clock):
    with get_engine().connect() as conn:
        last, called = conn.execute(
            sa.text("SELECT last_value, is_called FROM channelintegration_id_seq")
        ).one()
    next_id = last + 1 if called else last
    body = text_message(1)
    early = client.post(f"/webhooks/whatsapp/{next_id}", content=body, headers=meta_headers(body))
    assert (early.status_code, early.json()["code"]) == (404, "unknown_integration")
    cfg = make_channel("whatsapp")  # the commit that adds it moves the epoch
    assert cfg.integration_id == next_id
    assert post(client, cfg, body).status_code == 200


# --- one statement per body, one Redis round trip for its jobs ---------------------------------


def test_a_body_with_three_messages_stores_three_events_in_order_once(client):
    cfg = make_channel("whatsapp")
    body = three_messages(1)
    assert post(client, cfg, body).json() == {"received": 3, "new": 3}
    events = rows(InboundEvent)
    assert [e.external_id for e in events] == ["wamid.batch.1", "wamid.batch.2", "wamid.batch.3"]
    assert [e.payload["text"] for e in events] == ["question 1", "question 2", "question 3"]
    assert {(e.business_id, e.status, e.attempts) for e in events} == {
        (cfg.business_id, "pending", 0)
    }
    assert [job.args for job in get_queue("inbound").jobs] == [(e.id,) for e in events]
    # Redelivered, and once more with one new message among two known ones.
    assert post(client, cfg, body).json() == {"received": 3, "new": 0}
    assert post(client, cfg, three_messages(3)).json() == {"received": 3, "new": 2}
    assert len(rows(InboundEvent)) == 5
    assert get_queue("inbound").count == 5
    kept = rows(WebhookDelivery)
    assert [(d.outcome, d.event_count, len(d.new_event_ids)) for d in kept] == [
        ("stored", 3, 3),
        ("duplicate", 3, 0),
        ("stored", 3, 2),
    ]
    assert bytes(kept[0].body) == body
    assert kept[0].new_event_ids == [e.id for e in events]
    assert kept[0].content_type == "application/json"


def test_a_body_repeating_a_message_id_stores_it_once(client):
    cfg = make_channel("whatsapp")
    data = json.loads(three_messages(1))
    messages = data["entry"][0]["changes"][0]["value"]["messages"]
    messages[2]["id"] = messages[0]["id"]
    assert post(client, cfg, json.dumps(data).encode()).json() == {"received": 3, "new": 2}
    assert get_queue("inbound").count == 2


def test_a_body_with_no_events_is_kept_as_a_duplicate(client):
    cfg = make_channel("whatsapp")
    data = json.loads(payload("whatsapp", "text"))
    data["entry"] = []
    assert post(client, cfg, json.dumps(data).encode()).json() == {"received": 0, "new": 0}
    [kept] = rows(WebhookDelivery)
    assert (kept.outcome, kept.event_count, kept.new_event_ids) == ("duplicate", 0, [])


def test_enqueue_all_keeps_order_and_each_jobs_options():
    enqueue_all(
        [
            ("backend.conversations.tasks.process_inbound", (7,), "inbound", {}),
            ("backend.conversations.tasks.process_inbound", (8,), "inbound", {"retries": 0}),
            ("os.path.join", ("a", "b"), "default", {"result_ttl": 0, "job_timeout": 30}),
        ]
    )
    first, second = get_queue("inbound").jobs
    assert (first.args, first.retries_left, first.retry_intervals) == ((7,), 3, [5, 30, 120])
    assert (second.args, second.retries_left) == ((8,), None)
    [other] = get_queue("default").jobs
    assert (other.func_name, other.args, other.result_ttl, other.timeout) == (
        "os.path.join",
        ("a", "b"),
        0,
        30,
    )
