"""Accounts and sessions: sign-up, sign-in, the session cookie's lifecycle, members."""

from __future__ import annotations

from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from backend.auth import passwords
from backend.auth import repository as repo
from backend.auth.schemas import LoginTicket, SessionInfo, SignupResult
from backend.core.config import settings
from backend.core.crypto import hash_token, new_token
from backend.core.redis import get_redis
from backend.models.base import utcnow
from backend.models.tenants import Membership, Role, User, UserSession
from backend.tenants import repository as tenants_repo
from backend.tenants import service as tenants

SESSION_COOKIE = "bizbot_session"
LOGIN_TICKET_SECONDS = 60
# Touch last_seen_at at most this often, so every page event is not a write.
_SEEN_RESOLUTION = timedelta(seconds=60)
_TICKET_KEY = "bizbot:login-ticket:{}"


class AuthError(ValueError):
    """A sign-up or sign-in problem with a message fit to show on the form."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class InvalidCredentials(AuthError):
    """Wrong email or password (one message for both, so accounts are not revealed)."""

    def __init__(self) -> None:
        super().__init__("That email and password do not match an account.")


def normalize_email(email: str) -> str:
    """A valid email in canonical form, or AuthError naming the field."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise AuthError(f"Enter a valid email address ({exc}).", field="email") from exc


def _check_new_account(session: Session, *, email: str, name: str, password: str) -> str:
    email = normalize_email(email)
    if not name.strip():
        raise AuthError("Enter your name.", field="name")
    if repo.find_user_by_login_email(session, email=email) is not None:
        raise AuthError(
            "An account with this email already exists. Log in instead, or use another email.",
            field="email",
        )
    problem = passwords.password_problem(password, user_inputs=[email, name])
    if problem:
        raise AuthError(problem, field="password")
    return email


def _add_user(session: Session, *, email: str, name: str, password: str) -> User:
    user = User(email=email, name=name.strip(), password_hash=passwords.hash_password(password))
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:  # Two sign-ups raced for one email.
        raise AuthError("An account with this email already exists.", field="email") from exc
    return user


def sign_up(
    session: Session, *, business_name: str, name: str, email: str, password: str
) -> SignupResult:
    """Create a business and its owner; raises AuthError (field + message) on bad input."""
    if not settings.allow_signup:
        raise AuthError("Sign-up is closed on this BizBot. Ask an owner for an invitation.")
    if not business_name.strip():
        raise AuthError("Enter your business's name.", field="business_name")
    email = _check_new_account(session, email=email, name=name, password=password)
    try:
        business = tenants.create_business(session, name=business_name)
    except tenants.BusinessError as exc:
        raise AuthError(exc.message, field="business_name") from exc
    user = _add_user(session, email=email, name=name, password=password)
    tenants.add_member(session, business_id=business.id, user_id=user.id, role=Role.OWNER)
    return SignupResult(business_id=business.id, user_id=user.id)


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    password: str,
    business_id: int,
    role: Role,
) -> User:
    """Create a user who is a member of an existing business with `role` (admin tooling)."""
    if tenants_repo.get_business(session, business_id=business_id) is None:
        raise AuthError(f"No business with id {business_id}.", field="business")
    email = _check_new_account(session, email=email, name=name, password=password)
    user = _add_user(session, email=email, name=name, password=password)
    tenants.add_member(session, business_id=business_id, user_id=user.id, role=Role(role))
    return user


def set_password(session: Session, *, user_id: int, password: str) -> None:
    """Replace a user's password without the strength rule (demo and admin tooling only)."""
    user = repo.get_user(session, user_id=user_id)
    if user is None:
        raise AuthError(f"No user with id {user_id}.")
    user.password_hash = passwords.hash_password(password)
    session.add(user)


def authenticate(session: Session, *, email: str, password: str) -> LoginTicket:
    """Check an email and password; returns who signs in where, or InvalidCredentials."""
    user = repo.find_user_by_login_email(session, email=email.strip())
    if user is None:
        passwords.verify_password(password, passwords.dummy_hash())
        raise InvalidCredentials()
    if not passwords.verify_password(password, user.password_hash) or not user.is_active:
        raise InvalidCredentials()
    memberships = tenants_repo.list_memberships_of_user(session, user_id=user.id)
    if not memberships:
        raise AuthError("Your account no longer belongs to a business. Ask for an invitation.")
    user.last_login_at = utcnow()
    session.add(user)
    return LoginTicket(user_id=user.id, business_id=memberships[0].business_id)


def issue_login_ticket(ticket: LoginTicket) -> str:
    """A one-time, one-minute code the browser exchanges for its session cookie."""
    code = new_token()
    get_redis().set(
        _TICKET_KEY.format(hash_token(code)),
        f"{ticket.user_id}:{ticket.business_id}",
        ex=LOGIN_TICKET_SECONDS,
    )
    return code


def redeem_login_ticket(code: str) -> LoginTicket | None:
    """The ticket behind `code`, once; None when unknown, used or expired."""
    if not code:
        return None
    raw = get_redis().getdel(_TICKET_KEY.format(hash_token(code)))
    if raw is None:
        return None
    user_id, business_id = raw.decode().split(":")
    return LoginTicket(user_id=int(user_id), business_id=int(business_id))


def start_session(
    session: Session, *, ticket: LoginTicket, ip_address: str | None, user_agent: str | None
) -> str:
    """Open a server-side session for a redeemed ticket; returns the cookie's token."""
    token = new_token()
    now = utcnow()
    session.add(
        UserSession(
            business_id=ticket.business_id,
            user_id=ticket.user_id,
            token_hash=hash_token(token),
            ip_address=(ip_address or "")[:64] or None,
            user_agent=(user_agent or "")[:400] or None,
            last_seen_at=now,
            expires_at=now + timedelta(days=settings.session_days),
        )
    )
    session.flush()
    return token


def resolve_session(session: Session, *, token: str | None) -> SessionInfo | None:
    """Who the session token belongs to, or None if it is unknown, revoked or timed out."""
    if not token:
        return None
    row = repo.find_session_by_token_hash(session, token_hash=hash_token(token))
    now = utcnow()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    if row.last_seen_at and now - row.last_seen_at > timedelta(hours=settings.session_idle_hours):
        row.revoked_at = now
        session.add(row)
        return None
    user = repo.get_user(session, user_id=row.user_id)
    membership = tenants_repo.get_membership(
        session, business_id=row.business_id, user_id=row.user_id
    )
    business = tenants_repo.get_business(session, business_id=row.business_id)
    if user is None or not user.is_active or membership is None or business is None:
        return None
    if row.last_seen_at is None or now - row.last_seen_at > _SEEN_RESOLUTION:
        row.last_seen_at = now
        session.add(row)
    return SessionInfo(
        session_id=row.id,
        user_id=user.id,
        user_name=user.name,
        email=user.email,
        business_id=business.id,
        business_name=business.name,
        role=Role(membership.role),
    )


def end_session(session: Session, *, token: str | None) -> None:
    """Revoke the session behind `token` (log out); unknown tokens are ignored."""
    if not token:
        return
    row = repo.find_session_by_token_hash(session, token_hash=hash_token(token))
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)


def membership_role(session: Session, *, business_id: int, user_id: int) -> Role | None:
    """The user's role in the business, or None when not a member."""
    membership: Membership | None = tenants_repo.get_membership(
        session, business_id=business_id, user_id=user_id
    )
    return Role(membership.role) if membership else None
