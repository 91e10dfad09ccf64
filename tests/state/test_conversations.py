"""How the Conversations page shows rows and decides which live changes belong in its list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from backend.inbox.schemas import (
    AttachmentView,
    ContactMatch,
    InboxRow,
    MessageView,
    SourceChunkView,
)
from state.conversations import (
    Filters,
    conversation_item,
    match_item,
    message_item,
    retime,
    size_label,
    sla_label,
)

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _row(**changes) -> InboxRow:
    values = {
        "id": 1, "contact_id": 2, "contact_name": "Wanjiru", "channel_kind": "whatsapp",
        "channel_name": "Shop line", "status": "waiting_for_agent", "assignee_user_id": None,
        "assignee_name": None, "labels": ["vip"], "unread_count": 2, "priority": "high",
        "last_message_preview": "Where is my cake?", "last_message_sender": "customer",
        "last_activity_at": NOW - timedelta(minutes=5), "sla_state": "warning",
        "sla_metric": "first_response", "sla_due_at": NOW + timedelta(minutes=3),
        "sla_seconds_left": 180,
    }  # fmt: skip
    return InboxRow(**{**values, **changes})


def test_a_row_says_who_where_and_how_long_is_left():
    item = conversation_item(_row(), NOW)
    assert item.contact_name == "Wanjiru"
    assert item.channel_label == "WhatsApp"
    assert item.status_label == "Waiting"
    assert item.when == "5 min ago"
    assert item.sla_label == "First reply · 3 min left"
    later = retime(item, NOW + timedelta(minutes=5))
    assert later.when == "10 min ago"
    assert later.sla_label == "First reply · overdue 2 min"


def test_sla_labels():
    assert sla_label("none", "", 0, False) == ""
    assert sla_label("ok", "resolution", 7200, False) == "Resolution · 2 h left"
    assert sla_label("ok", "next_response", 60, True) == "Next reply · paused (closed hours)"


def test_the_list_keeps_only_rows_its_filters_allow():
    mine, theirs = _row(assignee_user_id=5), _row(assignee_user_id=6, status="human")
    resolved = _row(status="resolved", unread_count=0)
    assert Filters().matches(mine, 5)
    assert not Filters().matches(resolved, 5)
    assert Filters(tab="all").matches(resolved, 5)
    assert not Filters(tab="human").matches(mine, 5)
    assert Filters(assignee="me").matches(mine, 5)
    assert not Filters(assignee="me").matches(theirs, 5)
    assert not Filters(assignee="unassigned").matches(mine, 5)
    assert not Filters(channel="telegram").matches(mine, 5)
    assert Filters(label="vip").matches(mine, 5)
    assert not Filters(label="wholesale").matches(mine, 5)
    assert not Filters(unread=True).matches(resolved, 5)


def test_an_ai_reply_shows_its_confidence_and_sources():
    view = MessageView(
        id=9, conversation_id=1, direction="outbound", sender_type="ai",
        sender_name="AI assistant", text="We open at 7.", content_type="text",
        created_at=NOW, is_private_note=False, delivery_status="failed",
        error="Window closed", language="en", ai_confidence=0.823,
        sources=[SourceChunkView(3, 4, "Opening hours", "When do you open?", "7 to 19", True)],
    )  # fmt: skip
    item = message_item(view, NOW)
    assert item.kind == "ai"
    assert item.confidence_pct == 82
    assert item.delivery_label == "Failed"
    assert item.error == "Window closed"
    assert [s.title for s in item.sources] == ["Opening hours"]
    note = message_item(
        MessageView(**{**view.__dict__, "is_private_note": True, "sender_type": "agent"}), NOW
    )
    assert note.kind == "note"


def test_a_message_shows_its_files_and_the_customers_reaction():
    view = MessageView(
        id=12, conversation_id=1, direction="inbound", sender_type="customer",
        sender_name="Wanjiru", text="", content_type="image", created_at=NOW,
        is_private_note=False, delivery_status=None, error=None, language=None,
        ai_confidence=None, reaction="❤",
        attachments=[
            AttachmentView(index=0, kind="image", status="stored", url="/api/media/12/0",
                           size=2_300_000, mime_type="image/jpeg"),
            AttachmentView(index=1, kind="document", status="failed",
                           error="the file is 31.2 MB, over the 25 MB limit"),
        ],
    )  # fmt: skip
    item = message_item(view, NOW)
    image, document = item.attachments
    assert (image.url, image.filename, image.size_label) == ("/api/media/12/0", "Image", "2.3 MB")
    assert (document.status, document.filename, document.url) == ("failed", "File", "")
    assert item.reaction == "❤"
    assert [size_label(n) for n in (None, 812, 14_200)] == ["", "812 bytes", "14 KB"]


def test_a_possible_duplicate_says_why_and_where():
    match = ContactMatch(
        id=4, name="Wanjiru K", email="w@example.com", phone="+254712345678",
        channel_kinds=["telegram", "whatsapp"], conversations=1, reason="phone",
    )  # fmt: skip
    item = match_item(match)
    assert item.detail == "+254712345678 · w@example.com"
    assert item.channels == "Telegram, WhatsApp · 1 conversation"
    assert item.reason == "Same phone number"
