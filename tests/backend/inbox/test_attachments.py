"""Files in the inbox: an agent's upload reaches the customer on each channel and shows in the
thread with its delivery status; customers' files, places and contacts are shown; only members
of the business can fetch a stored file; files a channel cannot take are refused with the fix."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from backend.api import create_app
from backend.auth import service as auth
from backend.auth.permissions import Actor
from backend.auth.schemas import LoginTicket
from backend.channels import registry
from backend.conversations import service as pipeline
from backend.core.config import settings
from backend.core.db import session_scope
from backend.inbox import service as inbox
from backend.inbox.schemas import InboxError
from backend.models import Business, Message, Outbox, Role
from tests.backend.channels.helpers import (
    fake_graph,
    fake_telegram,
    make_channel,
    payload,
    rows,
    run_worker,
)
from tests.backend.inbox.helpers import T0, channel, conversation, make_team
from tests.factories import make_business, make_user
from tests.fakes.graph_server import FakeGraph
from tests.fakes.telegram_server import FakeTelegram

PNG = b"\x89PNG\r\n\x1a\n" + b"cake" * 64


@pytest.fixture
def media_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(settings, "data_dir", tmp_path)
    return tmp_path / "media"


@pytest.fixture
def graph(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGraph]:
    with fake_graph(monkeypatch) as server:
        yield server


@pytest.fixture
def telegram(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTelegram]:
    with fake_telegram(monkeypatch) as server:
        yield server


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app()) as test_client:
        yield test_client


def sign_in(client: TestClient, business_id: int, role: Role = Role.AGENT) -> Actor:
    """A new member of the business with `role`, signed in on `client`; as an actor."""
    with session_scope() as session:
        business = session.get(Business, business_id)
        user = make_user(session, business=business, role=role)
        token = auth.start_session(
            session,
            ticket=LoginTicket(user_id=user.id, business_id=business_id),
            ip_address=None,
            user_agent=None,
        )
    client.cookies.set(auth.SESSION_COOKIE, token)
    return Actor(user_id=user.id, business_id=business_id, role=role)


def customer_writes(cfg, kind: str) -> int:
    """The customer's first text arrives through the pipeline; the conversation's id."""
    events_in = registry.get_adapter(kind).parse(payload(kind, "text"), cfg)
    with session_scope() as session:
        pipeline.receive(session, cfg=cfg, events_in=events_in)
    run_worker()
    [message] = rows(Message, Message.direction == "inbound")
    return message.conversation_id


def what_the_channel_received(kind: str, graph, telegram) -> list:
    if kind == "telegram":
        return [c.params for c in telegram.sent("sendPhoto")]
    if kind == "whatsapp":
        return [b for b in graph.sent("messages") if b.get("type") == "image"]
    return [b for b in graph.sent("me/messages") if "filedata" in b]


@pytest.mark.usefixtures("committed")
@pytest.mark.parametrize("kind", ["whatsapp", "telegram", "messenger"])
def test_an_agents_file_reaches_the_customer_and_shows_in_the_thread(
    kind, graph, telegram, media_dir, client
):
    cfg = make_channel(kind)
    conversation_id = customer_writes(cfg, kind)
    agent = sign_in(client, cfg.business_id)

    with session_scope() as session:
        sent = inbox.send_file(
            session, actor=agent, conversation_id=conversation_id, filename="cake.png",
            content=PNG, mime_type="image/png", caption="Your cake",
        )  # fmt: skip
    assert (sent.content_type, sent.delivery_status, sent.text) == ("image", "queued", "Your cake")
    [shown] = sent.attachments
    assert (shown.kind, shown.status, shown.filename, shown.size) == (
        "image",
        "stored",
        "cake.png",
        len(PNG),
    )
    assert shown.url == f"/api/media/{sent.id}/0"
    run_worker("outbound")

    assert len(what_the_channel_received(kind, graph, telegram)) == 1
    with session_scope() as session:
        thread = inbox.get_thread(session, actor=agent, conversation_id=conversation_id)
    mine = next(m for m in thread.messages if m.id == sent.id)
    assert mine.delivery_status == "sent"
    assert thread.conversation.status == "human"  # sending a file takes it, as a reply does

    resp = client.get(shown.url)
    assert (resp.status_code, resp.content) == (200, PNG)
    assert resp.headers["content-type"] == "image/png"
    sign_in(client, cfg.business_id, Role.VIEWER)  # viewers read conversations too
    assert client.get(shown.url).status_code == 200
    with session_scope() as session:
        stranger = make_business(session).id
    sign_in(client, stranger, Role.OWNER)
    assert client.get(shown.url).status_code == 404
    client.cookies.clear()
    assert client.get(shown.url).status_code == 404


@pytest.mark.usefixtures("committed")
def test_a_file_the_channel_refuses_shows_the_platforms_reason(graph, media_dir):
    cfg = make_channel("whatsapp")
    conversation_id = customer_writes(cfg, "whatsapp")
    graph.fail_next("media", code=131053, message="Media upload error", status=400)
    with session_scope() as session:
        agent = make_user(session, business=session.get(Business, cfg.business_id))
        actor = Actor(user_id=agent.id, business_id=cfg.business_id, role=Role.AGENT)
        sent = inbox.send_file(
            session, actor=actor, conversation_id=conversation_id, filename="cake.png",
            content=PNG, mime_type="image/png",
        )  # fmt: skip
    run_worker("outbound")
    with session_scope() as session:
        thread = inbox.get_thread(session, actor=actor, conversation_id=conversation_id)
    failed = next(m for m in thread.messages if m.id == sent.id)
    assert failed.delivery_status == "failed"
    assert "Media upload error" in failed.error


def test_files_that_break_the_limits_are_refused_with_the_fix_and_nothing_is_stored(
    db, media_dir, monkeypatch
):
    team = make_team(db)
    conv = conversation(db, team.business, integration_id=channel(db, team.business, "telegram"))

    def send(filename: str, content: bytes, mime: str | None) -> InboxError:
        with pytest.raises(InboxError) as refused:
            inbox.send_file(
                db, actor=team.agent, conversation_id=conv.id, filename=filename,
                content=content, mime_type=mime, now=T0,
            )  # fmt: skip
        assert refused.value.field == "file"
        return refused.value

    monkeypatch.setattr(settings, "media_max_mb", 0.001)  # 1,000 bytes
    too_big = send("menu.pdf", b"%PDF" + b"x" * 2000, "application/pdf")
    assert too_big.message == (
        "“menu.pdf” is 0.0 MB, over the 0.001 MB limit for attachments; send a smaller file or a "
        "link to it."
    )
    monkeypatch.setattr(settings, "media_max_mb", 25.0)
    wrong_type = send("setup.exe", b"MZ...", "application/x-msdownload")
    assert "type application/x-msdownload, which BizBot does not send" in wrong_type.message
    assert "application/pdf" in wrong_type.message  # the accepted types are listed
    assert "is empty" in send("blank.pdf", b"", "application/pdf").message

    assert list(db.exec(select(Message).where(Message.direction == "outbound")).all()) == []
    assert list(db.exec(select(Outbox)).all()) == []
    assert not media_dir.exists() or not any(media_dir.rglob("*.*"))


def test_a_file_outside_whatsapps_window_is_refused_like_text(db, media_dir):
    team = make_team(db)
    conv = conversation(db, team.business, integration_id=channel(db, team.business, "whatsapp"))
    with pytest.raises(InboxError, match="WhatsApp only allows template messages"):
        inbox.send_file(
            db, actor=team.agent, conversation_id=conv.id, filename="cake.png", content=PNG,
            mime_type="image/png", now=T0 + timedelta(days=2),
        )  # fmt: skip


def test_the_type_comes_from_the_name_when_the_browser_gives_none(db, media_dir):
    team = make_team(db)
    conv = conversation(db, team.business, integration_id=channel(db, team.business, "telegram"))
    sent = inbox.send_file(
        db, actor=team.agent, conversation_id=conv.id, filename="C:\\Users\\tom\\menu.pdf",
        content=b"%PDF-1.4", mime_type="", now=T0,
    )  # fmt: skip
    [shown] = sent.attachments
    assert (sent.content_type, shown.kind, shown.filename, shown.mime_type) == (
        "document",
        "document",
        "menu.pdf",
        "application/pdf",
    )


def test_customers_files_places_and_contacts_are_shown_in_the_thread(db):
    team = make_team(db)
    conv = conversation(db, team.business, texts=())
    attachments = [
        {"type": "image", "status": "stored", "path": f"{team.business.id}/a.jpg", "size": 2048,
         "mime_type": "image/jpeg", "filename": None},
        {"type": "audio", "status": "pending", "media_id": "77"},
        {"type": "document", "status": "failed",
         "error": "the file is 31.2 MB, over the 25 MB limit (MEDIA_MAX_MB)"},
        {"type": "location", "latitude": -1.2921, "longitude": 36.8219, "name": "Sunrise Bakery",
         "address": "Moi Avenue"},
        {"type": "contact", "name": "Amina Otieno", "phones": ["+254700000002"]},
        {"type": "quick_replies", "options": ["Yes"]},
    ]  # fmt: skip
    message = Message(
        business_id=team.business.id, conversation_id=conv.id, text="", content_type="image",
        attachments=attachments, created_at=T0,
    )  # fmt: skip
    db.add(message)
    db.flush()

    [shown] = inbox.get_thread(db, actor=team.viewer, conversation_id=conv.id, now=T0).messages
    image, audio, document, place, person = shown.attachments
    assert (image.kind, image.status, image.url, image.size) == (
        "image",
        "stored",
        f"/api/media/{message.id}/0",
        2048,
    )
    assert (audio.kind, audio.status, audio.url) == ("audio", "pending", None)
    assert (document.status, document.url) == ("failed", None)
    assert "over the 25 MB limit" in document.error
    assert (place.kind, place.title) == ("location", "Sunrise Bakery, Moi Avenue")
    assert place.map_url == (
        "https://www.openstreetmap.org/?mlat=-1.2921&mlon=36.8219#map=16/-1.2921/36.8219"
    )
    assert (person.kind, person.title, person.detail) == (
        "contact",
        "Amina Otieno",
        "+254700000002",
    )
