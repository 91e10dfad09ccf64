"""All SQL of the auth domain: users, their sessions, emailed links and invitations."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, select

from backend.models.tenants import AccountToken, Invitation, Membership, Role, User, UserSession


def find_user_by_login_email(session: Session, *, email: str) -> User | None:
    """The user who signs in with this email, case-insensitively (a lookup across tenants)."""
    return session.exec(select(User).where(sa.func.lower(User.email) == email.lower())).first()


def get_user(session: Session, *, user_id: int) -> User | None:
    """The user with this id."""
    return session.get(User, user_id)


def find_session_by_token_hash(session: Session, *, token_hash: str) -> UserSession | None:
    """The session whose cookie token hashes to `token_hash` (finds the tenant)."""
    return session.exec(select(UserSession).where(UserSession.token_hash == token_hash)).first()


def list_live_sessions_of_user(session: Session, *, user_id: int, now) -> list[UserSession]:
    """The user's sessions that are neither revoked nor expired, most recently seen first."""
    return list(
        session.exec(
            select(UserSession)
            .where(
                UserSession.user_id == user_id,
                UserSession.revoked_at.is_(None),
                UserSession.expires_at > now,
            )
            .order_by(UserSession.last_seen_at.desc().nulls_last(), UserSession.id.desc())
        ).all()
    )


def list_live_sessions_of_member(
    session: Session, *, business_id: int, user_id: int, now
) -> list[UserSession]:
    """The user's live sessions in one business (what a role change or removal ends)."""
    return [
        row
        for row in list_live_sessions_of_user(session, user_id=user_id, now=now)
        if row.business_id == business_id
    ]


def find_account_token(session: Session, *, token_hash: str, purpose: str) -> AccountToken | None:
    """The emailed link whose token hashes to `token_hash` (finds the user behind a link)."""
    return session.exec(
        select(AccountToken).where(
            AccountToken.token_hash == token_hash, AccountToken.purpose == purpose
        )
    ).first()


def list_unused_account_tokens(
    session: Session, *, user_id: int, purpose: str
) -> list[AccountToken]:
    """The user's links of one purpose not used yet (a new link replaces them)."""
    return list(
        session.exec(
            select(AccountToken).where(
                AccountToken.user_id == user_id,
                AccountToken.purpose == purpose,
                AccountToken.used_at.is_(None),
            )
        ).all()
    )


def find_invitation_by_token_hash(session: Session, *, token_hash: str) -> Invitation | None:
    """The invitation behind an emailed link (finds the business it invites to)."""
    return session.exec(select(Invitation).where(Invitation.token_hash == token_hash)).first()


def get_invitation(session: Session, *, business_id: int, invitation_id: int) -> Invitation | None:
    """One of the business's invitations."""
    return session.exec(
        select(Invitation).where(
            Invitation.business_id == business_id, Invitation.id == invitation_id
        )
    ).first()


def list_open_invitations(session: Session, *, business_id: int, now) -> list[Invitation]:
    """The business's invitations neither accepted, revoked nor expired, newest first."""
    return list(
        session.exec(
            select(Invitation)
            .where(
                Invitation.business_id == business_id,
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > now,
            )
            .order_by(Invitation.id.desc())
        ).all()
    )


def list_open_invitations_for_email(
    session: Session, *, business_id: int, email: str
) -> list[Invitation]:
    """The business's unaccepted, unrevoked invitations to `email` (a new one replaces them)."""
    return list(
        session.exec(
            select(Invitation).where(
                Invitation.business_id == business_id,
                sa.func.lower(Invitation.email) == email.lower(),
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
            )
        ).all()
    )


def count_owners(session: Session, *, business_id: int) -> int:
    """How many owners the business has."""
    return session.exec(
        select(sa.func.count())
        .select_from(Membership)
        .where(Membership.business_id == business_id, Membership.role == Role.OWNER)
    ).one()


def delete_membership(session: Session, row: Membership) -> None:
    """Remove a member from a business."""
    session.delete(row)
    session.flush()


# Instance admins run the whole installation; these lookups are across tenants by design.
_FIRST_USER_LOCK = 0x6269_7A62_6F74  # pg advisory lock: one "first user" at a time


def is_first_user(session: Session) -> bool:
    """Whether no user exists yet; holds a transaction lock so two first sign-ups serialize."""
    if session.exec(select(User.id).limit(1)).first() is not None:
        return False
    session.exec(sa.select(sa.func.pg_advisory_xact_lock(_FIRST_USER_LOCK)))
    return session.exec(select(User.id).limit(1)).first() is None


def list_instance_admins(session: Session, *, lock: bool = False) -> list[User]:
    """The installation's admins, oldest first (locked for update when `lock`)."""
    query = select(User).where(User.is_instance_admin.is_(True)).order_by(User.id)
    return list(session.exec(query.with_for_update() if lock else query).all())
