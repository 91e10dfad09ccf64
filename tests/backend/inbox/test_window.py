"""The 24-hour windows in the composer: WhatsApp (templates only after 24 h) and Messenger /
Instagram (Human Agent tag up to 7 days, then nothing); a refused reply stores nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from backend.channels.service import reply_window
from backend.inbox import service as inbox
from backend.inbox.schemas import InboxError
from backend.models import Message, Outbox
from tests.backend.inbox.helpers import T0, channel, conversation, make_team, minutes


def hours(n: float) -> timedelta:
    """A duration in hours."""
    return timedelta(hours=n)


def outbound(db) -> list[Message]:
    return list(db.exec(select(Message).where(Message.direction == "outbound")).all())


def test_whatsapp_after_three_days_only_a_template_and_the_notice_says_so():
    window = reply_window(kind="whatsapp", last_customer_message_at=T0, now=T0 + timedelta(days=3))
    assert (window.open, window.template_required) == (False, True)
    assert window.notice.startswith(
        "The customer last wrote 3 days ago; WhatsApp only allows template messages outside "
        "24 hours: send an approved template (Send a template)"
    )


def test_whatsapp_shows_the_time_left_only_in_the_last_hour():
    early = reply_window(kind="whatsapp", last_customer_message_at=T0, now=T0 + hours(2))
    assert (early.open, early.notice, early.closes_at) == (True, None, T0 + hours(24))
    late = reply_window(
        kind="whatsapp", last_customer_message_at=T0, now=T0 + hours(24) - minutes(35)
    )
    assert late.open
    assert "closes in 35 minutes" in late.notice


@pytest.mark.parametrize(
    ("kind", "platform"), [("messenger", "Messenger"), ("instagram", "Instagram")]
)
def test_meta_channels_allow_a_tagged_reply_for_7_days_then_nothing(kind, platform):
    tagged = reply_window(kind=kind, last_customer_message_at=T0, now=T0 + timedelta(days=3))
    assert tagged.open
    assert "Human Agent tag" in tagged.notice
    closed = reply_window(kind=kind, last_customer_message_at=T0, now=T0 + timedelta(days=9))
    assert not closed.open
    assert closed.notice.startswith(f"The customer last wrote 9 days ago; {platform} allows no")


def test_a_customer_who_never_wrote_is_outside_the_window():
    window = reply_window(kind="whatsapp", last_customer_message_at=None, now=T0)
    assert not window.open
    assert window.notice.startswith("The customer has not written on WhatsApp yet;")


def test_the_website_chat_and_telegram_have_no_window():
    for kind in ("widget", "telegram"):
        later = T0 + timedelta(days=30)
        assert reply_window(kind=kind, last_customer_message_at=T0, now=later).open


def test_a_late_whatsapp_reply_is_refused_with_the_notice_and_nothing_is_stored(db):
    team = make_team(db)
    conv = conversation(db, team.business, integration_id=channel(db, team.business, "whatsapp"))
    later = T0 + timedelta(days=3)

    thread = inbox.get_thread(db, actor=team.agent, conversation_id=conv.id, now=later)
    assert not thread.window.open
    assert "last wrote 3 days ago" in thread.window.notice

    with pytest.raises(InboxError) as refused:
        inbox.reply(db, actor=team.agent, conversation_id=conv.id, text="Still there?", now=later)
    assert refused.value.message == thread.window.notice
    assert refused.value.field == "conversation"
    assert outbound(db) == []
    assert list(db.exec(select(Outbox)).all()) == []
    db.refresh(conv)
    assert (conv.status, conv.assignee_user_id) == ("ai", None)  # not taken over either

    # A private note is still fine: it never reaches the customer.
    inbox.add_note(db, actor=team.agent, conversation_id=conv.id, text="Call them instead")


def test_a_whatsapp_reply_inside_the_window_is_queued_and_the_thread_warns_near_the_end(db):
    team = make_team(db)
    conv = conversation(db, team.business, integration_id=channel(db, team.business, "whatsapp"))
    near_end = T0 + hours(24) - minutes(10)
    thread = inbox.get_thread(db, actor=team.agent, conversation_id=conv.id, now=near_end)
    assert thread.window.open
    assert "closes in 10 minutes" in thread.window.notice
    sent = inbox.reply(db, actor=team.agent, conversation_id=conv.id, text="Yes!", now=near_end)
    assert sent.delivery_status == "queued"
    assert [m.text for m in outbound(db)] == ["Yes!"]


def test_a_messenger_reply_after_3_days_goes_out_and_after_8_days_is_refused(db):
    team = make_team(db)
    conv = conversation(db, team.business, integration_id=channel(db, team.business, "messenger"))
    inbox.reply(
        db, actor=team.agent, conversation_id=conv.id, text="Sorry for the wait",
        now=T0 + timedelta(days=3),
    )  # fmt: skip
    with pytest.raises(InboxError, match="Messenger allows no messages"):
        inbox.reply(
            db, actor=team.agent, conversation_id=conv.id, text="Hello?",
            now=T0 + timedelta(days=8),
        )  # fmt: skip
    assert [m.text for m in outbound(db)] == ["Sorry for the wait"]
