"""Messenger and Instagram: Meta's messaging webhooks parsed, the Send API and its windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backend.channels.base import (
    BadPayload,
    ChannelConfig,
    Echo,
    Edit,
    MessageIn,
    OutboundMessage,
    Reaction,
    Receipt,
    Unsupported,
)
from backend.channels.instagram import adapter as instagram
from backend.channels.messenger import adapter as messenger
from tests.backend.channels.helpers import INSTAGRAM, MESSENGER, payload

FB = ChannelConfig(integration_id=1, business_id=1, kind="messenger", credentials=MESSENGER)
IG = ChannelConfig(integration_id=2, business_id=1, kind="instagram", credentials=INSTAGRAM)
NOW = datetime.now(UTC)
PSID = "6789012345678901"


def fb(name: str):
    return messenger.parse(payload("messenger", name), FB)


def ig(name: str):
    return instagram.parse(payload("instagram", name), IG)


def out(text="Hello", *, hours_ago: float = 1, sender_type="ai", **kw) -> OutboundMessage:
    return OutboundMessage(
        message_id=9,
        conversation_id=1,
        recipient_id=PSID,
        text=text,
        sender_type=sender_type,
        customer_last_message_at=NOW - timedelta(hours=hours_ago),
        **kw,
    )


def test_messenger_text_quick_reply_postback_and_image():
    [text] = fb("text")
    assert isinstance(text, MessageIn)
    assert (text.external_id, text.sender_id, text.text) == (
        "m_AbC1",
        PSID,
        "Hi! Can I order a birthday cake?",
    )
    assert text.timestamp == datetime.fromtimestamp(1764057600.1, UTC)
    [quick] = fb("quick_reply")
    assert (quick.content_type, quick.text) == ("interactive", "Delivery")
    [postback] = fb("postback")
    assert (postback.external_id, postback.text, postback.content_type) == (
        "m_PB1",
        "Get Started",
        "interactive",
    )
    [image] = fb("image")
    assert image.content_type == "image"
    assert image.attachments == [{"type": "image", "url": "CDN/cake.jpg", "status": "pending"}]


def test_echoes_reactions_edits_and_receipts():
    [echo] = fb("echo")
    assert isinstance(echo, Echo)
    assert (echo.external_id, echo.sender_id, echo.app_id) == ("m_ECHO1", PSID, "263902037430900")
    [delivery] = fb("delivery")
    assert isinstance(delivery, Receipt)
    assert (delivery.status, delivery.message_external_ids) == ("delivered", ["m_OUT1"])
    [read] = fb("read")
    assert read.status == "read"
    assert read.external_id == f"read:{PSID}:1764057600690"
    assert datetime.fromisoformat(read.watermark) == datetime.fromtimestamp(1764057600.69, UTC)
    [reaction] = fb("reaction")
    [unreact] = fb("unreact")
    assert isinstance(reaction, Reaction)
    assert (reaction.message_external_id, reaction.emoji) == ("m_OUT1", "\u2764\ufe0f")
    assert unreact.emoji == ""
    assert reaction.external_id != unreact.external_id
    [edit] = fb("message_edit")
    assert isinstance(edit, Edit)
    assert (edit.external_id, edit.message_external_id) == ("m_AbC1:edit:1", "m_AbC1")
    [optin] = fb("optin")
    assert isinstance(optin, Unsupported)
    assert optin.sender_id == PSID
    assert "optin" in optin.description


def test_several_entries_in_one_post():
    events = fb("multiple_entries")
    assert [type(e).__name__ for e in events] == ["MessageIn", "MessageIn", "Receipt"]
    assert [e.external_id for e in events[:2]] == ["m_B1", "m_B2"]


def test_instagram_story_replies_and_mentions_are_shown_as_such():
    [text] = ig("text")
    assert (text.sender_id, text.text) == ("5310000000000001", "Do you have vegan cupcakes?")
    [reply] = ig("story_reply")
    assert (reply.content_type, reply.text) == ("text", "How much is this cake?")
    assert {"type": "story_reply", "story_id": "17920000000000001"}.items() <= reply.attachments[
        0
    ].items()
    [mention] = ig("story_mention")
    assert (mention.content_type, mention.text) == ("story_mention", "Mentioned you in their story")
    assert mention.attachments[0]["status"] == "link"  # never downloaded: Meta's rules


def test_instagram_echo_read_reaction_deleted_and_unsupported():
    [echo] = ig("echo")
    assert (echo.kind, echo.sender_id) == ("echo", "5310000000000001")
    [read] = ig("read")
    assert (read.status, read.message_external_ids, read.watermark) == ("read", ["aWdfOUT1"], None)
    [reaction] = ig("reaction")
    assert reaction.kind == "reaction"
    [deleted] = ig("deleted")
    assert isinstance(deleted, Edit)
    assert deleted.deleted is True
    [unsupported] = ig("unsupported")
    assert isinstance(unsupported, Unsupported)
    assert unsupported.description == "Unsupported Instagram message"


def test_the_webhook_object_must_match_the_channel():
    with pytest.raises(BadPayload, match="expected object='page'"):
        messenger.parse(payload("instagram", "text"), FB)
    with pytest.raises(BadPayload, match=r"sender\.id"):
        messenger.parse(b'{"object": "page", "entry": [{"messaging": [{"message": {}}]}]}', FB)


def test_inside_24_hours_a_response_with_quick_replies_and_our_metadata(graph):
    result = messenger.send(out("Which one?", quick_replies=["Cake", "Bread"]), FB)
    assert result.error is None
    assert result.external_id.startswith("m_")
    [body] = graph.sent("me/messages")
    assert body["messaging_type"] == "RESPONSE"
    assert body["recipient"] == {"id": PSID}
    assert body["message"]["metadata"] == "bizbot:9"
    assert [q["title"] for q in body["message"]["quick_replies"]] == ["Cake", "Bread"]


def test_after_24_hours_only_a_person_replies_with_the_human_agent_tag(graph):
    ai_late = messenger.send(out(hours_ago=30), FB)
    assert ai_late.retryable is False
    assert "only a person can reply now" in ai_late.error
    agent_late = messenger.send(out(hours_ago=30, sender_type="agent"), FB)
    assert agent_late.error is None
    [body] = graph.sent("me/messages")
    assert (body["messaging_type"], body["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")
    too_late = instagram.send(out(hours_ago=24 * 8, sender_type="agent"), IG)
    assert "Instagram's messaging window" in too_late.error
    assert len(graph.sent("me/messages")) == 1


def test_send_api_errors_are_meta_s_own_words(graph):
    graph.fail_next(
        "me/messages",
        code=10,
        subcode=2018278,
        message="(#10) This message is sent outside of allowed window.",
    )
    result = messenger.send(out(), FB)
    assert result.error == (
        "(#10) This message is sent outside of allowed window. (code 10, subcode 2018278)"
    )
    assert result.retryable is False
    graph.fail_next(
        "me/messages", code=613, message="Calls to this api have exceeded the rate limit."
    )
    assert messenger.send(out(), FB).retryable is True


def test_attachments_by_url(graph):
    msg = out("", attachments=[{"type": "image", "url": "https://shop.example/cake.jpg"}])
    assert messenger.send(msg, FB).error is None
    [body] = graph.sent("me/messages")
    assert body["message"]["metadata"] == "bizbot:9"
    assert body["message"]["attachment"] == {
        "type": "image",
        "payload": {"url": "https://shop.example/cake.jpg", "is_reusable": True},
    }


def test_connect_register_and_profiles(graph):
    assert messenger.connect(FB).display_name == "Sunrise Bakery"
    assert instagram.connect(IG).display_name == "@sunrisebakery"
    wrong = ChannelConfig(1, 1, "messenger", credentials={**MESSENGER, "page_id": "1"})
    assert "not to page_id 1" in messenger.connect(wrong).error
    bad = ChannelConfig(1, 1, "messenger", credentials={**MESSENGER, "page_access_token": "x"})
    assert messenger.connect(bad).error.startswith("Invalid OAuth access token")
    assert messenger.register(FB, "https://bizbot.example/webhooks/messenger/1").ok
    graph.add_profile(PSID, first_name="Zawadi", last_name="Njeri")
    assert messenger.profile_name(PSID, FB) == "Zawadi Njeri"
    assert messenger.profile_name("unknown", FB) is None


def test_attachment_download_from_the_cdn(graph):
    url = graph.add_file("cake.jpg", b"\xff\xd8cake", "image/jpeg")
    file = messenger.download({"type": "image", "url": url}, FB, max_bytes=100)
    assert (file.content, file.mime_type) == (b"\xff\xd8cake", "image/jpeg")
