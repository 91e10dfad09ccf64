"""AI rules: the row per business, the AI Rules page's services, hours and keyword matching."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from backend.ai import rules as ai_rules
from backend.ai import service
from backend.ai.rules import RulesError, RulesView
from backend.auth.permissions import PermissionDenied
from backend.models import AIRule, Role
from tests.factories import actor_for, make_business

NAIROBI_HOURS = {
    "timezone": "Africa/Nairobi",
    "days": {day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
    | {"sat": [["09:00", "13:00"]]},
}


def test_rules_are_created_with_the_defaults_on_first_read(db):
    owner, business = actor_for(db)
    view = service.get_rules(db, actor=owner)
    assert (view.confidence_threshold, view.max_ai_turns, view.tone) == (0.55, 8, "friendly")
    assert view.business_name == business.name
    assert view.default_language == "en"
    rows = db.exec(select(AIRule).where(AIRule.business_id == business.id)).all()
    assert len(rows) == 1
    service.rules_for(db, business_id=business.id)
    assert len(db.exec(select(AIRule).where(AIRule.business_id == business.id)).all()) == 1


def test_owner_updates_the_rules_and_the_engine_sees_them(db):
    owner, business = actor_for(db)
    view = service.update_rules(
        db,
        actor=owner,
        tone="formal",
        persona_name="Amani",
        confidence_threshold="0.7",
        handoff_keywords="refund, complaint\nlawyer",
        blocked_topics=["politics", "Politics ", "medical advice"],
        business_hours=NAIROBI_HOURS,
        max_ai_turns=5,
        monthly_token_budget=100_000,
        extra_instructions="  Always mention our free delivery over 2000 KES.  ",
    )
    assert view.confidence_threshold == 0.7
    assert view.handoff_keywords == ["refund", "complaint", "lawyer"]
    assert view.blocked_topics == ["politics", "medical advice"]
    assert view.extra_instructions == "Always mention our free delivery over 2000 KES."
    engine_view = service.rules_for(db, business_id=business.id)
    assert engine_view == view
    assert engine_view.business_hours["timezone"] == "Africa/Nairobi"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"confidence_threshold": 1.5}, "confidence_threshold"),
        ({"confidence_threshold": -0.1}, "confidence_threshold"),
        ({"confidence_threshold": "high"}, "confidence_threshold"),
        ({"business_hours": {"days": {"mon": [["8am", "6pm"]]}}}, "business_hours"),
        ({"business_hours": {"days": {"monday": [["08:00", "18:00"]]}}}, "business_hours"),
        ({"business_hours": {"days": {"mon": [["18:00", "08:00"]]}}}, "business_hours"),
        ({"business_hours": {"timezone": "Mars/Base", "days": {}}}, "business_hours"),
        ({"business_hours": "9 to 5"}, "business_hours"),
        ({"max_ai_turns": -1}, "max_ai_turns"),
        ({"max_ai_turns": "lots"}, "max_ai_turns"),
        ({"monthly_token_budget": -5}, "monthly_token_budget"),
        ({"tone": " "}, "tone"),
        ({"languages": ["english"]}, "languages"),
        ({"use_llm": "yes"}, "use_llm"),
        ({"price_of_bread": 1}, "price_of_bread"),
    ],
)
def test_bad_rules_name_the_field(db, change, field):
    owner, business = actor_for(db)
    with pytest.raises(RulesError) as err:
        service.update_rules(db, actor=owner, **change)
    assert err.value.field == field
    assert field in err.value.message
    assert service.rules_for(db, business_id=business.id).max_ai_turns == 8


@pytest.mark.parametrize("role", [Role.AGENT, Role.VIEWER])
def test_only_admins_and_owners_manage_rules(db, role):
    member, business = actor_for(db, role=role)
    with pytest.raises(PermissionDenied):
        service.update_rules(db, actor=member, tone="rude")
    with pytest.raises(PermissionDenied):
        service.get_rules(db, actor=member)
    assert service.rules_for(db, business_id=business.id).tone == "friendly"


def test_admin_manages_rules(db):
    admin, _ = actor_for(db, role=Role.ADMIN)
    assert service.update_rules(db, actor=admin, greeting="Karibu!").greeting == "Karibu!"


def test_rules_of_one_business_never_change_another(db):
    owner, _ = actor_for(db)
    other = make_business(db)
    service.update_rules(db, actor=owner, tone="formal")
    assert service.rules_for(db, business_id=other.id).tone == "friendly"


# --- business hours ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "open_"),
    [
        (datetime(2026, 3, 2, 6, 0, tzinfo=UTC), True),  # Monday 09:00 in Nairobi
        (datetime(2026, 3, 2, 4, 59, tzinfo=UTC), False),  # Monday 07:59 in Nairobi
        (datetime(2026, 3, 2, 15, 0, tzinfo=UTC), False),  # Monday 18:00 in Nairobi: closed
        (datetime(2026, 3, 7, 9, 30, tzinfo=UTC), True),  # Saturday 12:30
        (datetime(2026, 3, 7, 10, 30, tzinfo=UTC), False),  # Saturday 13:30
        (datetime(2026, 3, 8, 9, 0, tzinfo=UTC), False),  # Sunday: not in the days
    ],
)
def test_business_hours_in_the_business_timezone(now, open_):
    rules = RulesView(business_id=1, business_hours=ai_rules.validate_hours(NAIROBI_HOURS))
    assert ai_rules.is_open(rules, now) is open_


def test_no_hours_means_always_open():
    assert ai_rules.is_open(RulesView(business_id=1), datetime(2026, 3, 8, 3, 0, tzinfo=UTC))


def test_hours_without_timezone_use_the_business_timezone():
    rules = RulesView(
        business_id=1,
        timezone="America/New_York",
        business_hours={"days": {"mon": [["09:00", "17:00"]]}},
    )
    assert ai_rules.is_open(rules, datetime(2026, 3, 2, 15, 0, tzinfo=UTC))  # 10:00 in NY
    assert not ai_rules.is_open(rules, datetime(2026, 3, 2, 10, 0, tzinfo=UTC))  # 05:00 in NY


def test_a_day_can_end_at_midnight():
    hours = ai_rules.validate_hours({"days": {"fri": [["18:00", "24:00"]]}})
    rules = RulesView(business_id=1, business_hours=hours)
    assert ai_rules.is_open(rules, datetime(2026, 3, 6, 23, 59, tzinfo=UTC))


# --- keywords and topics -----------------------------------------------------------------


def test_handoff_keywords_match_whole_words_ignoring_case_and_accents():
    rules = RulesView(business_id=1, handoff_keywords=["refund", "réclamation", "wakili"])
    assert ai_rules.handoff_keyword(rules, "I want a REFUND now") == "refund"
    assert ai_rules.handoff_keyword(rules, "je fais une reclamation") == "réclamation"
    assert ai_rules.handoff_keyword(rules, "Nataka wakili") == "wakili"
    assert ai_rules.handoff_keyword(rules, "refundable deposit?") is None


def test_blocked_topics_match_related_word_forms():
    rules = RulesView(business_id=1, blocked_topics=["politics", "medical advice"])
    assert ai_rules.blocked_topic(rules, "What do you think about politics?") == "politics"
    assert ai_rules.blocked_topic(rules, "who is your favourite political party") == "politics"
    assert ai_rules.blocked_topic(rules, "I need medical advice") == "medical advice"
    assert ai_rules.blocked_topic(rules, "Do you have a birthday cake?") is None
