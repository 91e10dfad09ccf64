"""Cost control: tokens per business per month, upserted, and the budget."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from backend.ai import service, usage
from backend.models import AIUsage
from tests.factories import actor_for, make_business

MARCH = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
APRIL = datetime(2026, 4, 1, 0, 0, tzinfo=UTC)


def test_tokens_add_up_in_one_row_per_business_and_month(db):
    business = make_business(db)
    usage.record(db, business_id=business.id, prompt_tokens=100, completion_tokens=20, now=MARCH)
    usage.record(db, business_id=business.id, prompt_tokens=50, completion_tokens=5, now=MARCH)
    usage.record(db, business_id=business.id, prompt_tokens=7, completion_tokens=1, now=APRIL)
    rows = db.exec(
        select(AIUsage).where(AIUsage.business_id == business.id).order_by(AIUsage.month)
    ).all()
    assert [(r.month, r.prompt_tokens, r.completion_tokens, r.requests) for r in rows] == [
        ("2026-03", 150, 25, 2),
        ("2026-04", 7, 1, 1),
    ]


def test_budget_is_per_business_and_month(db):
    business, other = make_business(db), make_business(db)
    usage.record(db, business_id=business.id, prompt_tokens=900, completion_tokens=100, now=MARCH)
    assert not usage.budget_left(db, business_id=business.id, budget=1000, now=MARCH)
    assert usage.budget_left(db, business_id=business.id, budget=1001, now=MARCH)
    assert usage.budget_left(db, business_id=business.id, budget=None, now=MARCH)
    assert usage.budget_left(db, business_id=business.id, budget=1000, now=APRIL)
    assert usage.budget_left(db, business_id=other.id, budget=1000, now=MARCH)


def test_the_rules_page_shows_this_months_usage(db):
    owner, business = actor_for(db)
    service.update_rules(db, actor=owner, monthly_token_budget=500)
    usage.record(db, business_id=business.id, prompt_tokens=400, completion_tokens=150, now=MARCH)
    view = service.get_usage(db, actor=owner, now=MARCH)
    assert (view.month, view.total_tokens, view.requests, view.budget) == ("2026-03", 550, 1, 500)
    assert view.budget_spent


def test_month_is_counted_in_utc():
    nairobi_new_year = datetime.fromisoformat("2026-04-01T01:00:00+03:00")
    assert usage.month_of(nairobi_new_year) == "2026-03"
