"""The Overview figures against a small, hand-computed set of conversations."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session

from backend.analytics import service as analytics
from backend.analytics.schemas import AnalyticsError
from backend.auth.permissions import PermissionDenied
from backend.knowledge import service as knowledge
from backend.models import Conversation, Message, Role
from backend.models.commerce import Order
from backend.models.handoff import Handoff
from backend.models.payments import Payment
from tests.factories import actor_for, make_business, make_channel, make_contact

START, END = date(2026, 11, 10), date(2026, 11, 12)
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
MARS = "Do you deliver to Mars?"


def at(day: int, hh: int, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(2026, 11, day, hh, mm, ss, tzinfo=UTC)


def _add(session: Session, row):
    session.add(row)
    session.flush()
    return row


def conversation(session, business, channel, created, *, status="ai", csat=None, resolved=None):
    contact = make_contact(session, business=business)
    return _add(session, Conversation(
        business_id=business.id, contact_id=contact.id,
        channel_integration_id=channel.id if channel else None, status=status,
        csat_score=csat, resolved_at=resolved, created_at=created,
    ))  # fmt: skip


def say(session, conv, sender, when, text="…", confidence=None):
    return _add(session, Message(
        business_id=conv.business_id, conversation_id=conv.id,
        direction="inbound" if sender == "customer" else "outbound",
        sender_type=sender, text=text, ai_confidence=confidence, created_at=when,
    ))  # fmt: skip


def seed(session: Session, business) -> dict[str, Conversation]:
    """A..E inside 10-12 Nov (UTC); G just before (23:30 UTC on the 9th), F just after."""
    widget = make_channel(session, business=business, kind="widget")
    telegram = make_channel(session, business=business, kind="telegram")
    c = {}
    # A: answered well, customer never came back → AI-resolved. AI first response 30 s.
    c["A"] = conversation(session, business, widget, at(10, 9))
    say(session, c["A"], "customer", at(10, 9), "When do you open?")
    say(session, c["A"], "ai", at(10, 9, 0, 30), "At 7.", 0.9)
    # B: weak answer, handed over, agent 10 min later, resolved after 1 h, CSAT 5.
    c["B"] = conversation(session, business, widget, at(10, 10), status="resolved", csat=5,
                          resolved=at(10, 11))  # fmt: skip
    say(session, c["B"], "customer", at(10, 10), MARS)
    say(session, c["B"], "ai", at(10, 10, 1), "Let me get a colleague.", 0.2)
    _add(session, Handoff(business_id=business.id, conversation_id=c["B"].id,
                          reason="low_confidence", created_at=at(10, 10, 1)))  # fmt: skip
    say(session, c["B"], "agent", at(10, 10, 11), "Sadly not.")
    # C: weak answer, customer came back 8 min later → not resolved. CSAT 2.
    c["C"] = conversation(session, business, telegram, at(11, 8), csat=2)
    say(session, c["C"], "customer", at(11, 8), "do you deliver to MARS??")
    say(session, c["C"], "ai", at(11, 8, 2), "We deliver within 10 km.", 0.3)
    say(session, c["C"], "customer", at(11, 8, 10), "anyone?")
    # D: 23:30 UTC on the 12th (00:30 on the 13th in Berlin); closed as resolved, CSAT 4.
    c["D"] = conversation(session, business, telegram, at(12, 23, 30), status="resolved",
                          csat=4, resolved=at(12, 23, 40))  # fmt: skip
    say(session, c["D"], "customer", at(12, 23, 30), "Thanks!")
    say(session, c["D"], "ai", at(12, 23, 30, 10), "You're welcome.", 0.95)
    # E: an agent answered directly after 5 min (no handoff), still open.
    c["E"] = conversation(session, business, widget, at(12, 12), status="human")
    say(session, c["E"], "customer", at(12, 12), "Price of a cake?")
    say(session, c["E"], "agent", at(12, 12, 5), "12 dollars.")
    # G and F lie outside the range in UTC; G is inside it in Berlin (00:30 on the 10th).
    c["G"] = conversation(session, business, widget, at(9, 23, 30))
    say(session, c["G"], "customer", at(9, 23, 30), "Hello")
    c["F"] = conversation(session, business, None, at(13, 0, 30))
    say(session, c["F"], "customer", at(13, 0, 30), "Hi")
    return c


@pytest.fixture
def owner(db):
    actor, business = actor_for(db, role=Role.OWNER)
    return actor, business, seed(db, business)


def test_every_figure_of_the_range_matches_the_hand_computed_values(db, owner):
    actor, _, _ = owner
    r = analytics.report(db, actor=actor, start=START, end=END, now=NOW)

    assert r.conversations == 5  # A B C D E
    assert r.ai_resolved == 2  # A (did not come back), D (closed as resolved)
    assert r.ai_resolved_share == pytest.approx(0.4)
    assert r.handed_over == 1
    assert r.handoff_rate == pytest.approx(0.2)
    assert [(x.reason, x.count) for x in r.handoff_reasons] == [("low_confidence", 1)]
    assert r.csat_count == 3
    assert r.csat_average == pytest.approx(11 / 3)
    t = r.times
    # AI first responses 10, 30, 60, 120 s; humans 600 (B, from the handoff) and 300 (E).
    assert (t.ai_first_response.median_seconds, t.ai_first_response.p90_seconds) == pytest.approx(
        (45, 102)
    )
    assert t.ai_first_response.count == 4
    assert (
        t.human_first_response.median_seconds,
        t.human_first_response.p90_seconds,
    ) == pytest.approx((450, 570))
    # AI resolution: A 30 s (last reply), D 600 s (closed); humans: B 3600 s.
    assert (t.ai_resolution.median_seconds, t.ai_resolution.p90_seconds) == pytest.approx(
        (315, 543)
    )
    assert (t.human_resolution.median_seconds, t.human_resolution.count) == (3600, 1)
    assert r.channels == ["telegram", "widget"]
    assert [(p.day, p.by_channel, p.total) for p in r.daily] == [
        (date(2026, 11, 10), {"telegram": 0, "widget": 2}, 2),
        (date(2026, 11, 11), {"telegram": 1, "widget": 0}, 1),
        (date(2026, 11, 12), {"telegram": 1, "widget": 1}, 2),
    ]
    # B's and C's questions are one question once normalised; B's reply and handoff count once.
    assert [(q.normalised, q.count) for q in r.unanswered] == [("do you deliver to mars", 2)]
    assert r.unanswered[0].text in {MARS, "do you deliver to MARS??"}
    assert r.revenue == []


def test_days_are_the_business_time_zone_days(db, owner):
    actor, business, _ = owner
    business.timezone = "Europe/Berlin"  # UTC+1 in November
    db.add(business)
    db.flush()
    r = analytics.report(db, actor=actor, start=START, end=END, now=NOW)
    # G (23:30 UTC on the 9th) is on the 10th; D (23:30 UTC on the 12th) is on the 13th.
    assert r.conversations == 5
    assert [(p.day, p.total) for p in r.daily] == [
        (date(2026, 11, 10), 3),
        (date(2026, 11, 11), 1),
        (date(2026, 11, 12), 1),
    ]
    assert r.period.timezone == "Europe/Berlin"


def test_a_customer_still_inside_the_24_hours_is_not_counted_as_resolved_yet(db, owner):
    actor, _, _ = owner
    just_after_a = at(10, 9, 30)
    r = analytics.report(db, actor=actor, start=START, end=date(2026, 11, 10), now=just_after_a)
    assert r.conversations == 2
    assert r.ai_resolved == 0


def test_the_channel_filter_keeps_only_that_channel(db, owner):
    actor, _, _ = owner
    r = analytics.report(db, actor=actor, start=START, end=END, channel="Telegram", now=NOW)
    assert r.conversations == 2
    assert r.ai_resolved == 1
    assert r.channels == ["telegram"]
    none = analytics.report(db, actor=actor, start=START, end=END, channel="whatsapp", now=NOW)
    assert none.conversations == 0


def test_an_empty_range_has_zero_counts_and_no_averages(db, owner):
    actor, _, _ = owner
    r = analytics.report(db, actor=actor, start=date(2026, 10, 1), end=date(2026, 10, 3), now=NOW)
    assert (r.conversations, r.ai_resolved, r.handed_over, r.csat_count) == (0, 0, 0, 0)
    assert r.ai_resolved_share is None
    assert r.handoff_rate is None
    assert r.csat_average is None
    assert r.times.ai_first_response.median_seconds is None
    assert [p.total for p in r.daily] == [0, 0, 0]
    assert r.unanswered == []
    assert r.handoff_reasons == []


def test_revenue_sums_paid_orders_with_a_succeeded_payment_in_range_by_currency(db, owner):
    actor, business, _ = owner

    def order(n, total, currency, status, payment_status, confirmed):
        o = _add(db, Order(business_id=business.id, number=n, status=status, currency=currency,
                           subtotal_cents=total, total_cents=total))  # fmt: skip
        _add(db, Payment(business_id=business.id, order_id=o.id, provider="stripe",
                         status=payment_status, amount_cents=total, currency=currency,
                         confirmed_at=confirmed, reference=f"r{n}"))  # fmt: skip

    order(1, 2500, "USD", "paid", "succeeded", at(11, 9))
    order(2, 1000, "EUR", "paid", "succeeded", at(12, 9))
    order(3, 1500, "USD", "paid", "succeeded", at(12, 10))
    order(4, 9900, "USD", "awaiting_payment", "failed", at(11, 9))  # not paid
    order(5, 7000, "USD", "paid", "succeeded", at(20, 9))  # paid after the range
    r = analytics.report(db, actor=actor, start=START, end=END, now=NOW)
    assert [(x.currency, x.total_cents, x.orders) for x in r.revenue] == [
        ("EUR", 1000, 1),
        ("USD", 4000, 2),
    ]


@pytest.mark.parametrize(
    ("role", "sees_revenue"),
    [(Role.OWNER, True), (Role.ADMIN, True), (Role.AGENT, False), (Role.VIEWER, False)],
)
def test_every_role_reads_conversation_figures_and_only_managers_see_revenue(
    db, owner, role, sees_revenue
):
    _, business, _ = owner
    actor, _ = actor_for(db, role=role, business=business)
    r = analytics.report(db, actor=actor, start=START, end=END, now=NOW)
    assert r.conversations == 5
    assert (r.revenue is not None) is sees_revenue


def test_a_business_never_sees_another_business_figures(db, owner):
    actor, _, _ = owner
    other_actor, other = actor_for(db)
    knowledge.add_faq(db, actor=other_actor, question=MARS, answer="Only other's FAQ.")
    other_channel = make_channel(db, business=other, kind="whatsapp")
    x = conversation(db, other, other_channel, at(11, 9))
    say(db, x, "customer", at(11, 9), "Secret question of the other business")
    say(db, x, "ai", at(11, 9, 1), "…", 0.1)

    mine = analytics.report(db, actor=actor, start=START, end=END, now=NOW)
    assert mine.conversations == 5
    assert "whatsapp" not in mine.channels
    assert [q.normalised for q in mine.unanswered] == ["do you deliver to mars"]
    theirs = analytics.report(db, actor=other_actor, start=START, end=END, now=NOW)
    assert theirs.conversations == 1
    assert [q.text for q in theirs.unanswered] == ["Secret question of the other business"]
    assert analytics.channel_options(db, actor=other_actor) == ["whatsapp"]


def test_turning_a_question_into_knowledge_adds_an_faq_and_drops_it_from_the_list(db, owner):
    actor, _, _ = owner
    view = analytics.question_to_knowledge(
        db, actor=actor, text=MARS, answer="We deliver on Earth only, within 10 km."
    )
    assert view.kind == "faq"
    assert view.question == MARS
    listed = knowledge.list_sources(db, actor=actor, search="Mars")
    assert [s.content for s in listed] == ["We deliver on Earth only, within 10 km."]
    r = analytics.report(db, actor=actor, start=START, end=END, now=NOW)
    assert r.unanswered == []


def test_only_knowledge_managers_turn_questions_into_knowledge(db, owner):
    _, business, _ = owner
    agent, _ = actor_for(db, role=Role.AGENT, business=business)
    with pytest.raises(PermissionDenied):
        analytics.question_to_knowledge(db, actor=agent, text=MARS, answer="No.")


def test_an_empty_answer_is_refused_with_the_field_to_fix(db, owner):
    actor, _, _ = owner
    with pytest.raises(knowledge.KnowledgeError, match="Enter the answer"):
        analytics.question_to_knowledge(db, actor=actor, text=MARS, answer="  ")


def test_the_csv_export_has_a_row_per_day_and_a_column_per_channel(db, owner):
    actor, _, _ = owner
    text = analytics.daily_csv(db, actor=actor, start=START, end=END)
    assert text.splitlines() == [
        "date,telegram,widget,total",
        "2026-11-10,0,2,2",
        "2026-11-11,1,0,1",
        "2026-11-12,1,1,2",
    ]


def test_bad_ranges_and_channels_are_refused_with_the_fix(db, owner):
    actor, _, _ = owner
    with pytest.raises(AnalyticsError, match="pick an end date on or after") as err:
        analytics.report(db, actor=actor, start=END, end=START)
    assert err.value.field == "end"
    with pytest.raises(AnalyticsError, match="at most 366 days"):
        analytics.report(db, actor=actor, start=START - timedelta(days=400), end=START)
    with pytest.raises(AnalyticsError, match="Unknown channel 'fax'") as err:
        analytics.daily_csv(db, actor=actor, start=START, end=END, channel="fax")
    assert err.value.field == "channel"


def test_the_headline_numbers_still_work(db):
    actor, _business = actor_for(db)
    make_business(db)
    assert analytics.overview(db, actor=actor).conversations_30d == 0
