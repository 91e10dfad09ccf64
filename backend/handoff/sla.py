"""SLA deadlines in business time: pure functions over a policy and the business hours.

Business hours are the AI rules' (`{"timezone": "Africa/Nairobi", "days": {"mon": [["08:00",
"18:00"]], …}}`; empty means always open). A policy that counts business hours only stops its
clock while the business is closed: 30 minutes asked at 17:50 on a Friday are due at 08:20 on
Monday when the business opens at 08:00.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from backend.models.handoff import SLAMetric

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# How far ahead a deadline is looked for; hours that never open give no deadline at all.
HORIZON_DAYS = 400


@dataclass(frozen=True)
class Terms:
    """The promises of one SLA policy, as the clock needs them."""

    first_response_minutes: int | None
    next_response_minutes: int | None
    resolution_minutes: int | None
    warn_before_minutes: int
    business_hours_only: bool


@dataclass(frozen=True)
class Clock:
    """One running promise: when it started, when it is due and when to warn about it."""

    metric: str  # SLAMetric
    key: str  # identifies this clock among the handoff's SLA events (a new wait, a new key)
    started_at: datetime
    due_at: datetime | None  # None: the business never opens again within the horizon
    warn_at: datetime | None

    def state(self, now: datetime) -> str:
        """ "ok", "warning" (about to breach) or "breached" at `now`."""
        if self.due_at is not None and now >= self.due_at:
            return "breached"
        if self.warn_at is not None and now >= self.warn_at:
            return "warning"
        return "ok"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _clock_time(value: str) -> tuple[time, bool]:
    """A "HH:MM" of the rules; "24:00" is the end of the day (second item True)."""
    if value == "24:00":
        return time(0, 0), True
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes)), False


def _zone(hours: Mapping[str, Any], timezone: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(hours.get("timezone") or timezone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _always_open(hours: Mapping[str, Any] | None) -> bool:
    return not hours or not hours.get("days")


def open_periods(
    hours: Mapping[str, Any], timezone: str, since: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """The business's open periods (UTC) from the local day of `since` on, in order."""
    zone = _zone(hours, timezone)
    first_day: date = _aware(since).astimezone(zone).date()
    days = hours.get("days") or {}
    for offset in range(HORIZON_DAYS):
        day = first_day + timedelta(days=offset)
        periods = []
        for start_text, end_text in days.get(DAYS[day.weekday()], []):
            start, _ = _clock_time(start_text)
            end, end_of_day = _clock_time(end_text)
            end_day = day + timedelta(days=1) if end_of_day else day
            periods.append(
                (
                    datetime.combine(day, start, tzinfo=zone).astimezone(UTC),
                    datetime.combine(end_day, end, tzinfo=zone).astimezone(UTC),
                )
            )
        yield from sorted(periods)


def add_minutes(
    start: datetime,
    minutes: int,
    *,
    hours: Mapping[str, Any] | None,
    timezone: str = "UTC",
) -> datetime | None:
    """`start` plus `minutes` of open time (wall-clock time when `hours` is None or empty)."""
    start = _aware(start)
    if _always_open(hours):
        return start + timedelta(minutes=minutes)
    remaining = timedelta(minutes=max(0, minutes))
    for period_start, period_end in open_periods(hours, timezone, start):
        if period_end <= start:
            continue
        begin = max(period_start, start)
        if period_end - begin >= remaining:
            return begin + remaining
        remaining -= period_end - begin
    return None


def is_open(hours: Mapping[str, Any] | None, timezone: str, now: datetime) -> bool:
    """Whether `now` falls in the business hours (always, when none are set)."""
    if _always_open(hours):
        return True
    now = _aware(now)
    for period_start, period_end in open_periods(hours, timezone, now - timedelta(days=1)):
        if period_start > now:
            return False
        if period_start <= now < period_end:
            return True
    return False


def _clock(
    metric: SLAMetric,
    key: str,
    started_at: datetime,
    minutes: int,
    terms: Terms,
    hours: Mapping[str, Any] | None,
    timezone: str,
) -> Clock:
    counted = hours if terms.business_hours_only else None
    due_at = add_minutes(started_at, minutes, hours=counted, timezone=timezone)
    warn_minutes = max(0, minutes - max(0, terms.warn_before_minutes))
    warn_at = add_minutes(started_at, warn_minutes, hours=counted, timezone=timezone)
    return Clock(
        metric=metric.value, key=key, started_at=started_at, due_at=due_at, warn_at=warn_at
    )


def running_clocks(
    terms: Terms,
    *,
    handed_over_at: datetime,
    first_response_at: datetime | None,
    waiting_since: datetime | None,
    hours: Mapping[str, Any] | None,
    timezone: str,
) -> list[Clock]:
    """The promises still open for one handoff, nearest deadline first.

    First response runs from the handoff until an agent's first reply; next response from the
    customer's first unanswered message after that; resolution from the handoff until it is
    resolved (the caller only asks about open handoffs).
    """
    clocks: list[Clock] = []
    handed_over_at = _aware(handed_over_at)
    if terms.first_response_minutes is not None and first_response_at is None:
        clocks.append(
            _clock(
                SLAMetric.FIRST_RESPONSE,
                SLAMetric.FIRST_RESPONSE.value,
                handed_over_at,
                terms.first_response_minutes,
                terms,
                hours,
                timezone,
            )
        )
    if (
        terms.next_response_minutes is not None
        and first_response_at is not None
        and waiting_since is not None
    ):
        waiting_since = _aware(waiting_since)
        key = f"{SLAMetric.NEXT_RESPONSE.value}@{waiting_since.isoformat()}"
        clocks.append(
            _clock(
                SLAMetric.NEXT_RESPONSE,
                key,
                waiting_since,
                terms.next_response_minutes,
                terms,
                hours,
                timezone,
            )
        )
    if terms.resolution_minutes is not None:
        clocks.append(
            _clock(
                SLAMetric.RESOLUTION,
                SLAMetric.RESOLUTION.value,
                handed_over_at,
                terms.resolution_minutes,
                terms,
                hours,
                timezone,
            )
        )
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(clocks, key=lambda c: c.due_at or far)
