"""Figures for the dashboard's overview."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import Session

from backend.ai.rules import DEFAULT_THRESHOLD
from backend.analytics import repository as repo
from backend.analytics.schemas import (
    AnalyticsError,
    DailyPoint,
    Durations,
    OverviewReport,
    Period,
    ReasonCount,
    ResponseTimes,
    Revenue,
    UnansweredQuestion,
)
from backend.auth.permissions import Actor, Permission
from backend.knowledge import service as knowledge
from backend.knowledge.schemas import SourceView
from backend.models.base import utcnow
from backend.models.channels import ChannelKind
from backend.tenants import repository as tenants_repo

# "other": conversations without a channel (e.g. created by hand, or whose channel was removed).
CHANNEL_FILTERS = [k.value for k in ChannelKind] + ["other"]
MAX_RANGE_DAYS = 366
UNANSWERED_LIMIT = 10


@dataclass(frozen=True)
class OverviewFigures:
    """The headline numbers of the overview page."""

    conversations_30d: int
    waiting_for_agent: int
    contacts: int
    leads: int
    # Ever, not only the last 30 days: the page shows its figures once there is any.
    conversations_total: int = 0


def overview(session: Session, *, actor: Actor) -> OverviewFigures:
    """The business's headline numbers (any member)."""
    actor.require(Permission.DASHBOARD_VIEW)
    counts = repo.workspace_counts(
        session, business_id=actor.business_id, since=utcnow() - timedelta(days=30)
    )
    return OverviewFigures(
        conversations_30d=counts["conversations"],
        waiting_for_agent=counts["waiting"],
        contacts=counts["contacts"],
        leads=counts["leads"],
        conversations_total=repo.conversation_count(session, business_id=actor.business_id),
    )


# --- the Overview analytics -------------------------------------------------------------------


def business_today(session: Session, *, actor: Actor) -> date:
    """Today's date in the business's time zone (the end of the date-range presets)."""
    zone = tenants_repo.business_zone(session, business_id=actor.business_id)
    return utcnow().astimezone(zone).date()


def _period(
    session: Session, *, actor: Actor, start: date, end: date, channel: str | None
) -> tuple[Period, datetime, datetime]:
    if start > end:
        raise AnalyticsError(
            f"The range starts ({start}) after it ends ({end}); pick an end date on or after "
            "the start date.",
            field="end",
        )
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise AnalyticsError(
            f"Pick a range of at most {MAX_RANGE_DAYS} days (this one has "
            f"{(end - start).days + 1}).",
            field="start",
        )
    channel = (channel or "").strip().lower() or None
    if channel is not None and channel not in CHANNEL_FILTERS:
        raise AnalyticsError(
            f"Unknown channel {channel!r}; pick one of {', '.join(CHANNEL_FILTERS)}, or all.",
            field="channel",
        )
    zone = tenants_repo.business_zone(session, business_id=actor.business_id)
    lo = datetime.combine(start, time(), zone).astimezone(UTC)
    hi = datetime.combine(end + timedelta(days=1), time(), zone).astimezone(UTC)
    return Period(start=start, end=end, timezone=zone.key, channel=channel), lo, hi


def _durations(row: dict, name: str) -> Durations:
    return Durations(row[f"{name}_p50"], row[f"{name}_p90"], row[f"{name}_n"])


def _daily(rows: list[tuple], period: Period) -> tuple[list[DailyPoint], list[str]]:
    channels = sorted({kind for _, kind, _ in rows})
    counts: dict[date, dict[str, int]] = {}
    for day, kind, n in rows:
        counts.setdefault(day, {})[kind] = n
    points, day = [], period.start
    while day <= period.end:
        by_channel = {kind: counts.get(day, {}).get(kind, 0) for kind in channels}
        points.append(DailyPoint(day, by_channel, sum(by_channel.values())))
        day += timedelta(days=1)
    return points, channels


def report(
    session: Session,
    *,
    actor: Actor,
    start: date,
    end: date,
    channel: str | None = None,
    now: datetime | None = None,
) -> OverviewReport:
    """Every Overview figure for the days `start`..`end` (inclusive, business time zone).

    Any member sees the conversation figures; revenue only roles that manage sales."""
    actor.require(Permission.CONVERSATIONS_READ)
    period, lo, hi = _period(session, actor=actor, start=start, end=end, channel=channel)
    scope = {"business_id": actor.business_id, "start": lo, "end": hi, "channel": period.channel}
    row = repo.summary(session, **scope, now=now or utcnow())
    daily, channels = _daily(repo.daily_by_channel(session, **scope, tz=period.timezone), period)
    threshold = repo.confidence_threshold(session, business_id=actor.business_id)
    unanswered = repo.unanswered_questions(
        session, **scope, threshold=DEFAULT_THRESHOLD if threshold is None else threshold,
        limit=UNANSWERED_LIMIT,
    )  # fmt: skip
    revenue = None
    if actor.can(Permission.SALES_MANAGE):
        revenue = [Revenue(*r) for r in repo.paid_revenue(session, **scope)]
    return OverviewReport(
        period=period,
        conversations=row["conversations"],
        ai_resolved=row["ai_resolved"],
        handed_over=row["handed_over"],
        csat_average=row["csat_average"],
        csat_count=row["csat_count"],
        daily=daily,
        channels=channels,
        times=ResponseTimes(
            ai_first_response=_durations(row, "ai_frt"),
            human_first_response=_durations(row, "human_frt"),
            ai_resolution=_durations(row, "ai_res"),
            human_resolution=_durations(row, "human_res"),
        ),
        handoff_reasons=[ReasonCount(*r) for r in repo.handoff_reasons(session, **scope)],
        unanswered=[UnansweredQuestion(text=t, normalised=k, count=n) for k, t, n in unanswered],
        revenue=revenue,
    )


def daily_csv(
    session: Session, *, actor: Actor, start: date, end: date, channel: str | None = None
) -> str:
    """The daily series as CSV: one row per day, a column per channel and the total."""
    actor.require(Permission.CONVERSATIONS_READ)
    period, lo, hi = _period(session, actor=actor, start=start, end=end, channel=channel)
    rows = repo.daily_by_channel(
        session, business_id=actor.business_id, start=lo, end=hi, channel=period.channel,
        tz=period.timezone,
    )  # fmt: skip
    points, channels = _daily(rows, period)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["date", *channels, "total"])
    for p in points:
        writer.writerow([p.day.isoformat(), *(p.by_channel[k] for k in channels), p.total])
    return out.getvalue()


def channel_options(session: Session, *, actor: Actor) -> list[str]:
    """The channel kinds the business has connected, for the channel filter."""
    actor.require(Permission.CONVERSATIONS_READ)
    return repo.channel_kinds(session, business_id=actor.business_id)


def question_to_knowledge(session: Session, *, actor: Actor, text: str, answer: str) -> SourceView:
    """Turn an unanswered customer question into an FAQ with `answer` (owners and admins)."""
    return knowledge.add_faq(session, actor=actor, question=text, answer=answer)
