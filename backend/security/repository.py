"""All SQL of security: API keys, the audit log, and the rows the public API lists."""

from __future__ import annotations

from sqlmodel import Session, select

from backend.models.commerce import Order
from backend.models.contacts import Contact
from backend.models.security import APIKey, AuditLog
from backend.models.tenants import Membership, Role, TwoFactor


def find_api_key_by_hash(session: Session, *, key_hash: str) -> APIKey | None:
    """The key with this hash, in any business (how an API request finds its tenant)."""
    return session.exec(select(APIKey).where(APIKey.key_hash == key_hash)).first()


def get_api_key(session: Session, *, business_id: int, key_id: int) -> APIKey | None:
    """One of the business's keys."""
    return session.exec(
        select(APIKey).where(APIKey.business_id == business_id, APIKey.id == key_id)
    ).first()


def list_api_keys(session: Session, *, business_id: int) -> list[APIKey]:
    """The business's keys, newest first."""
    return list(
        session.exec(
            select(APIKey).where(APIKey.business_id == business_id).order_by(APIKey.id.desc())
        ).all()
    )


def acting_user_id(
    session: Session, *, business_id: int, preferred_user_id: int | None
) -> int | None:
    """`preferred_user_id` while still a member of the business, else its first owner."""
    if preferred_user_id is not None:
        member = session.exec(
            select(Membership.user_id).where(
                Membership.business_id == business_id, Membership.user_id == preferred_user_id
            )
        ).first()
        if member is not None:
            return member
    return session.exec(
        select(Membership.user_id)
        .where(Membership.business_id == business_id, Membership.role == Role.OWNER)
        .order_by(Membership.id)
    ).first()


def list_audit(
    session: Session, *, business_id: int, action: str | None, limit: int
) -> list[AuditLog]:
    """The business's audit entries, newest first."""
    query = select(AuditLog).where(AuditLog.business_id == business_id)
    if action:
        query = query.where(AuditLog.action == action)
    return list(session.exec(query.order_by(AuditLog.id.desc()).limit(limit)).all())


def list_contacts(session: Session, *, business_id: int, limit: int, offset: int) -> list[Contact]:
    """The business's contacts, newest first."""
    return list(
        session.exec(
            select(Contact)
            .where(Contact.business_id == business_id)
            .order_by(Contact.id.desc())
            .limit(limit)
            .offset(offset)
        ).all()
    )


def list_orders(session: Session, *, business_id: int, limit: int, offset: int) -> list[Order]:
    """The business's orders, newest first."""
    return list(
        session.exec(
            select(Order)
            .where(Order.business_id == business_id)
            .order_by(Order.id.desc())
            .limit(limit)
            .offset(offset)
        ).all()
    )


def get_two_factor(session: Session, *, user_id: int) -> TwoFactor | None:
    """The user's TOTP enrolment (users are not tenant-owned: looked up by the user's id)."""
    return session.exec(select(TwoFactor).where(TwoFactor.user_id == user_id)).first()


def delete_two_factor(session: Session, row: TwoFactor) -> None:
    """Forget an enrolment."""
    session.delete(row)
    session.flush()
