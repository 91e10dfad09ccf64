"""All SQL of the AI domain: the rules row and the monthly token usage of each business."""

from __future__ import annotations

import functools

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, select

from backend.models.ai import AIRule, AIUsage
from backend.models.base import utcnow
from backend.models.tenants import Business


def get_business(session: Session, *, business_id: int) -> Business | None:
    """The business whose rules these are (for its name, language and timezone)."""
    return session.get(Business, business_id)


def get_business_and_rule(
    session: Session, *, business_id: int
) -> tuple[Business | None, AIRule | None]:
    """The business and its AI rules row (None when it has none yet), in one query."""
    row = session.execute(_business_and_rule_statement(), {"business_id": business_id}).first()
    return (row[0], row[1]) if row is not None else (None, None)


@functools.cache
def _business_and_rule_statement() -> sa.Select:
    """Built once: every answer reads it."""
    return (
        select(Business, AIRule)
        .outerjoin(AIRule, AIRule.business_id == Business.id)
        .where(Business.id == sa.bindparam("business_id"))
    )


def get_rule(session: Session, *, business_id: int) -> AIRule | None:
    """The business's AI rules row, if it has one yet."""
    return session.exec(select(AIRule).where(AIRule.business_id == business_id)).first()


def ensure_rule(session: Session, *, business_id: int) -> AIRule:
    """The business's AI rules row, created with the defaults when missing."""
    rule = get_rule(session, business_id=business_id)
    if rule is not None:
        return rule
    defaults = AIRule(business_id=business_id).model_dump(
        exclude={"id", "created_at", "updated_at"}
    )
    # Two workers may answer the same new business at once; the unique key settles it.
    session.execute(
        insert(AIRule).values(**defaults).on_conflict_do_nothing(index_elements=["business_id"])
    )
    rule = get_rule(session, business_id=business_id)
    if rule is None:
        raise LookupError(f"Business {business_id} does not exist; it has no AI rules.")
    return rule


def save_rule(session: Session, *, rule: AIRule) -> AIRule:
    """Write the changed rules row (the caller commits)."""
    session.add(rule)
    session.flush()
    return rule


def add_usage(
    session: Session,
    *,
    business_id: int,
    month: str,
    prompt_tokens: int,
    completion_tokens: int,
) -> None:
    """Add one LLM request's tokens to the business's month (one row per business and month)."""
    stmt = insert(AIUsage).values(
        business_id=business_id,
        month=month,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        requests=1,
    )
    session.execute(
        stmt.on_conflict_do_update(
            constraint="uq_aiusage_business_month",
            set_={
                "prompt_tokens": AIUsage.prompt_tokens + stmt.excluded.prompt_tokens,
                "completion_tokens": AIUsage.completion_tokens + stmt.excluded.completion_tokens,
                "requests": AIUsage.requests + 1,
                "updated_at": utcnow(),
            },
        )
    )


def get_usage(session: Session, *, business_id: int, month: str) -> AIUsage | None:
    """The business's token usage in `month` ("YYYY-MM"), if any."""
    # The upsert bypasses the ORM, so refresh any copy already loaded in this session.
    return session.exec(
        select(AIUsage)
        .where(AIUsage.business_id == business_id, AIUsage.month == month)
        .execution_options(populate_existing=True)
    ).first()
