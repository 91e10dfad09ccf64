"""All SQL of security: API keys, the audit log, and the rows the public API lists."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, select

from backend.models.commerce import Order
from backend.models.contacts import Contact
from backend.models.security import APIKey, AuditLog, IPAllowlistEntry
from backend.models.tenants import Business, Membership, Role, TwoFactor


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
    session: Session, *, business_id: int, action: str | None, limit: int, text: str | None = None
) -> list[AuditLog]:
    """The business's audit entries, newest first; `text` matches the action, target, address
    or details (case-insensitive)."""
    query = select(AuditLog).where(AuditLog.business_id == business_id)
    if action:
        query = query.where(AuditLog.action == action)
    if text:
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        query = query.where(
            sa.or_(
                AuditLog.action.ilike(pattern),
                AuditLog.target_type.ilike(pattern),
                AuditLog.target_id.ilike(pattern),
                AuditLog.ip_address.ilike(pattern),
                sa.cast(AuditLog.details, sa.Text).ilike(pattern),
            )
        )
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


def list_allowlist(session: Session, *, business_id: int) -> list[IPAllowlistEntry]:
    """The business's allowed address ranges, in the order they were added."""
    return list(
        session.exec(
            select(IPAllowlistEntry)
            .where(IPAllowlistEntry.business_id == business_id)
            .order_by(IPAllowlistEntry.id)
        ).all()
    )


def delete_allowlist_entry(session: Session, row: IPAllowlistEntry) -> None:
    """Drop one allowed range."""
    session.delete(row)


def encrypted_columns() -> list[tuple[sa.Table, sa.Column]]:
    """Every column of every table that holds ciphertext (named `*_encrypted` by convention)."""
    return [
        (table, column)
        for table in SQLModel.metadata.sorted_tables
        for column in table.columns
        if column.name.endswith("_encrypted")
    ]


def list_encrypted_values(
    session: Session, *, table: sa.Table, column: sa.Column
) -> list[tuple[int, str]]:
    """(id, ciphertext) of every row of every business holding a value in `column` (the key
    rotation command's cross-tenant read), locked until the rotation commits."""
    query = (
        sa.select(table.c.id, column)
        .where(column.is_not(None))
        .order_by(table.c.id)
        .with_for_update()
    )
    return [(row[0], row[1]) for row in session.execute(query).all()]


def update_encrypted_value(
    session: Session, *, table: sa.Table, column: sa.Column, row_id: int, value: str
) -> None:
    """Store re-encrypted ciphertext in one row."""
    session.execute(sa.update(table).where(table.c.id == row_id).values({column.name: value}))


def list_business_ids(session: Session) -> list[int]:
    """Every business's id (to audit an instance-wide action in each)."""
    return list(session.exec(select(Business.id).order_by(Business.id)).all())
