"""Business hours on the Settings page live in the AI rules: one storage, one editor (Settings),
and saving the AI Rules page leaves them as they are."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from backend.ai import rules_admin
from backend.ai.rules import RulesView, is_open
from backend.auth.permissions import PermissionDenied
from backend.models import AIRule, Role
from backend.tenants import hours as hours_service
from backend.tenants.service import BusinessError
from tests.factories import actor_for

WEEKDAYS = {"mon": True, "tue": True, "wed": True, "thu": True, "fri": True}
NINE_TO_SIX = dict.fromkeys(WEEKDAYS, "9:00-18:00")


def _rule(db, business_id: int) -> AIRule:
    return db.query(AIRule).filter_by(business_id=business_id).one()


def test_saved_hours_are_the_ai_rules_hours_and_the_engine_uses_them(db):
    owner, business = actor_for(db)
    business.timezone = "Africa/Nairobi"
    view = hours_service.save_hours(
        db, actor=owner, open_days={**WEEKDAYS, "sat": True},
        ranges={**NINE_TO_SIX, "sat": "10:00-13:00, 14:00-16:00"},
        out_of_hours_message="We are closed; we answer at 9.",
    )  # fmt: skip
    rule = _rule(db, business.id)
    assert rule.business_hours == {
        "days": {**{d: [["09:00", "18:00"]] for d in WEEKDAYS},
                 "sat": [["10:00", "13:00"], ["14:00", "16:00"]]},
    }  # fmt: skip
    assert rule.out_of_hours_message == "We are closed; we answer at 9."
    # The AI Rules page reads the same values.
    form = rules_admin.get_rules(db, actor=owner)
    assert form.business_hours == rule.business_hours
    assert form.timezone == view.timezone == "Africa/Nairobi"
    sunday = next(d for d in view.days if d.day == "sun")
    assert (sunday.label, sunday.open) == ("Sunday", False)
    assert next(d for d in view.days if d.day == "sat").ranges == "10:00-13:00, 14:00-16:00"
    # Monday 08:00 in Nairobi is 05:00 UTC: closed; 07:00 UTC is 10:00 there: open.
    rules = RulesView(business_id=business.id, business_hours=rule.business_hours,
                      timezone="Africa/Nairobi")  # fmt: skip
    assert not is_open(rules, datetime(2026, 11, 23, 5, 0, tzinfo=UTC))
    assert is_open(rules, datetime(2026, 11, 23, 7, 0, tzinfo=UTC))


def test_no_open_day_means_open_around_the_clock(db):
    owner, business = actor_for(db)
    hours_service.save_hours(db, actor=owner, open_days=WEEKDAYS, ranges=NINE_TO_SIX,
                             out_of_hours_message="")  # fmt: skip
    view = hours_service.save_hours(db, actor=owner, open_days={}, ranges={},
                                    out_of_hours_message="")  # fmt: skip
    assert view.always_open
    assert _rule(db, business.id).business_hours == {}


def test_a_timezone_set_on_the_ai_rules_page_is_kept(db):
    owner, business = actor_for(db)
    rules_admin.save_rules(db, actor=owner, fields={"business_hours": {
        "timezone": "Europe/Paris", "days": {"mon": [["08:00", "12:00"]]}}})  # fmt: skip
    view = hours_service.save_hours(
        db, actor=owner, open_days={"tue": True}, ranges={"tue": "08:00-12:00"},
        out_of_hours_message="",
    )  # fmt: skip
    assert _rule(db, business.id).business_hours["timezone"] == "Europe/Paris"
    assert view.timezone == "Europe/Paris"


@pytest.mark.parametrize(
    ("text", "words"),
    [("9 to 5", "is not a time range"), ("18:00-09:00", "Tuesday: 18:00 to 09:00 ends before"),
     ("25:00-26:00", "Tuesday: '25:00' is not a time"), ("", "has no hours")],
)  # fmt: skip
def test_bad_hours_name_the_day_and_the_fix(db, text, words):
    owner, business = actor_for(db)
    with pytest.raises(BusinessError) as err:
        hours_service.save_hours(db, actor=owner, open_days={"tue": True}, ranges={"tue": text},
                                 out_of_hours_message="")  # fmt: skip
    assert err.value.field == "hours_tue"
    assert words in err.value.message
    assert db.query(AIRule).filter_by(business_id=business.id).first() is None


# What the AI Rules page saves: every rule it edits, and neither the hours nor the reply.
AI_RULES_PAGE_SAVE = {
    "tone": "formal", "persona_name": "Sunny", "greeting": "", "fallback_message": "",
    "confidence_threshold": 0.55, "handoff_keywords": [], "blocked_topics": [],
    "languages": "", "use_llm": True, "extra_instructions": "", "max_ai_turns": "8",
    "monthly_token_budget": "",
}  # fmt: skip


def test_saving_the_ai_rules_keeps_every_range_saved_on_settings(db):
    owner, business = actor_for(db)
    hours_service.save_hours(
        db, actor=owner, open_days={"mon": True}, ranges={"mon": "08:00-12:00, 14:00-18:00"},
        out_of_hours_message="Closed; back at 8.",
    )  # fmt: skip
    rules_admin.save_rules(db, actor=owner, fields=AI_RULES_PAGE_SAVE)
    rule = _rule(db, business.id)
    assert rule.tone == "formal"
    assert rule.business_hours == {"days": {"mon": [["08:00", "12:00"], ["14:00", "18:00"]]}}
    assert rule.out_of_hours_message == "Closed; back at 8."
    view = hours_service.get_hours(db, actor=owner)
    assert next(d for d in view.days if d.day == "mon").ranges == "08:00-12:00, 14:00-18:00"


def test_each_day_is_checked_on_its_own_and_the_first_bad_one_is_named(db):
    owner, business = actor_for(db)
    with pytest.raises(BusinessError) as err:
        hours_service.save_hours(
            db, actor=owner, open_days={"mon": True, "wed": True, "fri": True},
            ranges={"mon": "08:00-12:00", "wed": "08:00-12:00, 13:00-24:30",
                    "fri": "18:00-09:00"},
            out_of_hours_message="",
        )  # fmt: skip
    assert err.value.field == "hours_wed"
    assert err.value.message.startswith("Wednesday: '24:30' is not a time; use HH:MM")
    assert db.query(AIRule).filter_by(business_id=business.id).first() is None


def test_a_too_long_out_of_hours_reply_names_its_field(db):
    owner, business = actor_for(db)
    with pytest.raises(BusinessError) as err:
        hours_service.save_hours(db, actor=owner, open_days=WEEKDAYS, ranges=NINE_TO_SIX,
                                 out_of_hours_message="x" * 1001)  # fmt: skip
    assert err.value.field == "out_of_hours_message"
    assert "under 1000 characters" in err.value.message
    assert db.query(AIRule).filter_by(business_id=business.id).first() is None


@pytest.mark.parametrize("role", [Role.AGENT, Role.VIEWER])
def test_agents_and_viewers_cannot_change_hours(db, role):
    member, business = actor_for(db, role=role)
    with pytest.raises(PermissionDenied):
        hours_service.save_hours(db, actor=member, open_days=WEEKDAYS, ranges=NINE_TO_SIX,
                                 out_of_hours_message="")  # fmt: skip
    assert db.query(AIRule).filter_by(business_id=business.id).first() is None
