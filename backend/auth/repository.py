"""All SQL of the auth domain: users and their sessions."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, select

from backend.models.tenants import User, UserSession


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
