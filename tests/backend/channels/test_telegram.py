"""The Telegram adapter: Bot API updates parsed, python-telegram-bot against the fake Bot API."""

from __future__ import annotations

import json

import pytest

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
    Unsupported,
)
from backend.channels.telegram import adapter, to_markdown_v2
from tests.backend.channels.helpers import TELEGRAM, payload, payload_json, telegram_headers
from tests.fakes.telegram_server import markdown_v2_problem

CFG = ChannelConfig(integration_id=1, business_id=1, kind="telegram", credentials=TELEGRAM)
CHAT = "987654321"


def parse(name: str):
    return adapter.parse(payload("telegram", name), CFG)


def out(text="Hello", **kw) -> OutboundMessage:
    return OutboundMessage(message_id=3, conversation_id=1, recipient_id=CHAT, text=text, **kw)


def test_the_secret_token_header_is_required_and_must_match():
    body = payload("telegram", "text")
    adapter.verify(telegram_headers(), body, CFG)
    with pytest.raises(MissingSignature):
        adapter.verify({}, body, CFG)
    with pytest.raises(InvalidSignature):
        adapter.verify(telegram_headers("guessed"), body, CFG)


def test_a_text_message_uses_update_id_as_its_key_and_the_chat_as_the_contact():
    [event] = parse("text")
    assert isinstance(event, MessageIn)
    assert (event.external_id, event.sender_id) == ("730001001", CHAT)
    assert (event.sender_name, event.text) == ("Amina Hassan", "Hi, do you bake gluten-free bread?")
    assert event.message_ref == f"{CHAT}:41"


def test_start_with_a_deep_link_payload():
    [event] = parse("start_deeplink")
    assert (event.content_type, event.text) == ("command", "/start promo_june")
    assert event.attachments == [{"type": "start", "payload": "promo_june"}]


@pytest.mark.parametrize(
    ("name", "content_type", "text", "attachment"),
    [
        (
            "photo",
            "image",
            "This one please",
            {"type": "image", "file_id": "AgACAgQAAxkBAAIBlarge", "status": "pending"},
        ),
        (
            "document",
            "document",
            "",
            {"type": "document", "filename": "menu.pdf", "mime_type": "application/pdf"},
        ),
        ("location", "location", "Location: -1.292066, 36.821945", {"type": "location"}),
        ("contact", "contacts", "Contact: Amina Hassan +254711223344", {"type": "contact"}),
    ],
)
def test_photos_documents_locations_and_contacts(name, content_type, text, attachment):
    [event] = parse(name)
    assert (event.content_type, event.text) == (content_type, text)
    assert attachment.items() <= event.attachments[0].items()


def test_a_button_press_becomes_the_buttons_text_and_is_answered_in_the_reply():
    [event] = parse("callback_query")
    assert (event.content_type, event.text, event.sender_id) == ("interactive", "Delivery", CHAT)
    assert adapter.webhook_response([event]) == {
        "method": "answerCallbackQuery",
        "callback_query_id": "4382bfdwdsb323b2d9",
    }


def test_edits_name_the_original_message():
    [event] = parse("edited_message")
    assert isinstance(event, Edit)
    assert (event.external_id, event.message_external_id) == ("730001008", f"{CHAT}:41")
    assert event.text == "Hi, do you bake gluten-free cakes?"


def test_a_reaction_names_the_message_and_its_removal_is_an_empty_emoji():
    [event] = parse("message_reaction")
    assert isinstance(event, Reaction)
    assert (event.external_id, event.message_external_id, event.sender_id, event.emoji) == (
        "730001020",
        f"{CHAT}:42",
        CHAT,
        "❤",
    )
    update = payload_json("telegram", "message_reaction")
    update["update_id"] += 1
    update["message_reaction"]["old_reaction"] = update["message_reaction"]["new_reaction"]
    update["message_reaction"]["new_reaction"] = []
    [removed] = adapter.parse(json.dumps(update).encode(), CFG)
    assert (removed.external_id, removed.emoji) == ("730001021", "")
    # Anonymous reactions (no user: a group's admins) are stored as unsupported.
    update["message_reaction"].pop("user")
    update["message_reaction"]["chat"]["type"] = "supergroup"
    [anonymous] = adapter.parse(json.dumps(update).encode(), CFG)
    assert isinstance(anonymous, Unsupported)


def test_groups_stickers_and_other_updates_are_stored_as_unsupported():
    [group] = parse("group_message")
    assert isinstance(group, Unsupported)
    assert group.sender_id is None
    assert "supergroup" in group.description
    [sticker] = parse("sticker")
    assert isinstance(sticker, Unsupported)
    assert sticker.sender_id == CHAT
    [member] = parse("my_chat_member")
    assert isinstance(member, Unsupported)
    assert "my_chat_member" in member.description


def test_bad_updates_are_refused():
    with pytest.raises(BadPayload, match="not JSON"):
        adapter.parse(b"<xml/>", CFG)
    with pytest.raises(BadPayload, match="update_id"):
        adapter.parse(b'{"message": {}}', CFG)
    with pytest.raises(BadPayload, match=r"chat\.id"):
        adapter.parse(b'{"update_id": 5, "message": {"text": "hi"}}', CFG)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Open 7am-7pm. Price: $6 (small)!", r"Open 7am\-7pm\. Price: $6 \(small\)\!"),
        ("**Sourdough** costs 6.50", r"*Sourdough* costs 6\.50"),
        (
            "See [our menu](https://example.com/menu_(1))",
            r"See [our menu](https://example.com/menu_(1\))",
        ),
        ("Use `code_1` here", r"Use `code_1` here"),
        ("a_b * c", r"a\_b \* c"),
        ("2 * 3 * 4 = 24", r"2 \* 3 \* 4 \= 24"),
        ("*Fresh* today", r"_Fresh_ today"),
    ],
)
def test_markdown_is_escaped_for_telegram(text, expected):
    converted = to_markdown_v2(text)
    assert converted == expected
    assert markdown_v2_problem(converted) is None


def test_text_goes_out_as_markdown_v2_with_an_inline_keyboard(telegram):
    result = adapter.send(
        out("Hours: 7am-7pm. Anything else?", quick_replies=["Menu", "Delivery"]), CFG
    )
    assert result.error is None
    assert result.external_id.startswith(f"{CHAT}:")
    [call] = telegram.sent("sendMessage")
    assert call.params["parse_mode"] == "MarkdownV2"
    assert call.params["text"] == r"Hours: 7am\-7pm\. Anything else?"
    keyboard = call.params["reply_markup"]["inline_keyboard"]
    assert [row[0]["text"] for row in keyboard] == ["Menu", "Delivery"]
    assert [row[0]["callback_data"] for row in keyboard] == ["qr0", "qr1"]


def test_photos_and_documents(telegram):
    msg = out(
        "The menu",
        attachments=[
            {"type": "image", "url": "https://shop.example/p.jpg"},
            {"type": "document", "url": "https://shop.example/m.pdf"},
        ],
    )
    assert adapter.send(msg, CFG).error is None
    photo, document = telegram.sent()
    assert (photo.method, photo.params["photo"], photo.params["caption"]) == (
        "sendPhoto",
        "https://shop.example/p.jpg",
        "The menu",
    )
    assert document.method == "sendDocument"
    assert "caption" not in document.params


def test_429_gives_retry_after_and_blocked_bots_are_final(telegram):
    telegram.rate_limit_next(retry_after=7)
    limited = adapter.send(out(), CFG)
    assert (limited.retryable, limited.retry_after) == (True, 7.0)
    assert "retry" in limited.error.lower()
    telegram.fail_next("Forbidden: bot was blocked by the user", status=403)
    blocked = adapter.send(out(), CFG)
    assert blocked.retryable is False
    assert blocked.error == "Telegram: Forbidden: bot was blocked by the user"


def test_connect_shows_the_bot_and_register_sets_the_webhook_with_the_secret(telegram):
    info = adapter.connect(CFG)
    assert (info.ok, info.display_name) == (True, "Sunrise Bakery (@sunrise_bot)")
    assert adapter.register(CFG, "https://bizbot.example/webhooks/telegram/1").ok
    webhook = telegram.webhook(TELEGRAM["bot_token"])
    assert webhook["url"] == "https://bizbot.example/webhooks/telegram/1"
    assert webhook["secret_token"] == TELEGRAM["webhook_secret"]
    assert set(webhook["allowed_updates"]) == {
        "message",
        "edited_message",
        "callback_query",
        "message_reaction",
    }
    wrong = ChannelConfig(1, 1, "telegram", credentials={"bot_token": "999:WRONG"})
    info = adapter.connect(wrong)
    assert info.ok is False
    assert "Unauthorized" in info.error
    assert "999:WRONG" not in info.error  # the token is never echoed


def test_files_are_fetched_through_getfile(telegram):
    telegram.add_file("AgACAgQAAxkBAAIBlarge", b"\xff\xd8photo")
    file = adapter.download(
        {"type": "image", "file_id": "AgACAgQAAxkBAAIBlarge", "mime_type": "image/jpeg"},
        CFG,
        max_bytes=1000,
    )
    assert (file.content, file.mime_type) == (b"\xff\xd8photo", "image/jpeg")
    with pytest.raises(MediaError, match=r"over the"):
        adapter.download({"file_id": "x", "file_size": 30_000_000}, CFG, max_bytes=50_000_000)
    with pytest.raises(MediaError, match=r"(?i)invalid file_id"):
        adapter.download({"file_id": "missing"}, CFG, max_bytes=1000)
