"""`/webhooks/{kind}/{id}` on the real PostgreSQL and Redis, with the fake platforms behind it."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError
from starlette.testclient import TestClient

from backend.api import create_app
from backend.api import webhooks as webhook_routes
from backend.core.db import session_scope
from backend.core.queue import get_queue
from backend.models import ChannelIntegration, Conversation, InboundEvent, Message
from backend.models.channels import WebhookDelivery
from tests.backend.channels.helpers import (
    VERIFY_TOKEN,
    fake_graph,
    fake_telegram,
    make_channel,
    meta_headers,
    payload,
    rows,
    run_worker,
    telegram_headers,
)
from tests.fakes.graph_server import FakeGraph
from tests.fakes.telegram_server import FakeTelegram

pytestmark = pytest.mark.usefixtures("committed")


@pytest.fixture
def graph(monkeypatch) -> Iterator[FakeGraph]:
    with fake_graph(monkeypatch) as server:
        yield server


@pytest.fixture
def telegram(monkeypatch) -> Iterator[FakeTelegram]:
    with fake_telegram(monkeypatch) as server:
        yield server


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app()) as c:
        yield c


def post_meta(client, kind, cfg, body: bytes, **headers):
    return client.post(
        f"/webhooks/{kind}/{cfg.integration_id}",
        content=body,
        headers={**meta_headers(body), **headers},
    )


def post_telegram(client, cfg, body: bytes, secret=None):
    headers = telegram_headers(secret) if secret else telegram_headers()
    return client.post(f"/webhooks/telegram/{cfg.integration_id}", content=body, headers=headers)


# --- verification ------------------------------------------------------------------------------


def test_meta_challenge_answers_the_owners_verify_token(client):
    cfg = make_channel("whatsapp")
    url = f"/webhooks/whatsapp/{cfg.integration_id}"
    ok = client.get(
        url,
        params={
            "hub.mode": "subscribe",
            "hub.verify_token": VERIFY_TOKEN,
            "hub.challenge": "1158201444",
        },
    )
    assert (ok.status_code, ok.text) == (200, "1158201444")
    wrong = client.get(
        url, params={"hub.mode": "subscribe", "hub.verify_token": "x", "hub.challenge": "1"}
    )
    assert wrong.status_code == 403
    assert "verify token" in wrong.json()["error"]
    assert client.get(url).status_code == 400


@pytest.mark.parametrize("kind", ["whatsapp", "messenger", "instagram"])
def test_signatures_missing_wrong_or_of_another_body_store_nothing(client, kind):
    cfg = make_channel(kind)
    fixture = {"whatsapp": "text", "messenger": "text", "instagram": "text"}[kind]
    body = payload(kind, fixture)
    url = f"/webhooks/{kind}/{cfg.integration_id}"
    missing = client.post(url, content=body, headers={"Content-Type": "application/json"})
    assert missing.status_code == 401
    assert missing.json()["code"] == "missing_signature"
    wrong = client.post(url, content=body, headers=meta_headers(body, secret="wrong-secret"))
    assert wrong.status_code == 403
    other = client.post(url, content=body, headers=meta_headers(body + b" "))
    assert other.status_code == 403
    assert rows(InboundEvent) == []
    assert rows(WebhookDelivery) == []
    assert post_meta(client, kind, cfg, body).status_code == 200
    assert len(rows(InboundEvent)) == 1


def test_telegram_secret_token(client):
    cfg = make_channel("telegram")
    body = payload("telegram", "text")
    url = f"/webhooks/telegram/{cfg.integration_id}"
    assert client.post(url, content=body).status_code == 401
    assert post_telegram(client, cfg, body, secret="nope").status_code == 403
    assert rows(InboundEvent) == []
    assert post_telegram(client, cfg, body).json() == {"received": 1, "new": 1}
    assert client.get(url).status_code == 400  # no GET handshake for Telegram


# --- storing once, in order --------------------------------------------------------------------


def test_five_repeated_deliveries_store_one_message(client, graph):
    cfg = make_channel("whatsapp")
    body = payload("whatsapp", "text")
    answers = [post_meta(client, "whatsapp", cfg, body).json() for _ in range(5)]
    assert answers[0] == {"received": 1, "new": 1}
    assert answers[1:] == [{"received": 1, "new": 0}] * 4
    assert get_queue("inbound").count == 1
    run_worker()
    customer = rows(Message, Message.direction == "inbound")
    assert [m.text for m in customer] == ["Hello! Do you deliver to Westlands?"]
    assert [d.outcome for d in rows(WebhookDelivery)] == ["stored"] + ["duplicate"] * 4
    [reply] = rows(Message, Message.direction == "outbound")
    assert reply.delivery_status == "sent"
    assert graph.sent()[0]["to"] == "254712345678"


def test_several_events_per_post_keep_the_providers_order(client, graph):
    cfg = make_channel("whatsapp")
    resp = post_meta(client, "whatsapp", cfg, payload("whatsapp", "multiple_entries"))
    assert resp.json() == {"received": 4, "new": 4}
    run_worker()
    customer = rows(Message, Message.direction == "inbound")
    assert [m.text for m in customer] == [
        "First question",
        "Second question",
        "Habari, mko wazi leo?",
    ]
    conversations = rows(Conversation)
    assert len(conversations) == 2
    first = [m for m in rows(Message) if m.conversation_id == conversations[0].id]
    # The reply (here: a handover, the business has no knowledge) follows the first question.
    assert [m.direction for m in first][:3] == ["inbound", "outbound", "inbound"]


def test_status_callbacks_move_our_message_forward_and_failures_show_the_reason(client, graph):
    cfg = make_channel("whatsapp")
    post_meta(client, "whatsapp", cfg, payload("whatsapp", "text"))
    run_worker()
    [reply] = rows(Message, Message.direction == "outbound")
    ours = reply.external_id
    for name in ("status_sent", "status_delivered_read"):
        body = payload("whatsapp", name, **{"wamid.OUT1": ours})
        assert post_meta(client, "whatsapp", cfg, body).status_code == 200
    run_worker()
    assert rows(Message, Message.id == reply.id)[0].delivery_status == "read"
    failed = payload("whatsapp", "status_failed", **{"wamid.OUT2": ours})
    post_meta(client, "whatsapp", cfg, failed)
    run_worker()
    stored = rows(Message, Message.id == reply.id)[0]
    assert (stored.delivery_status, stored.error) == (
        "failed",
        "Message undeliverable (code 131026): Message Undeliverable.",
    )


def test_unknown_types_are_stored_as_unsupported_and_not_answered(client, graph):
    cfg = make_channel("whatsapp")
    post_meta(client, "whatsapp", cfg, payload("whatsapp", "unsupported"))
    post_meta(client, "whatsapp", cfg, payload("whatsapp", "template_status_update"))
    run_worker()
    [message] = rows(Message)
    assert message.content_type == "unsupported"
    assert "Message type unknown" in message.text
    assert {e.kind for e in rows(InboundEvent)} == {"unsupported"}
    assert {e.status for e in rows(InboundEvent)} == {"done"}
    assert graph.sent() == []


# --- bad input ---------------------------------------------------------------------------------


def test_malformed_json_with_a_valid_signature_is_a_400_kept_raw_for_the_owner(client):
    cfg = make_channel("whatsapp")
    body = b'{"object": "whatsapp_business_account", "entry": [ oops'
    resp = post_meta(client, "whatsapp", cfg, body)
    assert resp.status_code == 400
    assert "not JSON" in resp.json()["error"]
    shape = post_meta(client, "whatsapp", cfg, payload("whatsapp", "valid_json_wrong_shape"))
    assert shape.status_code == 400
    assert "changes" in shape.json()["error"]
    assert rows(InboundEvent) == []
    kept = rows(WebhookDelivery)
    assert (kept[0].outcome, bytes(kept[0].body)) == ("rejected", body)
    assert "changes" in kept[1].error


def test_a_bad_event_in_a_batch_stores_none_of_the_batch(client):
    cfg = make_channel("messenger")
    data = json.loads(payload("messenger", "multiple_entries"))
    data["entry"][1]["messaging"][0]["message"] = {"text": "no mid"}
    body = json.dumps(data).encode()
    assert post_meta(client, "messenger", cfg, body).status_code == 400
    assert rows(InboundEvent) == []


def test_unknown_disabled_or_mismatched_integrations(client):
    cfg = make_channel("whatsapp")
    body = payload("whatsapp", "text")
    unknown = client.post("/webhooks/whatsapp/999999", content=body, headers=meta_headers(body))
    assert (unknown.status_code, unknown.json()["code"]) == (404, "unknown_integration")
    assert client.post("/webhooks/whatsapp/abc", content=body).status_code == 404
    assert client.post("/webhooks/fax/1", content=body).json()["code"] == "unknown_channel"
    wrong_kind = post_meta(client, "messenger", cfg, body)
    assert wrong_kind.status_code == 404
    assert f"/webhooks/whatsapp/{cfg.integration_id}" in wrong_kind.json()["error"]
    with session_scope() as session:
        session.execute(sa.update(ChannelIntegration).values(is_enabled=False))
    disabled = post_meta(client, "whatsapp", cfg, body)
    assert (disabled.status_code, disabled.json()["code"]) == (410, "disabled")
    assert rows(InboundEvent) == []


def test_a_body_over_3_mb_is_refused_before_it_is_read(client):
    cfg = make_channel("whatsapp")
    body = b'{"object": "whatsapp_business_account", "entry": []}' + b" " * (3 * 1024 * 1024)
    resp = post_meta(client, "whatsapp", cfg, body)
    assert resp.status_code == 413
    assert "3 MB" in resp.json()["error"]
    assert rows(WebhookDelivery) == []


def test_only_a_database_outage_is_a_5xx(client, monkeypatch):
    cfg = make_channel("whatsapp")
    body = payload("whatsapp", "text")

    def down():
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(webhook_routes, "session_scope", lambda: down())
    resp = post_meta(client, "whatsapp", cfg, body)
    assert resp.status_code == 503
    assert resp.headers["retry-after"] == "30"
    monkeypatch.undo()
    assert post_meta(client, "whatsapp", cfg, body).status_code == 200


# --- the other channels end to end -------------------------------------------------------------


def test_a_telegram_button_press_is_answered_in_the_webhook_reply(client, telegram):
    cfg = make_channel("telegram")
    resp = post_telegram(client, cfg, payload("telegram", "callback_query"))
    assert resp.json() == {
        "method": "answerCallbackQuery",
        "callback_query_id": "4382bfdwdsb323b2d9",
    }
    run_worker()
    [pressed, reply] = rows(Message)
    assert (pressed.text, pressed.content_type) == ("Delivery", "interactive")
    [call] = telegram.sent("sendMessage")
    assert call.params["chat_id"] == "987654321"
    assert reply.external_id.startswith("987654321:")


def test_instagram_story_mention_is_stored_not_answered(client, graph):
    cfg = make_channel("instagram")
    post_meta(
        client, "instagram", cfg, payload("instagram", "story_mention", CDN=f"{graph.url}/cdn")
    )
    run_worker()
    [mention] = rows(Message)
    assert (mention.content_type, mention.text) == ("story_mention", "Mentioned you in their story")
    assert mention.attachments[0]["status"] == "link"
    assert graph.sent("me/messages") == []


def test_stored_files_are_served_only_to_members_of_the_business(
    client, graph, tmp_path, monkeypatch
):
    from backend.core.config import settings
    from tests.factories import make_business, make_user

    monkeypatch.setattr(settings, "data_dir", tmp_path)
    cfg = make_channel("whatsapp")
    graph.add_media("1003383421387256", b"\xff\xd8cake-photo", "image/jpeg")
    post_meta(client, "whatsapp", cfg, payload("whatsapp", "image"))
    run_worker()
    [photo] = rows(Message, Message.content_type == "image")
    url = f"/api/media/{photo.id}/0"
    assert client.get(url).status_code == 404  # not signed in

    def sign_in(business_id: int | None) -> None:
        from backend.auth import service as auth
        from backend.auth.schemas import LoginTicket
        from backend.models import Business

        with session_scope() as session:
            business = session.get(Business, business_id) if business_id else make_business(session)
            user = make_user(session, business=business)
            token = auth.start_session(
                session,
                ticket=LoginTicket(user_id=user.id, business_id=business.id),
                ip_address=None,
                user_agent=None,
            )
        client.cookies.set(auth.SESSION_COOKIE, token)

    sign_in(None)  # a member of another business
    assert client.get(url).status_code == 404
    sign_in(cfg.business_id)
    resp = client.get(url)
    assert (resp.status_code, resp.content) == (200, b"\xff\xd8cake-photo")
    assert resp.headers["content-type"] == "image/jpeg"
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert client.get(f"/api/media/{photo.id}/5").status_code == 404
