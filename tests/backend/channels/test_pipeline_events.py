"""Channel events through the real pipeline: edits, reactions, echoes, receipts, media, limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from rq.registry import ScheduledJobRegistry

from backend.channels import media, registry
from backend.channels import service as channels
from backend.conversations import service, tasks
from backend.core.config import settings
from backend.core.db import session_scope
from backend.core.queue import get_queue
from backend.models import Contact, Conversation, InboundEvent, Message, Outbox
from backend.models.channels import WebhookDelivery
from tests.backend.channels.helpers import make_channel, payload, rows, run_worker

pytestmark = pytest.mark.usefixtures("committed")


def deliver(cfg, channel: str, name: str, **replace: str) -> list[int]:
    events_in = registry.get_adapter(cfg.kind).parse(payload(channel, name, **replace), cfg)
    with session_scope() as session:
        return service.receive(session, cfg=cfg, events_in=events_in)


@pytest.fixture
def media_dir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setattr(settings, "data_dir", tmp_path)
    return tmp_path / "media"


def test_an_edit_updates_the_stored_text(telegram):
    cfg = make_channel("telegram")
    deliver(cfg, "telegram", "text")
    deliver(cfg, "telegram", "edited_message")
    run_worker()
    [customer] = rows(Message, Message.direction == "inbound")
    assert customer.text == "Hi, do you bake gluten-free cakes?"
    assert customer.external_id == "730001001"


def test_whatsapp_edits_and_instagram_deletions(graph):
    wa = make_channel("whatsapp")
    deliver(wa, "whatsapp", "text")
    deliver(wa, "whatsapp", "edit")
    ig = make_channel("instagram")
    deliver(ig, "instagram", "text")
    deliver(ig, "instagram", "deleted")
    run_worker()
    texts = {
        m.external_id: (m.text, m.error) for m in rows(Message, Message.direction == "inbound")
    }
    assert texts["wamid.HBgMMjU0NzEyMzQ1Njc4FQIAEhggQUFBQUFB"] == (
        "Hello! Do you deliver to Kilimani?",
        None,
    )
    assert texts["aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQx"] == (
        "",
        "The customer deleted this message.",
    )


def test_reactions_are_stored_and_never_answered(graph):
    cfg = make_channel("whatsapp")
    deliver(cfg, "whatsapp", "text")
    run_worker()
    [reply] = rows(Message, Message.direction == "outbound")
    deliver(cfg, "whatsapp", "reaction", **{"wamid.OUT1": reply.external_id})
    deliver(cfg, "whatsapp", "reaction", **{"wamid.OUT1": reply.external_id})  # redelivered
    run_worker()
    [reaction] = rows(Message, Message.content_type == "reaction")
    assert (reaction.text, reaction.sender_type) == ("\U0001f44d", "customer")
    assert reaction.attachments[0]["message_id"] == reply.id
    assert len(graph.sent()) == 1  # only the first answer


def test_a_telegram_reaction_to_the_bots_reply_shows_on_that_reply_in_the_inbox(telegram):
    from backend.auth.permissions import Actor
    from backend.inbox import service as inbox
    from backend.models import Business, Role
    from tests.factories import make_user

    cfg = make_channel("telegram")
    deliver(cfg, "telegram", "text")
    run_worker()
    [reply] = rows(Message, Message.direction == "outbound")
    chat, message_id = reply.external_id.split(":")  # Telegram names it chat:message_id
    update = json.loads(payload("telegram", "message_reaction"))
    update["message_reaction"]["message_id"] = int(message_id)
    body = json.dumps(update).encode()
    for _ in range(2):  # redelivered: stored once
        events_in = registry.get_adapter("telegram").parse(body, cfg)
        with session_scope() as session:
            service.receive(session, cfg=cfg, events_in=events_in)
    run_worker()
    [reaction] = rows(Message, Message.content_type == "reaction")
    assert (reaction.text, reaction.attachments[0]["message_id"]) == ("❤", reply.id)
    assert len(telegram.sent()) == 1  # a reaction is never answered

    with session_scope() as session:
        user = make_user(session, business=session.get(Business, cfg.business_id))
        agent = Actor(user_id=user.id, business_id=cfg.business_id, role=Role.AGENT)
        thread = inbox.get_thread(session, actor=agent, conversation_id=reply.conversation_id)
    shown = {m.id: m.reaction for m in thread.messages}
    assert shown[reply.id] == "❤"

    # Taking it back clears it.
    update["update_id"] += 1
    update["message_reaction"]["new_reaction"] = []
    events_in = registry.get_adapter("telegram").parse(json.dumps(update).encode(), cfg)
    with session_scope() as session:
        service.receive(session, cfg=cfg, events_in=events_in)
    run_worker()
    with session_scope() as session:
        thread = inbox.get_thread(session, actor=agent, conversation_id=reply.conversation_id)
    assert {m.id: m.reaction for m in thread.messages}[reply.id] == ""
    assert chat == str(update["message_reaction"]["chat"]["id"])


def test_echoes_from_the_page_are_stored_as_outbound_and_our_own_are_not_doubled(graph):
    cfg = make_channel("messenger")
    deliver(cfg, "messenger", "text")
    run_worker()
    [reply] = rows(Message, Message.direction == "outbound")
    own = json.loads(payload("messenger", "echo"))
    own["entry"][0]["messaging"][0]["message"].update(mid="m_OWN", metadata=f"bizbot:{reply.id}")
    events_in = registry.get_adapter("messenger").parse(json.dumps(own).encode(), cfg)
    with session_scope() as session:
        service.receive(session, cfg=cfg, events_in=events_in)
    deliver(cfg, "messenger", "echo")
    run_worker()
    outbound = rows(Message, Message.direction == "outbound")
    assert [(m.sender_type, m.text) for m in outbound] == [
        ("ai", reply.text),
        ("agent", "Hi Zawadi, this is Mary from the shop."),
    ]
    assert outbound[1].delivery_status == "sent"
    assert len(graph.sent("me/messages")) == 1  # the echo was not answered


def test_receipts_mark_our_messages_delivered_then_read(graph):
    cfg = make_channel("messenger")
    deliver(cfg, "messenger", "text")
    run_worker()
    [reply] = rows(Message, Message.direction == "outbound")
    deliver(cfg, "messenger", "delivery", m_OUT1=reply.external_id)
    run_worker()
    assert rows(Message, Message.id == reply.id)[0].delivery_status == "delivered"
    later = int((datetime.now(UTC) + timedelta(minutes=1)).timestamp() * 1000)
    deliver(cfg, "messenger", "read", **{"1764057600690": str(later)})
    run_worker()
    assert rows(Message, Message.id == reply.id)[0].delivery_status == "read"


def test_inbound_media_is_downloaded_into_data_with_limits(graph, media_dir, monkeypatch):
    cfg = make_channel("whatsapp")
    graph.add_media("1003383421387256", b"\xff\xd8cake-photo", "image/jpeg")
    graph.add_media("2004", b"%PDF-1.4" + b"x" * 5000, "application/pdf")
    monkeypatch.setattr(settings, "media_max_mb", 0.001)  # 1,000 bytes
    deliver(cfg, "whatsapp", "image")
    deliver(cfg, "whatsapp", "document")
    run_worker()
    image, document = rows(Message, Message.direction == "inbound")
    [photo] = image.attachments
    assert (photo["status"], photo["mime_type"], photo["size"]) == ("stored", "image/jpeg", 12)
    assert (media_dir / photo["path"]).read_bytes() == b"\xff\xd8cake-photo"
    assert media.resolve(cfg.business_id, photo["path"]).is_file()
    [pdf] = document.attachments
    assert pdf["status"] == "failed"
    assert "over the 0.001 MB limit" in pdf["error"]


def test_disallowed_types_are_refused_and_a_platform_outage_is_retried(
    graph, media_dir, monkeypatch
):
    cfg = make_channel("messenger")
    url = graph.add_file("cake.jpg", b"\xff\xd8cake", "image/jpeg")
    monkeypatch.setattr(settings, "media_allowed_types", "application/pdf")
    deliver(cfg, "messenger", "image", **{"CDN/cake.jpg": url})
    run_worker("inbound")
    [message] = rows(Message, Message.direction == "inbound")
    assert tasks.download_media(message.id) == "0 stored, 1 not"
    [attachment] = rows(Message, Message.id == message.id)[0].attachments
    assert attachment["status"] == "failed"
    assert "image/jpeg are not accepted" in attachment["error"]

    monkeypatch.setattr(settings, "media_allowed_types", "image/*")
    with session_scope() as session:
        session.execute(
            sa.update(Message)
            .where(Message.id == message.id)
            .values(
                attachments=[
                    {"type": "image", "url": f"{graph.url}/cdn/later.jpg", "status": "pending"}
                ]
            )
        )
    graph.add_file("later.jpg", b"\xff\xd8later", "image/jpeg")
    graph.fail_next("later.jpg", code=1, message="CDN busy", status=503)
    with pytest.raises(tasks.MediaDownloadFailed):  # a 5xx is retried by the job's backoff
        tasks.download_media(message.id)
    assert rows(Message, Message.id == message.id)[0].attachments[0]["status"] == "pending"
    assert tasks.download_media(message.id) == "1 stored, 0 not"


def test_a_new_meta_contact_gets_their_profile_name(graph):
    cfg = make_channel("messenger")
    graph.add_profile("6789012345678901", first_name="Zawadi", last_name="Njeri")
    deliver(cfg, "messenger", "text")
    run_worker()
    [contact] = rows(Contact)
    assert contact.name == "Zawadi Njeri"
    deliver(cfg, "messenger", "quick_reply")
    run_worker()
    profile_calls = [r for r in graph.requests if r.path.endswith("/6789012345678901")]
    assert len(profile_calls) == 1


def test_telegram_start_is_greeted_not_fed_to_the_ai(telegram):
    cfg = make_channel("telegram")
    deliver(cfg, "telegram", "start_deeplink")
    run_worker()
    start, greeting = rows(Message)
    assert (start.content_type, start.attachments[0]["payload"]) == ("command", "promo_june")
    assert greeting.text == service.DEFAULT_GREETING
    assert telegram.sent("sendMessage")[0].params["text"] == r"Hi\! How can we help you today?"


def test_telegrams_retry_after_is_honoured_by_the_send_job(telegram):
    cfg = make_channel("telegram")
    telegram.rate_limit_next(retry_after=30)
    deliver(cfg, "telegram", "text")
    run_worker("inbound")
    [outbox] = rows(Outbox)
    assert tasks.send_outbound(outbox.id) == "pending"
    [stored] = rows(Outbox)
    assert "retry" in stored.last_error.lower()
    assert 25 < (stored.next_attempt_at - datetime.now(UTC)).total_seconds() <= 30
    assert 25 < tasks.hold_remaining(cfg.integration_id) <= 30
    scheduled = ScheduledJobRegistry(queue=get_queue("outbound"))
    assert len(scheduled.get_job_ids()) == 1
    # Another run before the wait is over (a retry, the sweep) does not call Telegram.
    calls = len(telegram.sent())
    assert tasks.send_outbound(outbox.id) == "pending"
    assert len(telegram.sent()) == calls
    from backend.core.redis import get_redis

    get_redis().delete(f"bizbot:channel-hold:{cfg.integration_id}")  # the 30 s have passed
    assert tasks.send_outbound(outbox.id) == "sent"
    assert rows(Message, Message.direction == "outbound")[0].delivery_status == "sent"


def test_an_agents_late_whatsapp_reply_fails_with_the_window_explained(graph):
    cfg = make_channel("whatsapp")
    deliver(cfg, "whatsapp", "text")
    run_worker()
    with session_scope() as session:
        session.execute(
            sa.update(Conversation).values(
                last_customer_message_at=datetime.now(UTC) - timedelta(hours=30)
            )
        )
        conversation = session.exec(sa.select(Conversation)).scalars().first()
        service.add_outbound(
            session, conversation=conversation, text="Sorry for the wait!", sender_type="agent"
        )
    run_worker()
    late = rows(Message, Message.text == "Sorry for the wait!")[0]
    assert late.delivery_status == "failed"
    assert "24-hour customer-service window" in late.error
    assert len(graph.sent()) == 1
    window = channels.reply_window(
        kind="whatsapp", last_customer_message_at=datetime.now(UTC) - timedelta(hours=30)
    )
    assert (window.open, window.template_required) == (False, True)


def test_raw_bodies_are_purged_after_the_retention_period(graph):
    cfg = make_channel("whatsapp")
    with session_scope() as session:
        for age in (40, 10):
            delivery = channels.record_delivery(
                session, cfg=cfg, body=b"{}", content_type=None, outcome="stored"
            )
            delivery.created_at = datetime.now(UTC) - timedelta(days=age)
    with session_scope() as session:
        assert channels.purge_deliveries(session) == 1
    assert len(rows(WebhookDelivery)) == 1


def test_replaying_a_stored_event_processes_it_again(graph):
    cfg = make_channel("whatsapp")
    [event_id] = deliver(cfg, "whatsapp", "text")
    with session_scope() as session:
        session.execute(
            sa.update(InboundEvent).values(status="failed", attempts=4, last_error="boom")
        )
    assert tasks.process_inbound(event_id) == "failed"
    from backend.conversations import repository as repo

    with session_scope() as session:
        repo.reset_event(session, event_id=event_id)
    assert tasks.process_inbound(event_id) == "done"
    assert len(rows(Message, Message.direction == "inbound")) == 1


def test_an_agent_sends_a_file_uploaded_to_bizbot(telegram, media_dir):
    cfg = make_channel("telegram")
    deliver(cfg, "telegram", "text")
    run_worker()
    with session_scope() as session:
        conversation = session.exec(sa.select(Conversation)).scalars().first()
        service.add_outbound_file(
            session,
            conversation=conversation,
            kind="document",
            file=media.MediaFile(b"%PDF-1.4 menu", "application/pdf", "menu.pdf"),
            caption="Our menu",
        )
        with pytest.raises(media.MediaError, match="not accepted"):
            service.add_outbound_file(
                session,
                conversation=conversation,
                kind="document",
                file=media.MediaFile(b"MZ", "application/x-msdownload", "virus.exe"),
            )
    run_worker()
    [call] = telegram.sent("sendDocument")
    assert call.params["document"]["filename"] == "menu.pdf"
    assert call.params["caption"] == "Our menu"
    sent = rows(Message, Message.content_type == "document")[0]
    assert (sent.delivery_status, sent.attachments[0]["status"]) == ("sent", "stored")
