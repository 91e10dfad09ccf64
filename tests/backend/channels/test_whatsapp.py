"""The WhatsApp adapter: Meta's webhook shapes parsed, and pywa against the fake Graph API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backend.channels import media
from backend.channels.base import (
    BadPayload,
    ChannelConfig,
    Edit,
    InvalidSignature,
    MediaError,
    MessageIn,
    MissingSignature,
    OutboundMessage,
    Reaction,
    StatusUpdate,
    Unsupported,
)
from backend.channels.whatsapp import adapter
from backend.core.config import settings
from tests.backend.channels.helpers import APP_SECRET, VERIFY_TOKEN, WHATSAPP, meta_headers, payload

CFG = ChannelConfig(integration_id=1, business_id=1, kind="whatsapp", credentials=WHATSAPP)
NOW = datetime.now(UTC)


def parse(name: str):
    return adapter.parse(payload("whatsapp", name), CFG)


def out(text="Hello", **kw) -> OutboundMessage:
    fields = {"customer_last_message_at": NOW - timedelta(hours=1)} | kw
    return OutboundMessage(
        message_id=7, conversation_id=1, recipient_id="254712345678", text=text, **fields
    )


# --- webhooks ----------------------------------------------------------------------------------


def test_the_challenge_echoes_only_with_the_right_verify_token():
    query = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    assert adapter.challenge(query, CFG) == "1158201444"
    with pytest.raises(InvalidSignature):
        adapter.challenge({**query, "hub.verify_token": "guess"}, CFG)
    with pytest.raises(MissingSignature):
        adapter.challenge({k: v for k, v in query.items() if k != "hub.verify_token"}, CFG)
    with pytest.raises(BadPayload):
        adapter.challenge({"hub.verify_token": VERIFY_TOKEN}, CFG)


def test_signature_valid_missing_wrong_and_of_another_body():
    body = payload("whatsapp", "text")
    adapter.verify(meta_headers(body), body, CFG)
    adapter.verify({"x-hub-signature-256": meta_headers(body)["X-Hub-Signature-256"]}, body, CFG)
    with pytest.raises(MissingSignature):
        adapter.verify({}, body, CFG)
    with pytest.raises(InvalidSignature):
        adapter.verify(meta_headers(body, secret="not-the-app-secret"), body, CFG)
    with pytest.raises(InvalidSignature):
        adapter.verify(meta_headers(payload("whatsapp", "image")), body, CFG)
    with pytest.raises(InvalidSignature):
        adapter.verify({"X-Hub-Signature-256": "sha256=zz"}, body, CFG)
    no_secret = ChannelConfig(1, 1, "whatsapp", credentials={**WHATSAPP, "app_secret": ""})
    with pytest.raises(InvalidSignature):
        adapter.verify(meta_headers(body, secret=APP_SECRET), body, no_secret)


def test_a_text_message_with_the_contacts_profile_name():
    [event] = parse("text")
    assert isinstance(event, MessageIn)
    assert event.external_id == "wamid.HBgMMjU0NzEyMzQ1Njc4FQIAEhggQUFBQUFB"
    assert (event.sender_id, event.sender_name) == ("254712345678", "Zawadi Njeri")
    assert event.text == "Hello! Do you deliver to Westlands?"
    assert event.timestamp == datetime(2025, 11, 25, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "content_type", "text", "attachment"),
    [
        (
            "image",
            "image",
            "Is this cake available?",
            {"type": "image", "media_id": "1003383421387256", "status": "pending"},
        ),
        (
            "document",
            "document",
            "My order",
            {"type": "document", "media_id": "2004", "filename": "order.pdf"},
        ),
        ("audio", "audio", "", {"type": "audio", "media_id": "3005"}),
        (
            "location",
            "location",
            "Location: Sarit Centre, Westlands, Nairobi (-1.2676, 36.8108)",
            {"type": "location", "latitude": -1.2676},
        ),
        (
            "contacts",
            "contacts",
            "Contact: Baraka Otieno +254 733 000111",
            {"type": "contact", "name": "Baraka Otieno"},
        ),
        ("button_reply", "interactive", "Opening hours", {"type": "reply", "id": "Opening hours"}),
        ("list_reply", "interactive", "Delivery", {"type": "reply", "title": "Delivery"}),
    ],
)
def test_every_message_type_is_understood(name, content_type, text, attachment):
    [event] = parse(name)
    assert isinstance(event, MessageIn)
    assert (event.content_type, event.text) == (content_type, text)
    assert attachment.items() <= event.attachments[0].items()


def test_a_reaction_is_keyed_by_message_reaction_and_sender():
    [event] = parse("reaction")
    assert isinstance(event, Reaction)
    assert (event.message_external_id, event.emoji, event.sender_id) == (
        "wamid.OUT1",
        "\U0001f44d",
        "254712345678",
    )
    assert event.external_id.startswith("wamid.OUT1:\U0001f44d:254712345678")


def test_unknown_types_are_kept_as_unsupported_with_whatsapps_reason():
    [event] = parse("unsupported")
    assert isinstance(event, Unsupported)
    assert event.sender_id == "254712345678"
    assert "'unsupported'" in event.description
    assert "Message type unknown" in event.description


def test_status_callbacks_are_keyed_by_message_and_status():
    [sent] = parse("status_sent")
    delivered, read = parse("status_delivered_read")
    [failed] = parse("status_failed")
    assert all(isinstance(e, StatusUpdate) for e in (sent, delivered, read, failed))
    assert [e.external_id for e in (sent, delivered, read)] == [
        "wamid.OUT1:sent",
        "wamid.OUT1:delivered",
        "wamid.OUT1:read",
    ]
    assert failed.status == "failed"
    assert failed.error == "Message undeliverable (code 131026): Message Undeliverable."


def test_several_entries_and_changes_in_one_post_keep_metas_order():
    events = parse("multiple_entries")
    assert [type(e).__name__ for e in events] == [
        "MessageIn",
        "MessageIn",
        "MessageIn",
        "StatusUpdate",
    ]
    assert [getattr(e, "text", None) for e in events[:3]] == [
        "First question",
        "Second question",
        "Habari, mko wazi leo?",
    ]
    assert events[2].sender_name == "Juma"


def test_edits_and_account_notifications():
    [edit] = parse("edit")
    assert isinstance(edit, Edit)
    assert edit.message_external_id == "wamid.HBgMMjU0NzEyMzQ1Njc4FQIAEhggQUFBQUFB"
    assert edit.text == "Hello! Do you deliver to Kilimani?"
    [notice] = parse("template_status_update")
    assert isinstance(notice, Unsupported)
    assert notice.sender_id is None
    assert "message_template_status_update" in notice.description


def test_bad_shapes_are_refused_with_the_reason():
    with pytest.raises(BadPayload, match="not JSON"):
        adapter.parse(b"{nope", CFG)
    with pytest.raises(BadPayload, match="whatsapp_business_account"):
        adapter.parse(b'{"object": "page", "entry": []}', CFG)
    with pytest.raises(BadPayload, match="changes"):
        parse("valid_json_wrong_shape")


def test_events_for_another_phone_number_are_not_taken_as_this_channels():
    other = ChannelConfig(1, 1, "whatsapp", credentials={**WHATSAPP, "phone_number_id": "999"})
    [event] = adapter.parse(payload("whatsapp", "text"), other)
    assert isinstance(event, Unsupported)
    assert "another phone number" in event.description


# --- sending, setup and media against the fake Graph API ---------------------------------------


def test_text_and_quick_reply_buttons_are_sent(graph):
    assert adapter.send(out("Hello there"), CFG).external_id.startswith("wamid.")
    result = adapter.send(out("Pick one", quick_replies=["Opening hours", "Delivery"]), CFG)
    assert result.error is None
    plain, buttons = graph.sent()
    assert plain["text"]["body"] == "Hello there"
    assert plain["to"] == "254712345678"
    assert buttons["type"] == "interactive"
    titles = [b["reply"]["title"] for b in buttons["interactive"]["action"]["buttons"]]
    assert titles == ["Opening hours", "Delivery"]
    long = adapter.send(out("Pick", quick_replies=[f"Option {n}" for n in range(5)]), CFG)
    assert long.error is None
    assert graph.sent()[-1]["interactive"]["type"] == "list"


def test_outside_24_hours_only_a_template_goes_out(graph):
    stale = out("Are you still there?", customer_last_message_at=NOW - timedelta(hours=25))
    result = adapter.send(stale, CFG)
    assert result.retryable is False
    assert "24-hour customer-service window" in result.error
    assert "template" in result.error
    assert graph.sent() == []
    never = adapter.send(out("Hi", customer_last_message_at=None), CFG)
    assert "last wrote never" in never.error
    template = {
        "type": "template",
        "name": "order_ready",
        "language": "en_US",
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "42"}]}],
    }
    sent = adapter.send(
        out("", customer_last_message_at=NOW - timedelta(days=3), template=template), CFG
    )
    assert sent.error is None
    [body] = graph.sent()
    assert body["template"]["name"] == "order_ready"
    assert body["template"]["language"] == {"code": "en_US"}


def test_platform_errors_are_shown_as_whatsapp_words_them(graph):
    graph.fail_next(
        "messages",
        code=131047,
        message="Re-engagement message",
        details="Message failed to send because more than 24 hours have passed",
    )
    assert "24-hour" in adapter.send(out(), CFG).error
    graph.fail_next("messages", code=130429, message="Rate limit hit")
    limited = adapter.send(out(), CFG)
    assert (limited.error, limited.retryable) == ("Rate limit hit (code 130429)", True)
    graph.fail_next("messages", code=131026, message="Message undeliverable")
    assert adapter.send(out(), CFG).retryable is False
    graph.fail_next("messages", code=2, message="Service temporarily unavailable", status=500)
    assert adapter.send(out(), CFG).retryable is True


def test_media_is_sent_by_link_or_uploaded_from_storage(graph, tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "data_dir", tmp_path)
    stored = media.store(
        business_id=1,
        name="agent-upload",
        file=media.MediaFile(b"%PDF-1.4 menu", "application/pdf", "menu.pdf"),
    )
    msg = out(
        "Our menu",
        attachments=[
            {"type": "image", "url": "https://shop.example.com/cake.jpg"},
            {"type": "document", **stored},
        ],
    )
    assert adapter.send(msg, CFG).error is None
    image, document = graph.sent("messages")
    assert image["image"] == {"link": "https://shop.example.com/cake.jpg", "caption": "Our menu"}
    assert document["document"]["filename"] == "menu.pdf"
    assert document["document"]["id"].startswith("media-up-")
    assert len(graph.sent("media")) == 1


def test_connect_shows_the_numbers_name_or_the_exact_error(graph):
    info = adapter.connect(CFG)
    assert (info.ok, info.display_name) == (True, "Sunrise Bakery (+254 700 000001)")
    wrong = ChannelConfig(1, 1, "whatsapp", credentials={**WHATSAPP, "access_token": "nope"})
    info = adapter.connect(wrong)
    assert info.ok is False
    assert info.error == "Invalid OAuth access token - Cannot parse access token (code 190)"
    assert adapter.register(CFG, "https://bizbot.example/webhooks/whatsapp/1").ok
    assert graph.state.subscribed == [WHATSAPP["waba_id"]]


def test_media_downloads_within_the_size_limit(graph):
    graph.add_media("1003383421387256", b"\xff\xd8jpeg-bytes", "image/jpeg")
    attachment = {"type": "image", "media_id": "1003383421387256"}
    file = adapter.download(attachment, CFG, max_bytes=1000)
    assert (file.content, file.mime_type) == (b"\xff\xd8jpeg-bytes", "image/jpeg")
    with pytest.raises(MediaError, match="over the"):
        adapter.download(attachment, CFG, max_bytes=5)
    with pytest.raises(MediaError, match="does not exist"):
        adapter.download({"type": "image", "media_id": "gone"}, CFG, max_bytes=1000)
