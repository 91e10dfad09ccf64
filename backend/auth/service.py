"""Accounts and sessions: sign-up, sign-in, the session cookie's lifecycle, members."""

from __future__ import annotations

from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from backend.auth import passwords
from backend.auth import repository as repo
from backend.auth.schemas import LoginTicket, SessionInfo, SessionView, SignupResult
from backend.core.config import settings
from backend.core.crypto import hash_token, new_token
from backend.core.ratelimit import RateLimited, hit
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
# Failed logins allowed before that account, or that client address, must wait.
FAILED_LOGINS_PER_ACCOUNT = "5/5 minutes"
FAILED_LOGINS_PER_IP = "20/5 minutes"
_LOCK_KEY = "bizbot:login-lock:{}:{}"


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


class TooManyAttempts(AuthError):
    """Too many failed logins for this account or from this address; wait `retry_after` s."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"Too many failed login attempts. Please try again in {retry_after} s.",
            field="form",
        )
        self.retry_after = retry_after


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
    # The installation's first account runs it (the System page); others get it from an admin.
    user.is_instance_admin = repo.is_first_user(session)
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:  # Two sign-ups raced for one email.
        raise AuthError("An account with this email already exists.", field="email") from exc
    return user


def sign_up(
    session: Session,
    *,
    business_name: str,
    name: str,
    email: str,
    password: str,
    ip: str | None = None,
) -> SignupResult:
    """Create a business and its owner; raises AuthError (field + message) on bad input."""
    if not settings.allow_signup:
        raise AuthError("Sign-up is closed on this BizBot. Ask an owner for an invitation.")
    if not business_name.strip():
        raise AuthError("Enter your business's name.", field="business_name")
    returning = _returning_user(session, email=email, password=password, ip=ip)
    if returning is not None:
        return _new_business_for(session, user=returning, business_name=business_name)
    email = _check_new_account(session, email=email, name=name, password=password)
    try:
        business = tenants.create_business(session, name=business_name)
    except tenants.BusinessError as exc:
        raise AuthError(exc.message, field="business_name") from exc
    user = _add_user(session, email=email, name=name, password=password)
    tenants.add_member(session, business_id=business.id, user_id=user.id, role=Role.OWNER)
    # Imported here: the account module builds on this one.
    from backend.auth import account

    account.send_verification(session, user_id=user.id, business_id=business.id)
    return SignupResult(business_id=business.id, user_id=user.id)


def _returning_user(session: Session, *, email: str, password: str, ip: str | None) -> User | None:
    """An existing account that belongs to no business (its business was deleted, or it was
    removed everywhere), signing up again with its own password: it gets a new business.

    The password is checked as a login checks it (the same lockout per account and address,
    a wrong one counted), and an account with two-step sign-in is refused: this form cannot
    ask for its code, and the password alone must never be enough for it."""
    try:
        found = repo.find_user_by_login_email(session, email=normalize_email(email))
    except AuthError:
        return None  # _check_new_account names the bad email.
    if found is None or not found.is_active:
        return None
    if tenants_repo.list_memberships_of_user(session, user_id=found.id):
        return None
    if not verify_current_password(found, password, ip=ip):
        return None
    # Imported here: security's services build on this module.
    from backend.security import two_factor

    if two_factor.is_enabled(session, user_id=found.id):
        raise AuthError(
            "This account signs in with a two-step code, which this page cannot ask for. "
            "Ask an owner of a business for an invitation, or sign up with another email.",
            field="email",
        )
    return found


def _new_business_for(session: Session, *, user: User, business_name: str) -> SignupResult:
    try:
        business = tenants.create_business(session, name=business_name)
    except tenants.BusinessError as exc:
        raise AuthError(exc.message, field="business_name") from exc
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


def _throttle_keys(email: str, ip: str | None) -> list[tuple[str, str, str]]:
    keys = [("account", hash_token(email.strip().lower()), FAILED_LOGINS_PER_ACCOUNT)]
    if ip:
        keys.append(("ip", ip, FAILED_LOGINS_PER_IP))
    return keys


def check_login_throttle(*, email: str, ip: str | None) -> None:
    """Raise TooManyAttempts while this account or address is locked out."""
    redis = get_redis()
    waits = [redis.ttl(_LOCK_KEY.format(kind, key)) for kind, key, _ in _throttle_keys(email, ip)]
    wait = max((w for w in waits if w and w > 0), default=0)
    if wait:
        raise TooManyAttempts(int(wait))


def count_failed_login(*, email: str, ip: str | None) -> None:
    """Count a failed login; past the limit, lock the account or address out for a while."""
    redis = get_redis()
    for kind, key, limit in _throttle_keys(email, ip):
        try:
            hit(limit, "login-failed", kind, key)
        except RateLimited as exc:
            redis.set(_LOCK_KEY.format(kind, key), "1", ex=max(1, exc.retry_after))


def verify_current_password(user: User, password: str, *, ip: str | None) -> bool:
    """Whether `password` is `user`'s, checked as a log-in checks it: TooManyAttempts while the
    account or address is locked out, and a wrong password counts towards that lockout (so a
    password prompt is never a way around the log-in limits)."""
    check_login_throttle(email=user.email, ip=ip)
    if passwords.verify_password(password or "", user.password_hash):
        return True
    count_failed_login(email=user.email, ip=ip)
    return False


def authenticate(
    session: Session, *, email: str, password: str, ip: str | None = None
) -> LoginTicket:
    """Check an email and password; returns who signs in where, or InvalidCredentials.

    Failed attempts are counted per account and per client address (`ip`); past the limits
    further attempts get TooManyAttempts, saying how long to wait.
    """
    check_login_throttle(email=email, ip=ip)
    user = repo.find_user_by_login_email(session, email=email.strip())
    if user is None:
        passwords.verify_password(password, passwords.dummy_hash())
        count_failed_login(email=email, ip=ip)
        raise InvalidCredentials()
    if not passwords.verify_password(password, user.password_hash) or not user.is_active:
        count_failed_login(email=email, ip=ip)
        raise InvalidCredentials()
    memberships = tenants_repo.list_memberships_of_user(session, user_id=user.id)
    if not memberships:
        raise AuthError(
            "Your account no longer belongs to a business. Ask for an invitation, or create a "
            "new business on the sign-up page with this email and password."
            if settings.allow_signup
            else "Your account no longer belongs to a business. Ask an owner for an invitation."
        )
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


_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"),
             ("Chrome/", "Chrome"), ("Safari/", "Safari"))  # fmt: skip
_SYSTEMS = (("Windows", "Windows"), ("iPhone", "iOS"), ("iPad", "iOS"), ("Android", "Android"),
            ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))  # fmt: skip


def describe_device(user_agent: str | None) -> str:
    """A short name for a browser's User-Agent, e.g. "Firefox on Linux"."""
    agent = user_agent or ""
    browser = next((name for mark, name in _BROWSERS if mark in agent), None)
    system = next((name for mark, name in _SYSTEMS if mark in agent), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or (agent[:60] or "Unknown device")


def list_sessions(
    session: Session, *, user_id: int, current_session_id: int | None
) -> list[SessionView]:
    """The user's signed-in browsers, the current one flagged."""
    rows = repo.list_live_sessions_of_user(session, user_id=user_id, now=utcnow())
    return [
        SessionView(
            id=row.id,
            device=describe_device(row.user_agent),
            ip_address=row.ip_address,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            current=row.id == current_session_id,
        )
        for row in rows
    ]


def revoke_sessions(
    session: Session, *, user_id: int, session_ids: list[int] | None, keep_id: int | None
) -> int:
    """Sign the user out of these sessions (all when `session_ids` is None) except `keep_id`;
    returns how many ended."""
    now = utcnow()
    ended = 0
    for row in repo.list_live_sessions_of_user(session, user_id=user_id, now=now):
        if row.id == keep_id or (session_ids is not None and row.id not in session_ids):
            continue
        row.revoked_at = now
        session.add(row)
        ended += 1
    session.flush()
    return ended


def membership_role(session: Session, *, business_id: int, user_id: int) -> Role | None:
    """The user's role in the business, or None when not a member."""
    membership: Membership | None = tenants_repo.get_membership(
        session, business_id=business_id, user_id=user_id
    )
    return Role(membership.role) if membership else None
