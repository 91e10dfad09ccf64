"""All SQL of the tenants domain: businesses and memberships."""

from __future__ import annotations

import zoneinfo

from sqlalchemy import delete as sa_delete
from sqlmodel import Session, select

from backend.models.tenants import Business, Membership, User


def get_business(session: Session, *, business_id: int) -> Business | None:
    """The business with this id."""
    return session.get(Business, business_id)


def slug_taken(session: Session, *, slug: str) -> bool:
    """Whether any business already uses `slug` (slugs are global)."""
    return session.exec(select(Business.id).where(Business.slug == slug)).first() is not None


def find_demo_business(session: Session) -> Business | None:
    """The demo business made by `make run` / `demo seed` (a lookup across tenants)."""
    return session.exec(select(Business).where(Business.is_demo).order_by(Business.id)).first()


def get_membership(session: Session, *, business_id: int, user_id: int) -> Membership | None:
    """The user's membership in this business, if any."""
    return session.exec(
        select(Membership).where(
            Membership.business_id == business_id, Membership.user_id == user_id
        )
    ).first()


def list_members(session: Session, *, business_id: int) -> list[tuple[Membership, User]]:
    """Every member of the business with their user row, owners first then by name."""
    rank = {"owner": 0, "admin": 1, "agent": 2, "viewer": 3}
    rows = session.exec(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.business_id == business_id)
    ).all()
    return sorted(rows, key=lambda r: (rank.get(r[0].role, 9), r[1].name.lower()))


def list_memberships_of_user(session: Session, *, user_id: int) -> list[Membership]:
    """The businesses a user belongs to (a lookup across tenants, for sign-in)."""
    return list(
        session.exec(
            select(Membership).where(Membership.user_id == user_id).order_by(Membership.id)
        ).all()
    )


def business_zone(session: Session, *, business_id: int) -> zoneinfo.ZoneInfo:
    """The business's time zone: its days are the days of its figures, filters and reminders.

    UTC when it has none or zoneinfo does not know the name (its days then count in UTC)."""
    business = session.get(Business, business_id)
    try:
        return zoneinfo.ZoneInfo((business.timezone if business else None) or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def get_user(session: Session, *, user_id: int) -> User | None:
    """The user with this id (people are not tenant-owned; callers hold a membership)."""
    return session.get(User, user_id)


def delete_business(session: Session, *, business_id: int) -> None:
    """Delete the business; ON DELETE CASCADE on every `business_id` takes its rows with it."""
    session.execute(sa_delete(Business).where(Business.id == business_id))
    session.expire_all()
