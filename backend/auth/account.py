"""My account: password reset and email verification by emailed single-use links, and
changing my password. Links expire, are stored only as keyed hashes and work once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session

from backend.auth import passwords, tasks
from backend.auth import repository as repo
from backend.auth.service import (
    AuthError,
    revoke_sessions,
    verify_current_password,
)
from backend.core.config import settings
from backend.core.crypto import hash_token, new_token
from backend.core.queue import enqueue_after_commit
from backend.core.ratelimit import RateLimited, hit
from backend.models.base import utcnow
from backend.models.tenants import AccountToken, User
from backend.security import service as security
from backend.tenants import repository as tenants_repo

PASSWORD_RESET = "password_reset"  # noqa: S105 (a purpose name, not a password)
EMAIL_VERIFICATION = "email_verification"
RESET_LINK_HOURS = 1
VERIFY_LINK_DAYS = 3
# Reset requests per address and per email; the same answer whether or not the account exists.
RESETS_PER_IP = "10/hour"
RESETS_PER_EMAIL = "3/hour"
VERIFICATION_EMAILS_PER_USER = "3/10 minutes"
RESET_REQUESTED_MESSAGE = (
    "If an account uses that email, a link to set a new password is on its way. "
    "It works once, for 1 hour."
)


class LinkError(AuthError):
    """An emailed link that is unknown, used or expired; the message says what to do."""


class TooManyRequests(AuthError):
    """Too many emails asked for; wait `retry_after` s."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many requests. Please try again in {retry_after} s.", field="form")
        self.retry_after = retry_after


@dataclass(frozen=True)
class LinkTarget:
    """Whom a valid link is for (shown on the page that uses it)."""

    user_id: int
    email: str


def _limit(limit: str, *keys: str) -> None:
    try:
        hit(limit, *keys)
    except RateLimited as exc:
        raise TooManyRequests(exc.retry_after) from None


def _issue(
    session: Session, *, user: User, business_id: int, purpose: str, lifetime: timedelta
) -> str:
    """A new link token for `user`; earlier unused links of the same purpose stop working."""
    now = utcnow()
    for old in repo.list_unused_account_tokens(session, user_id=user.id, purpose=purpose):
        old.used_at = now
        session.add(old)
    token = new_token()
    session.add(
        AccountToken(
            business_id=business_id,
            user_id=user.id,
            purpose=purpose,
            token_hash=hash_token(token),
            expires_at=now + lifetime,
        )
    )
    session.flush()
    return token


def _email(session: Session, *, to: str, subject: str, lines: list[str]) -> None:
    body = "\n".join([*lines, "", "If you did not ask for this, you can ignore this email."])
    enqueue_after_commit(session, tasks.send_account_email, to, subject, body, **tasks.JOB_OPTIONS)


def _redeem(session: Session, *, token: str, purpose: str, what: str) -> AccountToken:
    """The link's row if it can still be used; LinkError saying why not."""
    row = repo.find_account_token(session, token_hash=hash_token(token or ""), purpose=purpose)
    if row is None:
        raise LinkError(f"This {what} link is not valid. Check that you copied all of it.")
    if row.used_at is not None:
        raise LinkError(
            f"This {what} link was already used (or a newer one was sent). Ask for a new one."
        )
    if row.expires_at <= utcnow():
        raise LinkError(f"This {what} link has expired. Ask for a new one.")
    return row


# --- password reset -------------------------------------------------------------------------


def request_password_reset(session: Session, *, email: str, ip: str | None) -> str:
    """Email a reset link if an account uses `email`; returns the one message shown either way.

    Limited per client address and per email (TooManyRequests), for unknown emails too, so the
    answer never tells whether an account exists.
    """
    email = (email or "").strip()
    if not email or "@" not in email or len(email) > 254:
        raise AuthError("Enter the email you sign in with.", field="email")
    if ip:
        _limit(RESETS_PER_IP, "password-reset", "ip", ip)
    _limit(RESETS_PER_EMAIL, "password-reset", "email", hash_token(email.lower()))
    user = repo.find_user_by_login_email(session, email=email)
    memberships = tenants_repo.list_memberships_of_user(session, user_id=user.id) if user else []
    if user is None or not user.is_active or not memberships:
        return RESET_REQUESTED_MESSAGE
    business_id = memberships[0].business_id
    token = _issue(
        session,
        user=user,
        business_id=business_id,
        purpose=PASSWORD_RESET,
        lifetime=timedelta(hours=RESET_LINK_HOURS),
    )
    _email(
        session,
        to=user.email,
        subject="Reset your BizBot password",
        lines=[
            f"Hello {user.name},",
            "",
            "Someone (hopefully you) asked to reset the password of your BizBot account.",
            "Open this link to choose a new one. It works once, for 1 hour:",
            "",
            f"{settings.public_url}/reset-password?token={token}",
        ],
    )
    security.record(session, business_id=business_id, action="password.reset_requested",
                    ip=ip, target_type="user", target_id=user.id)  # fmt: skip
    return RESET_REQUESTED_MESSAGE


def check_reset_link(session: Session, *, token: str) -> LinkTarget:
    """Whom a reset link is for, or LinkError (unknown, used or expired)."""
    row = _redeem(session, token=token, purpose=PASSWORD_RESET, what="password reset")
    user = repo.get_user(session, user_id=row.user_id)
    if user is None or not user.is_active:
        raise LinkError("This password reset link is not valid any more.")
    return LinkTarget(user_id=user.id, email=user.email)


def reset_password(session: Session, *, token: str, password: str, ip: str | None) -> LinkTarget:
    """Set a new password through a reset link: the link is used up and every session of the
    account ends. Proves the email too, so the account counts as verified."""
    target = check_reset_link(session, token=token)
    row = repo.find_account_token(session, token_hash=hash_token(token), purpose=PASSWORD_RESET)
    user = repo.get_user(session, user_id=target.user_id)
    problem = passwords.password_problem(password, user_inputs=[user.email, user.name])
    if problem:
        raise AuthError(problem, field="password")
    now = utcnow()
    user.password_hash = passwords.hash_password(password)
    user.email_verified_at = user.email_verified_at or now
    row.used_at = now
    session.add_all([user, row])
    ended = revoke_sessions(session, user_id=user.id, session_ids=None, keep_id=None)
    security.record(session, business_id=row.business_id, action="password.reset",
                    actor_user_id=user.id, ip=ip, target_type="user", target_id=user.id,
                    details={"sessions_ended": ended})  # fmt: skip
    return target


# --- email verification ---------------------------------------------------------------------


def send_verification(session: Session, *, user_id: int, business_id: int) -> bool:
    """Email a verification link to the user (False when already verified)."""
    user = repo.get_user(session, user_id=user_id)
    if user is None or user.email_verified_at is not None:
        return False
    token = _issue(
        session,
        user=user,
        business_id=business_id,
        purpose=EMAIL_VERIFICATION,
        lifetime=timedelta(days=VERIFY_LINK_DAYS),
    )
    _email(
        session,
        to=user.email,
        subject="Confirm your email for BizBot",
        lines=[
            f"Hello {user.name},",
            "",
            "Please confirm that this is your email address by opening this link "
            f"(it works for {VERIFY_LINK_DAYS} days):",
            "",
            f"{settings.public_url}/verify-email?token={token}",
        ],
    )
    return True


def resend_verification(session: Session, *, user_id: int, business_id: int) -> bool:
    """The dashboard banner's "resend": a new link, a few per ten minutes at most."""
    _limit(VERIFICATION_EMAILS_PER_USER, "verify-email", str(user_id))
    return send_verification(session, user_id=user_id, business_id=business_id)


def is_verified(session: Session, *, user_id: int) -> bool:
    """Whether the user confirmed their email."""
    user = repo.get_user(session, user_id=user_id)
    return user is not None and user.email_verified_at is not None


def verify_email(session: Session, *, token: str, ip: str | None) -> LinkTarget:
    """Confirm the email behind a verification link (once)."""
    row = _redeem(session, token=token, purpose=EMAIL_VERIFICATION, what="email verification")
    user = repo.get_user(session, user_id=row.user_id)
    if user is None:
        raise LinkError("This email verification link is not valid any more.")
    now = utcnow()
    row.used_at = now
    user.email_verified_at = user.email_verified_at or now
    session.add_all([row, user])
    security.record(session, business_id=row.business_id, action="email.verified",
                    actor_user_id=user.id, ip=ip, target_type="user", target_id=user.id,
                    details={"email": user.email})  # fmt: skip
    return LinkTarget(user_id=user.id, email=user.email)


# --- changing my password -------------------------------------------------------------------


def change_password(
    session: Session,
    *,
    user_id: int,
    business_id: int,
    current_password: str,
    new_password: str,
    current_session_id: int | None,
    ip: str | None,
) -> int:
    """Change my password (the current one is required); every other session of mine ends.
    Returns how many sessions ended. Wrong current passwords count like failed logins."""
    user = repo.get_user(session, user_id=user_id)
    if user is None:
        raise AuthError(f"No user with id {user_id}.")
    if not verify_current_password(user, current_password, ip=ip):
        raise AuthError("Your current password is not right.", field="current_password")
    if current_password == new_password:
        raise AuthError("Choose a password different from the current one.", field="new_password")
    problem = passwords.password_problem(new_password, user_inputs=[user.email, user.name])
    if problem:
        raise AuthError(problem, field="new_password")
    user.password_hash = passwords.hash_password(new_password)
    session.add(user)
    ended = revoke_sessions(session, user_id=user_id, session_ids=None, keep_id=current_session_id)
    security.record(session, business_id=business_id, action="password.changed",
                    actor_user_id=user_id, ip=ip, target_type="user", target_id=user_id,
                    details={"sessions_ended": ended})  # fmt: skip
    return ended
