"""Two-factor sign-in with TOTP (pyotp): enrolment with a QR code (segno), single-use
recovery codes stored as keyed hashes, and the second step of logging in."""

from __future__ import annotations

import hmac
import secrets
import time

import pyotp
import segno
from sqlmodel import Session

from backend.auth import repository as auth_repo
from backend.auth import service as auth
from backend.core.crypto import decrypt, encrypt, hash_token
from backend.models.base import utcnow
from backend.models.tenants import TwoFactor, User
from backend.security import repository as repo
from backend.security import service as security
from backend.security.schemas import TwoFactorEnrolment, TwoFactorStatus

ISSUER = "BizBot"
RECOVERY_CODES = 10
STEP_SECONDS = 30


class TwoFactorError(ValueError):
    """A wrong code, or a step out of order; the message fits the form."""

    def __init__(self, message: str, *, field: str | None = "code") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def _user(session: Session, user_id: int) -> User:
    user = auth_repo.get_user(session, user_id=user_id)
    if user is None:
        raise TwoFactorError(f"No user with id {user_id}.", field=None)
    return user


def _audit(session: Session, user_id: int, business_id: int, action: str, ip: str | None) -> None:
    security.record(session, business_id=business_id, action=action, actor_user_id=user_id,
                    ip=ip, target_type="user", target_id=user_id)  # fmt: skip


def _normal(code: str) -> str:
    return "".join(str(code or "").split()).replace("-", "").lower()


def _enabled(row: TwoFactor | None) -> bool:
    return row is not None and row.confirmed_at is not None


def status(session: Session, *, user_id: int) -> TwoFactorStatus:
    """Whether two-factor sign-in is on for the user."""
    row = repo.get_two_factor(session, user_id=user_id)
    return TwoFactorStatus(
        enabled=_enabled(row),
        recovery_codes_left=len(row.recovery_code_hashes or []) if _enabled(row) else 0,
        enrolling=row is not None and row.confirmed_at is None,
    )


def is_enabled(session: Session, *, user_id: int) -> bool:
    """Whether logging in as this user needs a code after the password."""
    return _enabled(repo.get_two_factor(session, user_id=user_id))


def start_enrolment(session: Session, *, user_id: int) -> TwoFactorEnrolment:
    """A new secret for the user's authenticator app; on only after `confirm_enrolment`."""
    user = _user(session, user_id)
    row = repo.get_two_factor(session, user_id=user_id)
    if _enabled(row):
        raise TwoFactorError("Two-factor sign-in is already on; turn it off first.", field=None)
    secret = pyotp.random_base32()
    if row is None:
        row = TwoFactor(user_id=user_id, secret_encrypted=encrypt(secret))
    row.secret_encrypted, row.last_used_step, row.recovery_code_hashes = encrypt(secret), None, []
    session.add(row)
    session.flush()
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    qr = segno.make(uri, error="m").svg_data_uri(scale=4, border=2)
    return TwoFactorEnrolment(secret=secret, uri=uri, qr_data_uri=qr)


def resume_enrolment(session: Session, *, user_id: int) -> TwoFactorEnrolment:
    """The enrolment in progress (the same secret and QR code), or a new one: reloading the
    set-up page does not change what the authenticator app already scanned."""
    row = repo.get_two_factor(session, user_id=user_id)
    if row is None or row.confirmed_at is not None:
        return start_enrolment(session, user_id=user_id)
    user = _user(session, user_id)
    secret = decrypt(row.secret_encrypted)
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    qr = segno.make(uri, error="m").svg_data_uri(scale=4, border=2)
    return TwoFactorEnrolment(secret=secret, uri=uri, qr_data_uri=qr)


def _accept_totp(row: TwoFactor, code: str, now: float | None = None) -> bool:
    if not code.isdigit() or len(code) != 6:
        return False
    totp = pyotp.TOTP(decrypt(row.secret_encrypted))
    current = int((now if now is not None else time.time()) // STEP_SECONDS)
    for step in (current - 1, current, current + 1):  # one step of clock drift either way
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            if row.last_used_step is not None and step <= row.last_used_step:
                return False  # already used: a code is good once
            row.last_used_step = step
            return True
    return False


def _accept_recovery(row: TwoFactor, code: str) -> bool:
    wanted = hash_token(code)
    left = list(row.recovery_code_hashes or [])
    for stored in left:
        if hmac.compare_digest(stored, wanted):
            left.remove(stored)
            row.recovery_code_hashes = left
            return True
    return False


def _new_recovery_codes(row: TwoFactor) -> list[str]:
    codes = [secrets.token_hex(5) for _ in range(RECOVERY_CODES)]
    row.recovery_code_hashes = [hash_token(c) for c in codes]
    return [f"{c[:5]}-{c[5:]}" for c in codes]


def confirm_enrolment(
    session: Session,
    *,
    user_id: int,
    business_id: int,
    code: str,
    ip: str | None = None,
    now: float | None = None,
    current_session_id: int | None = None,
) -> list[str]:
    """Turn two-factor sign-in on with a code from the app; returns ten recovery codes, once.

    Every other session of the user ends (they were opened without the second factor)."""
    row = repo.get_two_factor(session, user_id=user_id)
    if row is None:
        raise TwoFactorError("Start again: scan a new QR code first.", field=None)
    if row.confirmed_at is not None:
        raise TwoFactorError("Two-factor sign-in is already on.", field=None)
    if not _accept_totp(row, _normal(code), now):
        raise TwoFactorError("That code is not right; enter the 6 digits your app shows now.")
    row.confirmed_at = utcnow()
    codes = _new_recovery_codes(row)
    session.add(row)
    session.flush()
    auth.revoke_sessions(session, user_id=user_id, session_ids=None, keep_id=current_session_id)
    _audit(session, user_id, business_id, "2fa.enabled", ip)
    return codes


def verify(
    session: Session,
    *,
    user_id: int,
    code: str,
    business_id: int | None = None,
    ip: str | None = None,
    now: float | None = None,
) -> str:
    """Check a login's second factor: "totp" or "recovery" (that code is used up, and the use
    is audited in `business_id`); "none" when 2FA is off; else TwoFactorError."""
    row = repo.get_two_factor(session, user_id=user_id)
    if not _enabled(row):
        return "none"
    normal = _normal(code)
    if _accept_totp(row, normal, now):
        kind = "totp"
    elif _accept_recovery(row, normal):
        kind = "recovery"
    else:
        raise TwoFactorError("That code is not right; try the current code or a recovery code.")
    session.add(row)
    session.flush()
    if kind == "recovery" and business_id is not None:
        _audit(session, user_id, business_id, "2fa.recovery_code_used", ip)
    return kind


def disable(
    session: Session,
    *,
    user_id: int,
    business_id: int,
    code: str,
    ip: str | None = None,
    now: float | None = None,
) -> None:
    """Turn two-factor sign-in off; needs a current code or a recovery code."""
    row = repo.get_two_factor(session, user_id=user_id)
    if row is None:
        return
    if row.confirmed_at is not None:
        verify(session, user_id=user_id, code=code, now=now)
    repo.delete_two_factor(session, row)
    if row.confirmed_at is not None:
        _audit(session, user_id, business_id, "2fa.disabled", ip)
