"""TOTP two-factor sign-in on the real PostgreSQL: enrolment, single-use codes, recovery."""

from __future__ import annotations

import time

import pyotp
import pytest
from sqlmodel import select

from backend.core.crypto import decrypt
from backend.models import AuditLog, TwoFactor
from backend.security import two_factor
from tests.factories import make_business, make_user


def _enrolled(db):
    business = make_business(db)
    user = make_user(db, business=business)
    enrolment = two_factor.start_enrolment(db, user_id=user.id)
    return business, user, enrolment


def test_enrolment_shows_a_qr_code_and_stores_the_secret_encrypted(db):
    _, user, enrolment = _enrolled(db)
    assert enrolment.qr_data_uri.startswith("data:image/svg+xml")
    assert enrolment.uri.startswith("otpauth://totp/BizBot:")
    row = db.exec(select(TwoFactor).where(TwoFactor.user_id == user.id)).one()
    assert enrolment.secret not in row.secret_encrypted
    assert decrypt(row.secret_encrypted) == enrolment.secret
    assert two_factor.is_enabled(db, user_id=user.id) is False
    assert two_factor.status(db, user_id=user.id).enrolling is True


def test_confirming_with_a_wrong_code_keeps_it_off(db):
    business, user, _ = _enrolled(db)
    with pytest.raises(two_factor.TwoFactorError, match="not right"):
        two_factor.confirm_enrolment(db, user_id=user.id, business_id=business.id, code="000000")
    assert two_factor.is_enabled(db, user_id=user.id) is False


def test_confirm_gives_ten_recovery_codes_stored_hashed_and_audited(db):
    business, user, enrolment = _enrolled(db)
    code = pyotp.TOTP(enrolment.secret).now()
    codes = two_factor.confirm_enrolment(
        db, user_id=user.id, business_id=business.id, code=code, ip="198.51.100.4"
    )
    assert len(codes) == 10
    assert len(set(codes)) == 10
    row = db.exec(select(TwoFactor).where(TwoFactor.user_id == user.id)).one()
    assert all(c.replace("-", "") not in "".join(row.recovery_code_hashes) for c in codes)
    assert two_factor.status(db, user_id=user.id).recovery_codes_left == 10
    audit = db.exec(select(AuditLog).where(AuditLog.business_id == business.id)).all()
    assert [(a.action, a.ip_address) for a in audit] == [("2fa.enabled", "198.51.100.4")]


def test_a_totp_code_works_once_and_a_recovery_code_works_once(db):
    business, user, enrolment = _enrolled(db)
    totp = pyotp.TOTP(enrolment.secret)
    now = time.time()
    codes = two_factor.confirm_enrolment(
        db, user_id=user.id, business_id=business.id, code=totp.at(now), now=now
    )
    later = now + 60
    assert two_factor.verify(db, user_id=user.id, code=totp.at(later), now=later) == "totp"
    with pytest.raises(two_factor.TwoFactorError):
        two_factor.verify(db, user_id=user.id, code=totp.at(later), now=later)  # replayed
    assert (
        two_factor.verify(db, user_id=user.id, code=codes[0].upper(), business_id=business.id)
        == "recovery"
    )
    with pytest.raises(two_factor.TwoFactorError):
        two_factor.verify(db, user_id=user.id, code=codes[0])
    assert two_factor.status(db, user_id=user.id).recovery_codes_left == 9


def test_turning_off_needs_a_code_and_is_audited(db):
    business, user, enrolment = _enrolled(db)
    totp = pyotp.TOTP(enrolment.secret)
    now = time.time()
    codes = two_factor.confirm_enrolment(
        db, user_id=user.id, business_id=business.id, code=totp.at(now), now=now
    )
    with pytest.raises(two_factor.TwoFactorError):
        two_factor.disable(db, user_id=user.id, business_id=business.id, code="123")
    assert two_factor.is_enabled(db, user_id=user.id)
    two_factor.disable(db, user_id=user.id, business_id=business.id, code=codes[3])
    assert two_factor.is_enabled(db, user_id=user.id) is False
    assert two_factor.verify(db, user_id=user.id, code="") == "none"
    actions = db.exec(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions == ["2fa.enabled", "2fa.disabled"]


def test_resuming_an_enrolment_keeps_its_secret_until_confirmed(db):
    business, user, enrolment = _enrolled(db)
    again = two_factor.resume_enrolment(db, user_id=user.id)
    assert (again.secret, again.uri) == (enrolment.secret, enrolment.uri)
    two_factor.confirm_enrolment(db, user_id=user.id, business_id=business.id,
                                 code=pyotp.TOTP(enrolment.secret).now())  # fmt: skip
    with pytest.raises(two_factor.TwoFactorError, match="already on"):
        two_factor.resume_enrolment(db, user_id=user.id)
