"""All SQL of notifications: the rows, the members they go to, and preferences."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, select

from backend.models.leads import Lead
from backend.models.notifications import Notification, NotificationPreference
from backend.models.tenants import Business, Membership, User


def members(
    session: Session,
    *,
    business_id: int,
    user_ids: Iterable[int] | None = None,
    roles: Iterable[str] | None = None,
) -> list[tuple[int, str, str, str]]:
    """Active members of the business as (user id, name, email, role), by user id.

    `user_ids` and `roles` narrow the list; ids of people outside the business are dropped.
    """
    query = (
        select(User.id, User.name, User.email, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.business_id == business_id, User.is_active.is_(True))
        .order_by(User.id)
    )
    if user_ids is not None:
        query = query.where(User.id.in_(list(user_ids)))
    if roles is not None:
        query = query.where(Membership.role.in_(list(roles)))
    return [tuple(row) for row in session.exec(query).all()]


def preferences(
    session: Session, *, business_id: int, user_ids: Iterable[int], kind: str | None = None
) -> list[NotificationPreference]:
    """Stored preferences of these members (of one kind, or all kinds)."""
    query = select(NotificationPreference).where(
        NotificationPreference.business_id == business_id,
        NotificationPreference.user_id.in_(list(user_ids)),
    )
    if kind is not None:
        query = query.where(NotificationPreference.kind == kind)
    return list(session.exec(query).all())


def save_preference(
    session: Session, *, business_id: int, user_id: int, kind: str, in_app: bool, email: bool
) -> None:
    """Insert or update one member's preference for one kind."""
    stmt = insert(NotificationPreference).values(
        business_id=business_id, user_id=user_id, kind=kind, in_app=in_app, email=email
    )
    session.execute(
        stmt.on_conflict_do_update(
            constraint="uq_notificationpreference_member_kind",
            set_={"in_app": in_app, "email": email, "updated_at": sa.func.now()},
        )
    )


def insert_notification(session: Session, **values: Any) -> int | None:
    """Store a notification; None when the member already has one with the same dedup key."""
    stmt = (
        insert(Notification)
        .values(**values)
        .on_conflict_do_nothing(
            index_elements=["business_id", "user_id", "dedup_key"],
            index_where=sa.text("dedup_key IS NOT NULL"),
        )
        .returning(Notification.id)
    )
    return session.execute(stmt).scalar_one_or_none()


def list_notifications(
    session: Session,
    *,
    business_id: int,
    user_id: int,
    unread_only: bool,
    before_id: int | None,
    limit: int,
    kinds: Iterable[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[Notification]:
    """The member's in-app notifications, newest first (of `kinds`, created in [since, until))."""
    query = select(Notification).where(
        *_member_filter(business_id=business_id, user_id=user_id, since=since, until=until)
    )
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    if kinds is not None:
        query = query.where(Notification.kind.in_(list(kinds)))
    if before_id is not None:
        query = query.where(Notification.id < before_id)
    return list(session.exec(query.order_by(Notification.id.desc()).limit(limit)).all())


def _member_filter(
    *, business_id: int, user_id: int, since: datetime | None, until: datetime | None
) -> list[sa.ColumnElement[bool]]:
    where = [
        Notification.business_id == business_id,
        Notification.user_id == user_id,
        Notification.in_app.is_(True),
    ]
    if since is not None:
        where.append(Notification.created_at >= since)
    if until is not None:
        where.append(Notification.created_at < until)
    return where


def count_by_kind(
    session: Session,
    *,
    business_id: int,
    user_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, tuple[int, int]]:
    """The member's in-app notifications per kind (created in [since, until)): (all, unread)."""
    rows = session.execute(
        sa.select(
            Notification.kind,
            sa.func.count(),
            sa.func.count().filter(Notification.read_at.is_(None)),
        )
        .where(*_member_filter(business_id=business_id, user_id=user_id, since=since, until=until))
        .group_by(Notification.kind)
    ).all()
    return {kind: (total, unread) for kind, total, unread in rows}


def count_unread(session: Session, *, business_id: int, user_id: int) -> int:
    """How many in-app notifications the member has not read."""
    return session.exec(
        select(sa.func.count())
        .select_from(Notification)
        .where(
            Notification.business_id == business_id,
            Notification.user_id == user_id,
            Notification.in_app.is_(True),
            Notification.read_at.is_(None),
        )
    ).one()


def mark_read(
    session: Session,
    *,
    business_id: int,
    user_id: int,
    notification_ids: list[int] | None,
    now: datetime,
) -> list[int]:
    """Mark the member's unread notifications read (these ids, or all); the ids changed."""
    stmt = sa.update(Notification).where(
        Notification.business_id == business_id,
        Notification.user_id == user_id,
        Notification.read_at.is_(None),
    )
    if notification_ids is not None:
        stmt = stmt.where(Notification.id.in_(notification_ids))
    rows = session.execute(
        stmt.values(read_at=now, updated_at=now)
        .returning(Notification.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(rows.scalars().all())


def get_notification_for_job(session: Session, *, notification_id: int) -> Notification | None:
    """The notification an email job names (this lookup finds the tenant)."""
    return session.get(Notification, notification_id)


def business_name(session: Session, *, business_id: int) -> str:
    """The business's name (for email subjects)."""
    return session.exec(select(Business.name).where(Business.id == business_id)).first() or ""


def record_email(
    session: Session,
    *,
    business_id: int,
    notification_id: int,
    sent_at: datetime | None,
    error: str | None,
) -> None:
    """Store the outcome of an email attempt."""
    values: dict[str, Any] = {"email_error": error}
    if sent_at is not None:
        values["emailed_at"] = sent_at
    session.execute(
        sa.update(Notification)
        .where(Notification.business_id == business_id, Notification.id == notification_id)
        .values(**values)
    )


def get_lead(session: Session, *, business_id: int, lead_id: int) -> Lead | None:
    """The business's lead with this id (for the new-lead notification)."""
    return session.exec(
        select(Lead).where(Lead.business_id == business_id, Lead.id == lead_id)
    ).first()
