"""The public REST API on the real PostgreSQL and Redis: keys, scopes, tenants, rate limits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from backend.api import create_app, v1
from backend.core.config import settings
from backend.core.db import session_scope
from backend.models import AuditLog, KnowledgeSource, Message, Outbox
from backend.models.security import APIKey
from backend.security import service as security
from tests.factories import (
    make_business,
    make_channel,
    make_contact,
    make_conversation,
    make_message,
    make_user,
)

pytestmark = pytest.mark.usefixtures("committed")

ALL = list(security.SCOPES)


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app()) as c:
        yield c


def _business_with_conversation(scopes=ALL, *, expires_days=None) -> dict:
    with session_scope() as session:
        business = make_business(session)
        user = make_user(session, business=business)
        channel = make_channel(session, business=business)
        contact = make_contact(session, business=business, name="Amina")
        conversation = make_conversation(session, business=business, contact=contact)
        conversation.channel_integration_id = channel.id
        session.add(conversation)
        make_message(session, conversation=conversation, text="Do you deliver?")
        created = security.create_api_key_for_business(
            session, business_id=business.id, name="CRM", scopes=scopes,
            expires_days=expires_days, created_by_user_id=user.id,
        )  # fmt: skip
        return {
            "business_id": business.id,
            "conversation_id": conversation.id,
            "contact_id": contact.id,
            "key": created.key,
            "key_id": created.id,
        }


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_openapi_documents_at_least_eight_paths_without_a_key(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.")
    assert len(doc["paths"]) >= 8
    assert "/api/v1/conversations/{conversation_id}/messages" in doc["paths"]


def test_every_route_answers_401_without_or_with_a_bad_key(client):
    for path in ["/api/v1/conversations", "/api/v1/contacts", "/api/v1/leads", "/api/v1/me"]:
        assert client.get(path).status_code == 401
        bad = client.get(path, headers=_auth("bb_deadbeef_not-a-real-key"))
        assert bad.status_code == 401
        assert bad.json()["code"] == "unauthorized"
        assert bad.headers["www-authenticate"].startswith("Bearer")


def test_the_key_is_stored_only_as_a_hash_with_a_visible_prefix():
    ctx = _business_with_conversation()
    with session_scope() as session:
        row = session.get(APIKey, ctx["key_id"])
        assert ctx["key"].startswith(row.prefix + "_")
        assert row.prefix.startswith("bb_")
        assert ctx["key"] not in row.key_hash
        assert len(row.key_hash) == 64


def test_lists_conversations_and_messages_of_the_keys_business_only(client):
    mine = _business_with_conversation()
    other = _business_with_conversation()
    listed = client.get("/api/v1/conversations", headers=_auth(mine["key"]))
    assert listed.status_code == 200
    assert [c["id"] for c in listed.json()["data"]] == [mine["conversation_id"]]
    assert listed.json()["data"][0]["contact_name"] == "Amina"

    one = client.get(f"/api/v1/conversations/{mine['conversation_id']}", headers=_auth(mine["key"]))
    assert one.status_code == 200
    assert one.json()["id"] == mine["conversation_id"]
    msgs = client.get(
        f"/api/v1/conversations/{mine['conversation_id']}/messages", headers=_auth(mine["key"])
    )
    assert [m["text"] for m in msgs.json()["data"]] == ["Do you deliver?"]

    # Another business's conversation is not found, and nothing of it is shown.
    for path in [
        f"/api/v1/conversations/{other['conversation_id']}",
        f"/api/v1/conversations/{other['conversation_id']}/messages",
    ]:
        response = client.get(path, headers=_auth(mine["key"]))
        assert response.status_code == 404
        assert "Do you deliver" not in response.text
    sent = client.post(
        f"/api/v1/conversations/{other['conversation_id']}/messages",
        headers=_auth(mine["key"]),
        json={"text": "hi"},
    )
    assert sent.status_code == 404
    contacts = client.get("/api/v1/contacts", headers=_auth(mine["key"])).json()["data"]
    assert [c["id"] for c in contacts] == [mine["contact_id"]]


def test_sends_a_message_through_the_channel_outbox(client):
    ctx = _business_with_conversation()
    response = client.post(
        f"/api/v1/conversations/{ctx['conversation_id']}/messages",
        headers=_auth(ctx["key"]),
        json={"text": "Yes, within 10 km."},
    )
    assert response.status_code == 201, response.text
    assert response.json()["text"] == "Yes, within 10 km."
    with session_scope() as session:
        message = session.get(Message, response.json()["id"])
        assert message.direction == "outbound"
        assert message.sender_type == "agent"
        assert session.exec(select(Outbox).where(Outbox.message_id == message.id)).first()
    empty = client.post(
        f"/api/v1/conversations/{ctx['conversation_id']}/messages",
        headers=_auth(ctx["key"]),
        json={"text": "  "},
    )
    assert empty.status_code == 400
    assert "text" in empty.json()["error"]


def test_a_key_without_the_scope_gets_403_and_changes_nothing(client):
    ctx = _business_with_conversation(scopes=["conversations:read"])
    response = client.post(
        f"/api/v1/conversations/{ctx['conversation_id']}/messages",
        headers=_auth(ctx["key"]),
        json={"text": "hello"},
    )
    assert response.status_code == 403
    assert "messages:write" in response.json()["error"]
    faq = client.post(
        "/api/v1/knowledge/faqs",
        headers=_auth(ctx["key"]),
        json={"question": "Q?", "answer": "A."},
    )
    assert faq.status_code == 403
    with session_scope() as session:
        assert session.exec(select(Message).where(Message.direction == "outbound")).first() is None
        assert session.exec(select(KnowledgeSource)).first() is None


def test_creates_and_lists_faqs(client):
    ctx = _business_with_conversation()
    created = client.post(
        "/api/v1/knowledge/faqs",
        headers=_auth(ctx["key"]),
        json={"question": "Do you deliver?", "answer": "Yes, within 10 km for $3."},
    )
    assert created.status_code == 201, created.text
    assert created.json()["question"] == "Do you deliver?"
    listed = client.get("/api/v1/knowledge/faqs", headers=_auth(ctx["key"])).json()["data"]
    assert [f["question"] for f in listed] == ["Do you deliver?"]
    bad = client.post("/api/v1/knowledge/faqs", headers=_auth(ctx["key"]), json={"answer": "x"})
    assert bad.status_code == 400
    assert "question" in bad.json()["error"]
    search = client.get("/api/v1/knowledge/search", headers=_auth(ctx["key"]))
    assert search.status_code == 400


def test_a_key_of_a_business_without_members_is_refused(client):
    with session_scope() as session:
        business_id = make_business(session).id
        created = security.create_api_key_for_business(
            session, business_id=business_id, name="x", scopes=["orders:read"]
        )
    assert client.get("/api/v1/me", headers=_auth(created.key)).status_code == 401


def test_leads_orders_and_me(client):
    ctx = _business_with_conversation()
    assert client.get("/api/v1/leads", headers=_auth(ctx["key"])).json() == {"data": []}
    assert client.get("/api/v1/orders", headers=_auth(ctx["key"])).json() == {"data": []}
    me = client.get("/api/v1/me", headers=_auth(ctx["key"])).json()
    assert me["business_id"] == ctx["business_id"]
    assert "orders:read" in me["scopes"]
    assert client.get("/api/v1/leads?limit=0", headers=_auth(ctx["key"])).status_code == 400


def test_revoked_and_expired_keys_are_refused(client):
    ctx = _business_with_conversation()
    assert client.get("/api/v1/me", headers=_auth(ctx["key"])).status_code == 200
    with session_scope() as session:
        row = session.get(APIKey, ctx["key_id"])
        assert row.last_used_at is not None
        actor = security.Actor(user_id=row.created_by_user_id, business_id=row.business_id,
                               role="owner")  # fmt: skip
        security.revoke_api_key(session, actor=actor, key_id=row.id, ip="203.0.113.9")
    assert client.get("/api/v1/me", headers=_auth(ctx["key"])).status_code == 401
    with session_scope() as session:
        actions = session.exec(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions == ["api_key.created", "api_key.revoked"]

    expired = _business_with_conversation()
    with session_scope() as session:
        row = session.get(APIKey, expired["key_id"])
        row.expires_at = row.created_at
        session.add(row)
    response = client.get("/api/v1/me", headers=_auth(expired["key"]))
    assert response.status_code == 401
    assert "expired" in response.json()["error"]


def test_a_flood_of_bad_keys_gets_429_with_retry_after(client):
    limit = int(v1.FAILED_AUTH_LIMIT.split("/")[0])
    codes = [
        client.get("/api/v1/conversations", headers=_auth("bb_bad_key")).status_code
        for _ in range(limit + 3)
    ]
    assert codes[:limit] == [401] * limit
    assert codes[limit:] == [429] * 3
    last = client.get("/api/v1/conversations", headers=_auth("bb_bad_key"))
    assert int(last.headers["retry-after"]) >= 1


def test_each_key_is_limited_on_its_own(client, monkeypatch):
    monkeypatch.setattr(v1, "KEY_LIMIT", "3/minute")
    busy = _business_with_conversation()
    calm = _business_with_conversation()
    codes = [client.get("/api/v1/me", headers=_auth(busy["key"])).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert client.get("/api/v1/me", headers=_auth(calm["key"])).status_code == 200


def test_cli_prints_the_key_once_as_json():
    with session_scope() as session:
        business = make_business(session)
        business_id = business.id
        make_user(session, business=business)  # a CLI key acts as the business's owner
    env = {"DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
           "PYTHONWARNINGS": "ignore"}  # fmt: skip

    result = subprocess.run(
        [sys.executable, "-m", "backend.cli", "api-key", "create", "--business", str(business_id),
         "--scopes", "conversations:read,messages:write", "--name", "Zapier",
         "--expires-days", "30"],
        capture_output=True, text=True, env={**os.environ, **env}, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["key"].startswith("bb_")
    assert data["business_id"] == business_id
    assert data["scopes"] == ["conversations:read", "messages:write"]
    with TestClient(create_app()) as c:
        assert c.get("/api/v1/me", headers=_auth(data["key"])).status_code == 200
    bad = subprocess.run(
        [sys.executable, "-m", "backend.cli", "api-key", "create", "--business", str(business_id),
         "--scopes", "everything"],
        capture_output=True, text=True, env={**os.environ, **env}, timeout=120, check=False,
    )  # fmt: skip
    assert bad.returncode == 1
    assert "scopes" in bad.stderr


def test_failed_auth_is_counted_per_forwarded_client_only_behind_trusted_proxies(
    client, monkeypatch
):
    monkeypatch.setattr(v1, "FAILED_AUTH_LIMIT", "2/minute")
    spoofed = [
        client.get(
            "/api/v1/me", headers={**_auth("bb_bad"), "X-Forwarded-For": f"10.0.0.{n}"}
        ).status_code
        for n in range(3)
    ]
    assert spoofed == [401, 401, 429]  # without trusted proxies the header is ignored

    monkeypatch.setattr(settings, "trusted_proxy_hops", 1)
    one = {**_auth("bb_bad"), "X-Forwarded-For": "203.0.113.1, 10.9.9.9"}
    other = {**_auth("bb_bad"), "X-Forwarded-For": "203.0.113.2"}
    assert [client.get("/api/v1/me", headers=one).status_code for _ in range(3)] == [401, 401, 429]
    assert client.get("/api/v1/me", headers=other).status_code == 401
