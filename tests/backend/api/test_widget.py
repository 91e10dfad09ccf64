"""The widget API on the real PostgreSQL and Redis: origins, visitors, messages, the live stream."""

from __future__ import annotations

import gzip
import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from rq import SimpleWorker
from sqlmodel import select
from starlette.testclient import TestClient

from backend.api import create_app
from backend.api.widget import minified_script
from backend.channels import widget as widget_channel
from backend.channels.service import create_integration
from backend.conversations import service as conversations
from backend.core.config import PROJECT_ROOT, settings
from backend.core.db import session_scope
from backend.core.queue import get_queue
from backend.core.redis import get_redis
from backend.knowledge import service as knowledge
from backend.knowledge import tasks as knowledge_tasks
from backend.models import (
    AIRule,
    ChannelIntegration,
    Contact,
    Conversation,
    Handoff,
    InboundEvent,
    Lead,
    Message,
)
from tests.factories import make_business, make_user

pytestmark = pytest.mark.usefixtures("committed")

SITE = "https://shop.example.com"
SECRET = "s3cret-for-hmac"


def make_widget(*, origins=(SITE,), secret: str | None = None, **config) -> tuple[str, int]:
    with session_scope() as session:
        business = make_business(session)
        session.add(AIRule(business_id=business.id, confidence_threshold=0.0, max_ai_turns=0))
        integration = create_integration(
            session,
            business_id=business.id,
            kind="widget",
            name="Website chat",
            config={**widget_channel.DEFAULTS, "allowed_origins": list(origins), **config},
            credentials={"identity_secret": secret} if secret else None,
            public_key=widget_channel.new_public_key(),
        )
        return integration.public_key, business.id


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app()) as c:
        yield c


FAQ = [
    {"question": "Do you deliver?", "answer": "Yes, we deliver within 10 km for $3."},
    {"question": "What are your opening hours?", "answer": "We are open every day, 7am to 7pm."},
]


@pytest.fixture
def key() -> str:
    """A widget whose business knows its delivery terms and opening hours."""
    key, business_id = make_widget()
    with session_scope() as session:
        knowledge.import_rows(session, business_id=business_id, rows=FAQ, enqueue=False)
        pending = knowledge.sources_to_embed(session, business_id=business_id)
    knowledge_tasks.embed_sources(pending)
    return key


def call(client, key, path, body=None, origin=SITE, **params):
    headers = {"Origin": origin} if origin else {}
    if body is None:
        return client.get(f"/api/widget/{key}/{path}", headers=headers, params=params)
    return client.post(f"/api/widget/{key}/{path}", headers=headers, json=body)


def start(client, key, **fields) -> str:
    resp = call(client, key, "session", {"visitor_token": None, **fields})
    assert resp.status_code == 200, resp.text
    return resp.json()["visitor_token"]


def send(client, key, token, text="Hello", client_id="c0000001"):
    return call(
        client, key, "messages", {"visitor_token": token, "client_id": client_id, "text": text}
    )


def run_worker() -> None:
    queues = [get_queue("inbound"), get_queue("outbound")]
    SimpleWorker(queues, connection=get_redis()).work(burst=True)


def rows(model, *where):
    with session_scope() as session:
        return list(session.exec(select(model).where(*where).order_by(model.id)).all())


# --- /widget.js --------------------------------------------------------------------------------


def test_widget_script_is_served_gzipped_and_small(client):
    resp = client.get("/widget.js", headers={"Accept-Encoding": "gzip"})
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/javascript")
    assert resp.headers["content-encoding"] == "gzip"
    assert resp.content == minified_script()  # httpx unzips
    assert len(resp.content) < 0.85 * len((PROJECT_ROOT / "widget" / "widget.js").read_bytes())
    packed = gzip.compress(minified_script(), 9)
    assert len(packed) < 12 * 1024, "widget.js must stay under 12 KB gzipped as served"
    again = client.get("/widget.js", headers={"If-None-Match": resp.headers["etag"]})
    assert again.status_code == 304


# --- origins and keys --------------------------------------------------------------------------


def test_config_answers_allowed_origins_only(client, key):
    resp = call(client, key, "config")
    assert resp.status_code == 200
    assert resp.headers["access-control-allow-origin"] == SITE
    body = resp.json()
    assert body["title"] == widget_channel.DEFAULTS["title"]
    assert body["open"] is True
    assert body["offline_message"] is None
    refused = call(client, key, "config", origin="https://evil.example.net")
    assert refused.status_code == 403
    assert refused.json()["code"] == "origin_not_allowed"
    assert "shop.example.com" not in refused.text  # the allowed list is not revealed
    assert call(client, key, "config", origin=None).status_code == 403
    assert call(client, "wk_nope", "config").status_code == 404


def test_wildcard_origins(client):
    key, _ = make_widget(origins=("http://localhost:*", "https://*.example.org"))
    for origin, status in [
        ("http://localhost:5173", 200),
        ("http://localhost", 200),
        ("https://a.b.example.org", 200),
        ("https://example.org", 403),
        ("https://localhost:5173", 403),
        ("http://evil-example.org", 403),
    ]:
        assert call(client, key, "config", origin=origin).status_code == status, origin


def test_preflight_from_an_allowed_origin(client, key):
    resp = client.options(
        f"/api/widget/{key}/messages",
        headers={
            "Origin": SITE,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert resp.status_code == 204
    assert resp.headers["access-control-allow-origin"] == SITE
    assert "POST" in resp.headers["access-control-allow-methods"]
    bad = client.options(f"/api/widget/{key}/messages", headers={"Origin": "https://x.io"})
    assert bad.status_code == 403


def test_a_disabled_or_rotated_key_stops_working(client, key):
    with session_scope() as session:
        integration = session.exec(
            select(ChannelIntegration).where(ChannelIntegration.public_key == key)
        ).one()
        integration.public_key = widget_channel.new_public_key()
        session.add(integration)
    assert call(client, key, "config").json()["code"] == "unknown_key"


# --- visitors and messages ---------------------------------------------------------------------


def test_a_visitor_writes_and_the_answer_is_kept_for_them(client, key):
    token = start(client, key)
    assert send(client, key, token, "Do you deliver?").status_code == 202
    assert send(client, key, token, "Do you deliver?").status_code == 202  # a retry
    assert len(rows(InboundEvent)) == 1
    run_worker()
    resp = call(client, key, "session", {"visitor_token": token})
    body = resp.json()
    assert body["visitor_token"]
    assert body["conversation"]["status"] == "ai"
    senders = [(m["sender"], m["client_id"]) for m in body["messages"]]
    assert senders[0] == ("customer", "c0000001")
    assert senders[1][0] == "ai"
    assert body["messages"][0]["text"] == "Do you deliver?"
    [outbound] = rows(Message, Message.direction == "outbound")
    assert outbound.delivery_status == "sent"


def test_bad_messages_get_clear_errors(client, key):
    token = start(client, key)
    assert send(client, key, token, "   ").json()["code"] == "empty"
    too_long = send(client, key, token, "x" * 4001)
    assert too_long.status_code == 400
    assert "4,000" in too_long.json()["error"]
    assert send(client, key, token, client_id="<bad>").json()["code"] == "invalid_client_id"
    assert send(client, key, "forged-token").status_code == 401
    assert call(client, key, "messages", {"visitor_token": token}).status_code == 400
    not_json = client.post(
        f"/api/widget/{key}/messages", headers={"Origin": SITE}, content=b"{not json"
    )
    assert not_json.json()["code"] == "invalid_json"
    assert rows(InboundEvent) == []


def test_a_token_of_one_business_is_refused_by_another(client, key):
    other_key, _ = make_widget()
    token = start(client, key)
    assert send(client, other_key, token).status_code == 401


def test_a_visitor_flooding_messages_is_rate_limited(client, key):
    token = start(client, key)
    for n in range(20):
        assert (
            send(client, key, token, f"message {n}", client_id=f"flood-{n:04d}").status_code == 202
        )
    resp = send(client, key, token, "one more", client_id="flood-9999")
    assert resp.status_code == 429
    assert resp.json()["code"] == "rate_limited"
    assert 0 < int(resp.headers["retry-after"]) <= 60
    assert len(rows(InboundEvent)) == 20
    other = start(client, key)  # another visitor is not held back
    assert send(client, key, other, client_id="other-0001").status_code == 202


# --- identity verification ---------------------------------------------------------------------


def _hash(user_id: str) -> str:
    return hmac.new(SECRET.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def test_identity_is_checked_on_every_call_when_required(client):
    key, business_id = make_widget(secret=SECRET)
    anonymous = start(client, key)  # allowed while verification is optional
    wrong = call(client, key, "session", {"user_id": "u-42", "user_hash": _hash("u-43")})
    assert wrong.status_code == 403
    assert wrong.json()["code"] == "identity_invalid"
    verified = start(client, key, user_id="u-42", user_hash=_hash("u-42"))
    with session_scope() as session:
        integration = session.exec(
            select(ChannelIntegration).where(ChannelIntegration.public_key == key)
        ).one()
        integration.config = {**integration.config, "identity_required": True}
        session.add(integration)
    assert call(client, key, "session", {}).json()["code"] == "identity_required"
    # The token handed out before verification became required no longer chats.
    refused = send(client, key, anonymous)
    assert refused.status_code == 403
    assert refused.json()["code"] == "identity_required"
    assert send(client, key, verified).status_code == 202
    run_worker()
    [contact] = rows(Contact, Contact.business_id == business_id)
    assert contact.id


def test_user_id_without_a_secret_is_refused(client, key):
    resp = call(client, key, "session", {"user_id": "u-1", "user_hash": "abc"})
    assert resp.json()["code"] == "identity_invalid"
    assert "identity secret" in resp.json()["error"]


# --- pre-chat, handoff, rating, out of hours ---------------------------------------------------


def test_required_prechat_fields_come_before_chatting(client):
    key, _ = make_widget(prechat={"name": "optional", "email": "required", "phone": "off"})
    first = call(client, key, "session", {})
    assert first.json()["needs_prechat"] is True
    token = first.json()["visitor_token"]
    assert send(client, key, token).status_code == 422
    bad = call(client, key, "session", {"visitor_token": token, "email": "not-an-email"})
    assert bad.json()["code"] == "invalid_email"
    ok = call(
        client,
        key,
        "session",
        {"visitor_token": token, "email": "Zawadi@Example.com", "name": "Zawadi"},
    )
    assert ok.json()["needs_prechat"] is False
    assert send(client, key, token).status_code == 202
    run_worker()
    [contact] = rows(Contact)
    assert (contact.name, contact.email) == ("Zawadi", "zawadi@example.com")
    [conversation] = rows(Conversation)
    assert conversation.contact_id == contact.id


def test_asking_for_a_human_stops_the_ai_and_says_so(client, key):
    token = start(client, key, language="fr-FR")
    send(client, key, token, "Bonjour, vous livrez ?")
    run_worker()
    resp = call(client, key, "handoff", {"visitor_token": token})
    assert resp.status_code == 200
    assert resp.json()["conversation"]["status"] == "waiting_for_agent"
    [handoff] = rows(Handoff)
    assert (handoff.reason, handoff.requested_by) == ("customer_request", "customer")
    run_worker()
    messages = call(client, key, "session", {"visitor_token": token}).json()["messages"]
    assert messages[-1]["sender"] == "system"
    assert "équipe" in messages[-1]["text"]  # told in French
    send(client, key, token, "Vous êtes là ?", client_id="c0000002")
    run_worker()
    latest = call(client, key, "session", {"visitor_token": token}).json()["messages"]
    assert latest[-1]["sender"] == "customer"  # the AI stays quiet now


def test_a_resolved_conversation_can_be_rated_once_resolved(client, key):
    token = start(client, key)
    send(client, key, token)
    run_worker()
    early = call(client, key, "csat", {"visitor_token": token, "score": 5})
    assert early.status_code == 409
    with session_scope() as session:
        [conversation] = session.exec(select(Conversation)).all()
        conversations.resolve(session, conversation=conversation)
    out_of_range = call(client, key, "csat", {"visitor_token": token, "score": 9})
    assert out_of_range.json()["code"] == "invalid_rating"
    ok = call(client, key, "csat", {"visitor_token": token, "score": 4, "comment": "Quick!"})
    assert ok.status_code == 200
    [conversation] = rows(Conversation)
    assert (conversation.csat_score, conversation.csat_comment) == (4, "Quick!")
    # Writing again after resolution starts a new conversation.
    send(client, key, token, "One more thing", client_id="c0000009")
    run_worker()
    assert [c.status for c in rows(Conversation)] == ["resolved", "ai"]


def test_out_of_hours_the_widget_collects_an_email_as_a_lead(client):
    key, business_id = make_widget()
    closed = {
        "timezone": "UTC",
        "days": {d: [] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    }
    closed["days"]["mon"] = [["00:00", "00:01"]]
    with session_scope() as session:
        rule = session.exec(select(AIRule).where(AIRule.business_id == business_id)).one()
        rule.business_hours = closed
        rule.out_of_hours_message = "We bake from 6am; leave your email."
        session.add(rule)
    config = call(client, key, "config").json()
    assert config["open"] is False
    assert config["offline_message"] == "We bake from 6am; leave your email."
    token = start(client, key)
    bad = call(client, key, "offline", {"visitor_token": token, "email": "nope"})
    assert bad.json()["code"] == "invalid_email"
    resp = call(
        client,
        key,
        "offline",
        {
            "visitor_token": token,
            "email": "amani@example.com",
            "name": "Amani",
            "message": "Cake for Saturday?",
        },
    )
    assert resp.status_code == 200
    [lead] = rows(Lead)
    assert (lead.business_id, lead.email, lead.name, lead.source) == (
        business_id,
        "amani@example.com",
        "Amani",
        "widget_offline",
    )
    assert lead.interest == "Cake for Saturday?"


# --- the live stream, through a real server ----------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server() -> Iterator[str]:
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "PYTHONWARNINGS": "ignore",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "asgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "backend.api:asgi_app",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(url + "/widget.js", timeout=1)
                break
            except httpx.TransportError:
                if proc.poll() is not None:
                    pytest.fail("the API server did not start")
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


class Stream:
    """Reads server-sent events from an open response."""

    def __init__(self, response: httpx.Response) -> None:
        self.lines = response.iter_lines()

    def next_event(self) -> tuple[str, dict]:
        name, data = "message", []
        for line in self.lines:
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
            elif not line and data:
                return name, json.loads("\n".join(data))
        raise AssertionError("the stream ended")

    def until(self, predicate) -> tuple[str, dict]:
        for _ in range(50):
            name, data = self.next_event()
            if predicate(name, data):
                return name, data
        raise AssertionError("no such event")


def test_replies_and_agent_messages_arrive_live_on_the_stream(server):
    key, business_id = make_widget()
    other_key, _ = make_widget()
    headers = {"Origin": SITE}
    with httpx.Client(base_url=server, headers=headers, timeout=15) as http:
        token = http.post(f"/api/widget/{key}/session", json={}).json()["visitor_token"]
        other = http.post(f"/api/widget/{other_key}/session", json={}).json()["visitor_token"]
        params = {"visitor_token": token}
        with http.stream("GET", f"/api/widget/{key}/stream", params=params) as resp:
            assert resp.status_code == 200
            assert resp.headers["access-control-allow-origin"] == SITE
            events = Stream(resp)
            http.post(
                f"/api/widget/{key}/messages",
                json={"visitor_token": token, "client_id": "live-0001", "text": "Hi"},
            )
            http.post(
                f"/api/widget/{other_key}/messages",
                json={"visitor_token": other, "client_id": "live-0002", "text": "Psst"},
            )
            run_worker()
            _, mine = events.until(lambda n, d: n == "message" and d["sender"] == "customer")
            assert (mine["text"], mine["client_id"]) == ("Hi", "live-0001")
            _, reply = events.until(lambda n, d: n == "message" and d["sender"] == "ai")
            assert reply["text"]
            with session_scope() as session:
                agent = make_user(session, name="Tom Mwangi")
                conversation = session.exec(
                    select(Conversation).where(Conversation.business_id == business_id)
                ).one()
                conversation.status, conversation.assignee_user_id = "human", agent.id
                conversations.add_outbound(
                    session,
                    conversation=conversation,
                    text="<b>Tom</b> here, happy to help!",
                    sender_type="agent",
                    sender_user_id=agent.id,
                )
            _, from_agent = events.until(lambda n, d: n == "message" and d["sender"] == "agent")
            assert from_agent["agent_name"] == "Tom Mwangi"
            assert from_agent["text"] == "<b>Tom</b> here, happy to help!"
            _, state = events.until(lambda n, d: n == "conversation" and d["status"] == "human")
            assert state["agent_name"] == "Tom Mwangi"
            seen = [mine["text"], reply["text"], from_agent["text"]]
            assert "Psst" not in seen
        # Reconnecting after the last id seen replays nothing already shown.
        resume = {"visitor_token": token, "after": str(from_agent["id"])}
        with http.stream("GET", f"/api/widget/{key}/stream", params=resume) as resp:
            name, data = Stream(resp).next_event()
            assert name == "conversation"
            assert data["status"] == "human"


def test_the_stream_refuses_other_origins_and_bad_tokens(server, key):
    with httpx.Client(base_url=server, timeout=10) as http:
        bad_origin = http.get(
            f"/api/widget/{key}/stream",
            params={"visitor_token": "x"},
            headers={"Origin": "https://evil.example.net"},
        )
        assert bad_origin.status_code == 403
        bad_token = http.get(
            f"/api/widget/{key}/stream", params={"visitor_token": "x"}, headers={"Origin": SITE}
        )
        assert bad_token.status_code == 401


def test_the_answer_comes_from_the_business_knowledge(client, key):
    token = start(client, key)
    send(client, key, token, "When are you open?")
    run_worker()
    messages = call(client, key, "session", {"visitor_token": token}).json()["messages"]
    assert messages[-1]["sender"] == "ai"
    assert "7am to 7pm" in messages[-1]["text"]
