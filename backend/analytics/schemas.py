"""Plain results of the analytics domain: what the Overview page and the CSV export show."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

# Stated on the page and in docs/analytics.md; the SQL in repository.py implements exactly this.
AI_RESOLVED_DEFINITION = (
    "A conversation counts as resolved by the AI when no agent wrote in it and it was never "
    "handed over, and either the customer confirmed (rated it 4 or 5, or it was closed as "
    "resolved) or did not come back within 24 hours of the AI's last reply."
)


class AnalyticsError(ValueError):
    """Bad input to an analytics query (a date range or channel); the message says the fix."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Period:
    """An inclusive range of calendar days in the business's time zone, and a channel filter."""

    start: date
    end: date
    timezone: str
    channel: str | None = None


@dataclass(frozen=True)
class DailyPoint:
    """Conversations started on one day, per channel kind (days without any are included)."""

    day: date
    by_channel: dict[str, int]
    total: int


@dataclass(frozen=True)
class Durations:
    """Median and 90th percentile of a duration, in seconds (None when nothing to measure)."""

    median_seconds: float | None
    p90_seconds: float | None
    count: int


@dataclass(frozen=True)
class ResponseTimes:
    """First response and resolution times, for the AI and for people separately."""

    ai_first_response: Durations
    human_first_response: Durations
    ai_resolution: Durations
    human_resolution: Durations


@dataclass(frozen=True)
class ReasonCount:
    """How many handoffs had one reason."""

    reason: str
    count: int


@dataclass(frozen=True)
class UnansweredQuestion:
    """A customer question the AI could not answer well, grouped by its normalised text."""

    text: str
    normalised: str
    count: int


@dataclass(frozen=True)
class Revenue:
    """Paid orders' totals in one currency."""

    currency: str
    total_cents: int
    orders: int


@dataclass(frozen=True)
class OverviewReport:
    """Every figure of the Overview page for one period."""

    period: Period
    conversations: int
    ai_resolved: int
    handed_over: int
    csat_average: float | None
    csat_count: int
    daily: list[DailyPoint]
    channels: list[str]
    times: ResponseTimes
    handoff_reasons: list[ReasonCount]
    unanswered: list[UnansweredQuestion]
    # None when the actor's role may not see sales figures.
    revenue: list[Revenue] | None = field(default=None)

    @property
    def ai_resolved_share(self) -> float | None:
        """AI-resolved conversations as a fraction of all (None without conversations)."""
        return self.ai_resolved / self.conversations if self.conversations else None

    @property
    def handoff_rate(self) -> float | None:
        """Handed-over conversations as a fraction of all (None without conversations)."""
        return self.handed_over / self.conversations if self.conversations else None
