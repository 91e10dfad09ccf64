"""The Notifications page's filters: kind, date range (the business's days), unread, paging."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from backend.models import Notification
from backend.models.notifications import NotificationKind
from backend.notifications import service as notifications
from backend.notifications.schemas import KIND_FILTERS, KINDS, NotificationError
from tests.backend.inbox.helpers import make_team


def at(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 11, day, hh, mm, tzinfo=UTC)


def notify(db, team, kind: str, title: str, when: datetime, *, user=None) -> int:
    [nid] = notifications.notify(db, business_id=team.business.id, kind=kind,
                                 user_ids=[(user or team.owner).user_id], title=title)  # fmt: skip
    db.execute(sa.update(Notification).where(Notification.id == nid).values(created_at=when))
    return nid


@pytest.fixture
def inbox(db, monkeypatch):
    """The owner's notifications over three days in Nairobi (UTC+3), and a stranger's."""
    monkeypatch.setattr("backend.core.config.settings.smtp_host", None)
    team, other = make_team(db), make_team(db)
    team.business.timezone = "Africa/Nairobi"
    db.add(team.business)
    db.flush()
    notify(db, team, "new_handoff", "Handoff 19th", at(19, 12))
    notify(db, team, "sla_about_to_breach", "SLA soon", at(20, 9))
    # 22:30 UTC on the 20th is 01:30 on the 21st in Nairobi.
    notify(db, team, "sla_breached", "SLA missed", at(20, 22, 30))
    notify(db, team, "new_lead", "Lead Amina", at(21, 10))
    notify(db, team, "payment_received", "Paid KES 500", at(21, 11))
    notify(db, team, "new_handoff", "Agent's handoff", at(21, 11), user=team.agent)
    notify(db, other, "new_handoff", "Other business", at(21, 11))
    return team, other


def titles(page) -> list[str]:
    return [n.title for n in page.items]


def test_every_kind_is_in_exactly_one_filter():
    kinds = [k for f in KIND_FILTERS.values() for k in f.kinds]
    assert sorted(kinds) == sorted(KINDS)


def test_every_notification_kind_has_a_label_and_a_filter_setup_complete_too():
    assert NotificationKind("setup_complete") is NotificationKind.SETUP_COMPLETE
    assert set(KINDS) == set(NotificationKind)
    assert KINDS[NotificationKind.SETUP_COMPLETE].label == "Setup complete"
    assert KIND_FILTERS["setup"].kinds == (NotificationKind.SETUP_COMPLETE,)


def test_the_setup_filter_lists_and_counts_the_setup_complete_notification(db, inbox):
    team, _ = inbox
    notify(db, team, NotificationKind.SETUP_COMPLETE, "All set", at(21, 12))
    page = notifications.list_notifications(db, actor=team.owner, kind="setup")
    assert titles(page) == ["All set"]
    assert [(n.kind, n.title) for n in page.items] == [("setup_complete", "All set")]
    counts = {c.key: c.count for c in notifications.kind_counts(db, actor=team.owner)}
    assert counts["setup"] == 1


def test_filter_by_kind_groups_related_kinds(db, inbox):
    team, _ = inbox
    page = notifications.list_notifications(db, actor=team.owner, kind="sla")
    assert titles(page) == ["SLA missed", "SLA soon"]
    assert titles(notifications.list_notifications(db, actor=team.owner, kind="handoff")) == [
        "Handoff 19th"
    ]  # the agent's and the other business's handoffs are theirs
    assert titles(notifications.list_notifications(db, actor=team.owner, kind="template")) == []


def test_filter_by_days_of_the_business_time_zone(db, inbox):
    team, _ = inbox
    day21 = notifications.list_notifications(
        db, actor=team.owner, start=date(2026, 11, 21), end=date(2026, 11, 21)
    )
    assert titles(day21) == ["Paid KES 500", "Lead Amina", "SLA missed"]
    since20 = notifications.list_notifications(db, actor=team.owner, start=date(2026, 11, 20))
    assert len(since20.items) == 4
    until19 = notifications.list_notifications(db, actor=team.owner, end=date(2026, 11, 19))
    assert titles(until19) == ["Handoff 19th"]


def test_filters_combine_with_unread_and_paging(db, inbox):
    team, _ = inbox
    sla = notifications.list_notifications(db, actor=team.owner, kind="sla")
    notifications.mark_read(db, actor=team.owner, notification_ids=[sla.items[0].id])
    unread_sla = notifications.list_notifications(db, actor=team.owner, kind="sla",
                                                  unread_only=True)  # fmt: skip
    assert titles(unread_sla) == ["SLA soon"]
    first = notifications.list_notifications(db, actor=team.owner, start=date(2026, 11, 20),
                                             limit=3)  # fmt: skip
    assert titles(first) == ["Paid KES 500", "Lead Amina", "SLA missed"]
    rest = notifications.list_notifications(db, actor=team.owner, start=date(2026, 11, 20),
                                            limit=3, before_id=first.next_before_id)  # fmt: skip
    assert (titles(rest), rest.next_before_id) == (["SLA soon"], None)
    # The badge stays the member's whole unread count, whatever the filter.
    assert first.unread_count == unread_sla.unread_count == 4


def test_counts_per_kind_follow_the_dates(db, inbox):
    team, _ = inbox
    counts = {c.key: (c.count, c.unread) for c in notifications.kind_counts(db, actor=team.owner)}
    assert counts == {"handoff": (1, 1), "assignment": (0, 0), "sla": (2, 2), "lead": (1, 1),
                      "payment": (1, 1), "template": (0, 0), "billing": (0, 0),
                      "webhook": (0, 0), "setup": (0, 0)}  # fmt: skip
    day21 = notifications.kind_counts(db, actor=team.owner, start=date(2026, 11, 21),
                                      end=date(2026, 11, 21))  # fmt: skip
    assert {c.key: c.count for c in day21 if c.count} == {"sla": 1, "lead": 1, "payment": 1}


def test_mark_all_read_marks_all_whatever_the_filter_shows(db, inbox):
    team, other = inbox
    notifications.list_notifications(db, actor=team.owner, kind="sla")
    assert notifications.mark_all_read(db, actor=team.owner) == 5
    assert notifications.unread_count(db, actor=team.owner) == 0
    assert notifications.unread_count(db, actor=team.agent) == 1  # someone else's stay unread
    assert notifications.unread_count(db, actor=other.owner) == 1


def test_bad_filters_name_the_fix(db, inbox):
    team, _ = inbox
    with pytest.raises(NotificationError, match="Unknown kind filter 'cake'; use one of handoff"):
        notifications.list_notifications(db, actor=team.owner, kind="cake")
    with pytest.raises(NotificationError, match="before the start date; swap them") as bad:
        notifications.list_notifications(
            db, actor=team.owner, start=date(2026, 11, 21), end=date(2026, 11, 20)
        )
    assert bad.value.field == "end"
