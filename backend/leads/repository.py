"""All SQL of leads."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from backend.leads.schemas import LeadFilters
from backend.models.leads import Lead
from backend.models.tenants import Business, Membership, User

OPEN_STAGES = ("new", "contacted", "qualified")
# First key of the advisory lock that serialises board moves of one business.
_BOARD_LOCK = 0x1EAD


def find_open_lead_of_contact(
    session: Session, *, business_id: int, contact_id: int
) -> Lead | None:
    """The contact's newest lead that is neither won nor lost."""
    return session.exec(
        select(Lead)
        .where(
            Lead.business_id == business_id,
            Lead.contact_id == contact_id,
            Lead.stage.in_(OPEN_STAGES),
        )
        .order_by(Lead.id.desc())
    ).first()


def list_leads(session: Session, *, business_id: int, limit: int = 100) -> list[Lead]:
    """The business's leads, newest first."""
    return list(
        session.exec(
            select(Lead)
            .where(Lead.business_id == business_id)
            .order_by(Lead.id.desc())
            .limit(limit)
        ).all()
    )


def get_lead(
    session: Session, *, business_id: int, lead_id: int, for_update: bool = False
) -> Lead | None:
    """One lead of the business (locked for update when asked)."""
    query = select(Lead).where(Lead.business_id == business_id, Lead.id == lead_id)
    if for_update:
        query = query.with_for_update()
    return session.exec(query).first()


def lock_board(session: Session, *, business_id: int) -> None:
    """Serialise changes to the order of the business's board until the transaction ends."""
    session.execute(
        sa.text("SELECT pg_advisory_xact_lock(:k, :b)"), {"k": _BOARD_LOCK, "b": business_id}
    )


def column(session: Session, *, business_id: int, stage: str) -> list[Lead]:
    """Every lead of one stage, in board order."""
    return list(
        session.exec(
            select(Lead)
            .where(Lead.business_id == business_id, Lead.stage == stage)
            .order_by(Lead.position, Lead.id.desc())
        ).all()
    )


def top_position(session: Session, *, business_id: int, stage: str) -> int:
    """A position that puts a new lead at the top of the stage's column."""
    lowest = session.exec(
        select(sa.func.min(Lead.position)).where(
            Lead.business_id == business_id, Lead.stage == stage
        )
    ).one()
    return 0 if lowest is None else lowest - 1


def _filtered(business_id: int, filters: LeadFilters, now: datetime):
    query = select(Lead).where(Lead.business_id == business_id)
    if filters.stage:
        query = query.where(Lead.stage == filters.stage)
    if filters.owner_user_id is not None:
        query = query.where(
            Lead.owner_user_id.is_(None)
            if filters.owner_user_id == 0
            else Lead.owner_user_id == filters.owner_user_id
        )
    if filters.source:
        query = query.where(Lead.source == filters.source)
    if filters.follow_up_due:
        query = query.where(Lead.next_follow_up_at <= now)
    text = filters.search.strip()
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            sa.or_(
                *(
                    column_.ilike(pattern, escape="\\")
                    for column_ in (Lead.name, Lead.email, Lead.phone, Lead.interest, Lead.notes)
                )
            )
        )
    return query


def list_filtered(
    session: Session,
    *,
    business_id: int,
    filters: LeadFilters,
    now: datetime,
    limit: int,
    offset: int,
) -> list[Lead]:
    """One page of the business's leads matching `filters`, newest first."""
    query = _filtered(business_id, filters, now).order_by(Lead.id.desc())
    return list(session.exec(query.limit(limit).offset(offset)).all())


def count_filtered(
    session: Session, *, business_id: int, filters: LeadFilters, now: datetime
) -> int:
    """How many of the business's leads match `filters`."""
    inner = _filtered(business_id, filters, now).subquery()
    return session.exec(select(sa.func.count()).select_from(inner)).one()


def iter_filtered(
    session: Session, *, business_id: int, filters: LeadFilters, now: datetime, batch: int = 500
) -> Iterator[list[Lead]]:
    """Every matching lead in batches (oldest first, keyset-paged by id), for exports."""
    last_id = 0
    while True:
        query = (
            _filtered(business_id, filters, now)
            .where(Lead.id > last_id)
            .order_by(Lead.id)
            .limit(batch)
        )
        rows = list(session.exec(query).all())
        if not rows:
            return
        yield rows
        last_id = rows[-1].id


def board_leads(session: Session, *, business_id: int, per_column: int) -> list[Lead]:
    """The first `per_column` leads of every stage, in board order."""
    ranked = (
        select(
            Lead.id,
            sa.func.row_number()
            .over(partition_by=Lead.stage, order_by=(Lead.position, Lead.id.desc()))
            .label("rank"),
        )
        .where(Lead.business_id == business_id)
        .subquery()
    )
    query = (
        select(Lead)
        .join(ranked, ranked.c.id == Lead.id)
        .where(Lead.business_id == business_id, ranked.c.rank <= per_column)
        .order_by(Lead.stage, Lead.position, Lead.id.desc())
    )
    return list(session.exec(query).all())


def stage_totals(session: Session, *, business_id: int) -> dict[str, tuple[int, int]]:
    """Per stage: how many leads and the sum of their values (in minor units)."""
    rows = session.exec(
        select(Lead.stage, sa.func.count(), sa.func.coalesce(sa.func.sum(Lead.value_cents), 0))
        .where(Lead.business_id == business_id)
        .group_by(Lead.stage)
    ).all()
    return {stage: (int(count), int(total)) for stage, count, total in rows}


def delete_lead(session: Session, *, business_id: int, lead_id: int) -> bool:
    """Delete one lead of the business; whether it existed."""
    result = session.execute(
        sa.delete(Lead).where(Lead.business_id == business_id, Lead.id == lead_id)
    )
    return result.rowcount > 0


def business(session: Session, *, business_id: int) -> Business | None:
    """The business (for its currency and time zone)."""
    return session.get(Business, business_id)


def members(session: Session, *, business_id: int) -> list[tuple[Membership, User]]:
    """Every member of the business with their user, by name."""
    return list(
        session.exec(
            select(Membership, User)
            .join(User, User.id == Membership.user_id)
            .where(Membership.business_id == business_id)
            .order_by(User.name, User.id)
        ).all()
    )


def is_member(session: Session, *, business_id: int, user_id: int) -> bool:
    """Whether the user belongs to the business."""
    return (
        session.exec(
            select(Membership.id).where(
                Membership.business_id == business_id, Membership.user_id == user_id
            )
        ).first()
        is not None
    )


def user_names(session: Session, *, business_id: int, user_ids: list[int]) -> dict[int, str]:
    """Names of those of `user_ids` who are members of the business."""
    if not user_ids:
        return {}
    rows = session.exec(
        select(User.id, User.name)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.business_id == business_id, User.id.in_(user_ids))
    ).all()
    return dict(rows)


def businesses_with_due_follow_ups_all_businesses(session: Session, *, now: datetime) -> list[int]:
    """Ids of the businesses (any tenant: for the reminder job) with a follow-up due and not
    yet reminded."""
    rows = session.exec(
        select(Lead.business_id).where(_due_unreminded(now)).distinct().order_by(Lead.business_id)
    ).all()
    return list(rows)


def _due_unreminded(now: datetime):
    return sa.and_(
        Lead.next_follow_up_at.is_not(None),
        Lead.next_follow_up_at <= now,
        Lead.stage.in_(OPEN_STAGES),
        sa.or_(
            Lead.follow_up_reminded_for.is_(None),
            Lead.follow_up_reminded_for != Lead.next_follow_up_at,
        ),
    )


def due_follow_ups(session: Session, *, business_id: int, now: datetime, limit: int) -> list[Lead]:
    """Leads of the business whose follow-up is due and not reminded, locked (others skipped)."""
    return list(
        session.exec(
            select(Lead)
            .where(Lead.business_id == business_id, _due_unreminded(now))
            .order_by(Lead.next_follow_up_at, Lead.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
    )
