"""Notifications: the bell, preferences, live events, and email through a local SMTP server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import select

from backend.core.config import settings
from backend.core.db import session_scope
from backend.core.queue import get_queue
from backend.core.redis import get_redis
from backend.leads import service as leads
from backend.live import tenant_channel
from backend.models import Notification
from backend.notifications import service as notifications
from backend.notifications import tasks
from backend.notifications.schemas import EmailFailed, NotificationError
from tests.backend.inbox.helpers import live_events, make_team, run_worker
from tests.fakes.smtp_server import FakeSMTP


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSMTP]:
    with FakeSMTP() as server:
        monkeypatch.setattr(settings, "smtp_host", server.host)
        monkeypatch.setattr(settings, "smtp_port", server.port)
        monkeypatch.setattr(settings, "smtp_security", "none")
        monkeypatch.setattr(settings, "smtp_from", "BizBot <bizbot@shop.example>")
        yield server


@pytest.fixture
def no_smtp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "smtp_host", None)


def ping(db, team, kind="new_handoff", users=None, key=None, title="A customer needs a person"):
    return notifications.notify(
        db,
        business_id=team.business.id,
        kind=kind,
        user_ids=users or [team.agent.user_id],
        title=title,
        body="Zawadi asked for a person.",
        link="/conversations?c=7",
        data={"conversation_id": 7},
        dedup_key=key,
    )


@pytest.mark.usefixtures("no_smtp")
def test_the_bell_lists_counts_and_marks_read(db):
    team, other = make_team(db), make_team(db)
    for n in range(3):
        ping(db, team, title=f"Handoff {n}")
    ping(db, team, users=[team.owner.user_id])
    page = notifications.list_notifications(db, actor=team.agent, limit=2)
    assert [n.title for n in page.items] == ["Handoff 2", "Handoff 1"]
    assert (page.unread_count, page.items[0].data, page.items[0].read) == (
        3,
        {"conversation_id": 7},
        False,
    )
    rest = notifications.list_notifications(db, actor=team.agent, before_id=page.next_before_id)
    assert ([n.title for n in rest.items], rest.next_before_id) == (["Handoff 0"], None)
    assert notifications.mark_read(db, actor=team.agent, notification_ids=[page.items[0].id]) == 1
    assert notifications.unread_count(db, actor=team.agent) == 2
    owners = notifications.list_notifications(db, actor=team.owner).items
    # Someone else's ids (another member, another business) change nothing.
    assert notifications.mark_read(db, actor=team.agent, notification_ids=[owners[0].id]) == 0
    assert notifications.mark_read(db, actor=other.owner, notification_ids=[owners[0].id]) == 0
    assert notifications.mark_all_read(db, actor=team.agent) == 2
    assert notifications.unread_count(db, actor=team.agent) == 0
    assert notifications.unread_count(db, actor=team.owner) == 1
    assert notifications.list_notifications(db, actor=team.agent, unread_only=True).items == []


@pytest.mark.usefixtures("no_smtp")
def test_a_dedup_key_notifies_once_and_outsiders_are_never_notified(db):
    team, other = make_team(db), make_team(db)
    assert len(ping(db, team, key="handoff:1")) == 1
    assert ping(db, team, key="handoff:1") == []
    assert ping(db, team, users=[other.agent.user_id]) == []
    assert notifications.unread_count(db, actor=other.agent) == 0
    with pytest.raises(NotificationError) as bad:
        ping(db, team, kind="birthday")
    assert bad.value.field == "kind"


@pytest.mark.usefixtures("no_smtp")
def test_preferences_choose_in_app_and_email_per_kind(db):
    team = make_team(db)
    prefs = notifications.get_preferences(db, actor=team.agent)
    # Other domains may register kinds of their own (e.g. outgoing webhooks); these come first.
    assert [p.kind for p in prefs.items][:6] == [
        "new_handoff",
        "assigned_to_me",
        "sla_about_to_breach",
        "sla_breached",
        "new_lead",
        "payment_received",
    ]
    assert not prefs.email_available
    assert "SMTP_HOST" in prefs.email_unavailable_reason
    notifications.set_preference(
        db, actor=team.agent, kind="new_handoff", in_app=False, email=False
    )
    assert ping(db, team) == []  # turned off entirely: nothing stored
    notifications.set_preference(db, actor=team.agent, kind="new_handoff", in_app=False, email=True)
    [email_only] = ping(db, team)
    row = db.get(Notification, email_only)
    assert (row.in_app, row.email_requested) == (False, True)
    assert "SMTP_HOST" in row.email_error  # no SMTP: the reason is kept, nothing queued
    assert notifications.unread_count(db, actor=team.agent) == 0  # not in the bell
    assert get_queue("default").count == 0
    with pytest.raises(NotificationError) as bad:
        notifications.set_preference(
            db, actor=team.agent, kind="everything", in_app=True, email=True
        )
    assert bad.value.field == "kind"
    [changed] = [
        p
        for p in notifications.get_preferences(db, actor=team.agent).items
        if p.kind == "new_handoff"
    ]
    assert (changed.in_app, changed.email) == (False, True)


@pytest.mark.usefixtures("committed")
def test_email_goes_through_the_smtp_server_by_a_job(smtp):
    with session_scope() as session:
        team = make_team(session)
        notifications.set_preference(
            session, actor=team.agent, kind="new_handoff", in_app=True, email=True
        )
        pubsub = get_redis().pubsub()
        pubsub.subscribe(tenant_channel(team.business.id))
        pubsub.get_message(timeout=0.5)
        [notification_id] = ping(session, team)
    assert smtp.messages == []  # nothing is sent inside the transaction
    assert get_queue("default").count == 1
    run_worker("default")
    [email] = smtp.messages
    with session_scope() as session:
        agent_email = session.get(Notification, notification_id)
        from backend.models import User

        address = session.get(User, team.agent.user_id).email
    assert email.envelope_to == [address]
    assert email.subject.endswith("A customer needs a person")
    assert team.business.name in email.subject
    assert "Zawadi asked for a person." in email.text
    assert f"{settings.public_url}/conversations?c=7" in email.text
    assert agent_email.emailed_at is not None
    assert tasks.send_email(notification_id) == "skipped"  # sent once, however often asked
    assert len(smtp.messages) == 1
    created = [e for e in live_events(pubsub) if e["event"] == "notification.created"]
    assert [(e["user_id"], e["notification_id"]) for e in created] == [
        (team.agent.user_id, notification_id)
    ]


@pytest.mark.usefixtures("committed")
def test_a_refusing_smtp_server_is_recorded_and_retried(smtp):
    with session_scope() as session:
        team = make_team(session)
        notifications.set_preference(
            session, actor=team.agent, kind="new_handoff", in_app=True, email=True
        )
        [notification_id] = ping(session, team)
    smtp.refuse("550 mailbox unavailable")
    with pytest.raises(EmailFailed):
        tasks.send_email(notification_id)
    with session_scope() as session:
        row = session.get(Notification, notification_id)
        assert row.emailed_at is None
        assert "550 mailbox unavailable" in row.email_error
    smtp.refuse(None)
    assert tasks.send_email(notification_id) == "sent"
    with session_scope() as session:
        row = session.get(Notification, notification_id)
        assert (row.email_error, row.emailed_at is not None) == (None, True)


@pytest.mark.usefixtures("committed", "no_smtp")
def test_a_new_lead_notifies_the_team_once():
    with session_scope() as session:
        team = make_team(session)
        lead = leads.capture(
            session,
            business_id=team.business.id,
            source="widget_offline",
            name="Amina",
            interest="A wedding cake for 200",
        )
    run_worker("default")
    with session_scope() as session:
        found = session.exec(select(Notification).where(Notification.kind == "new_lead")).all()
        assert {n.user_id for n in found} == {team.owner.user_id, *(a.user_id for a in team.agents)}
        assert found[0].title == "New lead: Amina"
    assert tasks.notify_new_lead(lead.id, team.business.id) == 0  # run twice: once only


@pytest.mark.usefixtures("no_smtp")
def test_payment_received_goes_to_owners_and_admins(db):
    team = make_team(db)
    created = notifications.notify_payment_received(
        db, business_id=team.business.id, payment_id=9, amount="KES 2,000", payer="Amina"
    )
    [row] = [db.get(Notification, i) for i in created]
    assert (row.user_id, row.title) == (
        team.owner.user_id,
        "Payment received: KES 2,000 from Amina",
    )
