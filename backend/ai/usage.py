"""Cost control: LLM tokens per business per calendar month, and whether the budget is spent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session

from backend.ai import repository as repo


@dataclass(frozen=True)
class UsageView:
    """A business's LLM usage in one month, against its budget (None: unlimited)."""

    month: str
    prompt_tokens: int
    completion_tokens: int
    requests: int
    budget: int | None

    @property
    def total_tokens(self) -> int:
        """Prompt and completion tokens together (what the budget counts)."""
        return self.prompt_tokens + self.completion_tokens

    @property
    def budget_spent(self) -> bool:
        """Whether a set budget is used up."""
        return self.budget is not None and self.total_tokens >= self.budget


def month_of(now: datetime | None = None) -> str:
    """The calendar month ("YYYY-MM", in UTC) that usage at `now` counts towards."""
    now = now or datetime.now(UTC)
    if now.tzinfo is not None:
        now = now.astimezone(UTC)
    return now.strftime("%Y-%m")


def record(
    session: Session,
    *,
    business_id: int,
    prompt_tokens: int,
    completion_tokens: int,
    now: datetime | None = None,
) -> None:
    """Add one LLM request's tokens to the business's month."""
    repo.add_usage(
        session,
        business_id=business_id,
        month=month_of(now),
        prompt_tokens=max(0, prompt_tokens),
        completion_tokens=max(0, completion_tokens),
    )


def usage_for(
    session: Session, *, business_id: int, budget: int | None, now: datetime | None = None
) -> UsageView:
    """The business's usage in the month of `now`."""
    month = month_of(now)
    row = repo.get_usage(session, business_id=business_id, month=month)
    if row is None:
        return UsageView(
            month=month, prompt_tokens=0, completion_tokens=0, requests=0, budget=budget
        )
    return UsageView(
        month=month,
        prompt_tokens=row.prompt_tokens,
        completion_tokens=row.completion_tokens,
        requests=row.requests,
        budget=budget,
    )


def budget_left(
    session: Session, *, business_id: int, budget: int | None, now: datetime | None = None
) -> bool:
    """Whether the business may still call the LLM this month."""
    if budget is None:
        return True
    return not usage_for(session, business_id=business_id, budget=budget, now=now).budget_spent
