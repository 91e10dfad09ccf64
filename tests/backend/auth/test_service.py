"""Sign-up, sign-in and sessions against the real database and Redis."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
import sqlalchemy as sa
from sqlmodel import select

from backend.auth import service as auth
from backend.core.config import settings
from backend.core.crypto import hash_token
from backend.models import Business, Membership, Role, User, UserSession
from backend.models.base import utcnow
from backend.security import two_factor
from tests.factories import PASSWORD, make_user

GOOD = "a sturdy passphrase 42"


def _count(db, model) -> int:
    return db.exec(select(sa.func.count()).select_from(model)).one()


def test_sign_up_creates_business_and_owner(db):
    result = auth.sign_up(
        db, business_name="Mama's Kitchen", name="Ada", email="Ada@Example.com", password=GOOD
    )
    business = db.get(Business, result.business_id)
    user = db.get(User, result.user_id)
    assert business.name == "Mama's Kitchen"
    assert business.slug == "mamas-kitchen"
    assert user.email == "Ada@example.com"  # domain lower-cased, local part kept
    assert user.password_hash.startswith("$argon2id$")
    assert GOOD not in user.password_hash
    role = auth.membership_role(db, business_id=business.id, user_id=user.id)
    assert role == Role.OWNER


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"business_name": "  "}, "business_name", "business"),
        ({"business_name": "x" * 121}, "business_name", "under 120"),
        ({"name": ""}, "name", "name"),
        ({"email": "not-an-email"}, "email", "valid email"),
        ({"password": "short"}, "password", "at least 8"),
        ({"password": "password123"}, "password", "weak"),
    ],
)
def test_sign_up_rejects_bad_input_and_keeps_nothing(db, fields, field, words):
    before = (_count(db, Business), _count(db, User), _count(db, Membership))
    form = {"business_name": "Shop", "name": "Ada", "email": "ada@example.com", "password": GOOD}
    with pytest.raises(auth.AuthError) as err:
        auth.sign_up(db, **{**form, **fields})
    assert err.value.field == field
    assert words in err.value.message.lower()
    assert (_count(db, Business), _count(db, User), _count(db, Membership)) == before


def test_sign_up_with_a_taken_email_says_so_whatever_the_case(db):
    make_user(db, email="taken@example.com")
    with pytest.raises(auth.AuthError) as err:
        auth.sign_up(db, business_name="Other", name="Bo", email="TAKEN@example.com", password=GOOD)
    assert err.value.field == "email"
    assert "already exists" in err.value.message


def test_an_account_left_without_a_business_signs_up_again_with_its_own_password(db):
    user = make_user(db, email="alone@example.com")
    db.exec(sa.delete(Membership).where(Membership.user_id == user.id))
    with pytest.raises(auth.AuthError, match="no longer belongs"):
        auth.authenticate(db, email="alone@example.com", password=PASSWORD, ip="203.0.113.9")
    with pytest.raises(auth.AuthError, match="already exists"):
        auth.sign_up(db, business_name="New", name="A", email="alone@example.com", password=GOOD)
    users = _count(db, User)

    result = auth.sign_up(
        db, business_name="Second Life", name="A", email="ALONE@example.com", password=PASSWORD
    )

    assert result.user_id == user.id
    assert _count(db, User) == users
    assert auth.membership_role(db, business_id=result.business_id, user_id=user.id) == Role.OWNER
    ticket = auth.authenticate(db, email="alone@example.com", password=PASSWORD, ip="203.0.113.9")
    assert ticket.business_id == result.business_id


def test_signing_up_again_is_a_login_attempt_throttled_and_never_enough_with_two_factor(db):
    user = make_user(db, email="alone@example.com")
    db.exec(sa.delete(Membership).where(Membership.user_id == user.id))
    form = {"business_name": "Guess", "name": "A", "email": "alone@example.com"}
    answers = []
    for attempt in range(20):
        with pytest.raises(auth.AuthError) as err:
            auth.sign_up(db, **form, password=f"wrong-guess-{attempt}", ip="203.0.113.7")
        answers.append(err.value)
        if isinstance(err.value, auth.TooManyAttempts):
            break
    assert isinstance(answers[-1], auth.TooManyAttempts), "wrong passwords were never counted"
    assert all("already exists" in answer.message for answer in answers[:-1])
    with pytest.raises(auth.TooManyAttempts):  # locked out: the right password waits too
        auth.sign_up(db, **form, password=PASSWORD, ip="203.0.113.7")

    guarded = make_user(db, email="guarded@example.com")
    [membership] = db.exec(select(Membership).where(Membership.user_id == guarded.id)).all()
    enrolment = two_factor.start_enrolment(db, user_id=guarded.id)
    two_factor.confirm_enrolment(db, user_id=guarded.id, business_id=membership.business_id,
                                 code=pyotp.TOTP(enrolment.secret).now())  # fmt: skip
    db.exec(sa.delete(Membership).where(Membership.user_id == guarded.id))
    businesses = _count(db, Business)
    with pytest.raises(auth.AuthError, match="two-step code"):
        auth.sign_up(db, business_name="Takeover", name="A", email="guarded@example.com",
                     password=PASSWORD, ip="203.0.113.8")  # fmt: skip
    assert _count(db, Business) == businesses


def test_sign_up_can_be_closed(db, monkeypatch):
    monkeypatch.setattr(settings, "allow_signup", False)
    with pytest.raises(auth.AuthError, match="closed"):
        auth.sign_up(db, business_name="Shop", name="Ada", email="a@example.com", password=GOOD)


def test_authenticate_gives_one_message_for_unknown_email_and_wrong_password(db):
    make_user(db, email="known@example.com")
    with pytest.raises(auth.InvalidCredentials) as unknown:
        auth.authenticate(db, email="nobody@example.com", password=PASSWORD)
    with pytest.raises(auth.InvalidCredentials) as wrong:
        auth.authenticate(db, email="known@example.com", password="not the password")
    assert unknown.value.message == wrong.value.message


def test_authenticate_returns_the_users_business(db):
    user = make_user(db, email="Owner@Example.com")
    ticket = auth.authenticate(db, email="owner@example.com", password=PASSWORD)
    assert ticket.user_id == user.id
    assert db.get(User, user.id).last_login_at is not None


def test_login_ticket_is_single_use():
    code = auth.issue_login_ticket(auth.LoginTicket(user_id=7, business_id=3))
    assert auth.redeem_login_ticket(code) == auth.LoginTicket(user_id=7, business_id=3)
    assert auth.redeem_login_ticket(code) is None
    assert auth.redeem_login_ticket("forged") is None


def _session_for(db, user):
    ticket = auth.authenticate(db, email=user.email, password=PASSWORD)
    return auth.start_session(db, ticket=ticket, ip_address="127.0.0.1", user_agent="pytest")


def test_session_resolves_to_user_business_and_role(db):
    user = make_user(db, role=Role.AGENT, name="Tom")
    token = _session_for(db, user)
    info = auth.resolve_session(db, token=token)
    assert (info.user_id, info.user_name, info.role) == (user.id, "Tom", Role.AGENT)
    row = db.exec(select(UserSession).where(UserSession.user_id == user.id)).one()
    assert row.token_hash == hash_token(token)
    assert token not in row.token_hash


def test_logout_revokes_the_session(db):
    token = _session_for(db, make_user(db))
    auth.end_session(db, token=token)
    assert auth.resolve_session(db, token=token) is None


def test_expired_idle_and_unknown_sessions_are_refused(db):
    user = make_user(db)
    expired, idle = _session_for(db, user), _session_for(db, user)
    now = utcnow()
    for token, field, value in (
        (expired, "expires_at", now - timedelta(seconds=1)),
        (idle, "last_seen_at", now - timedelta(hours=settings.session_idle_hours + 1)),
    ):
        row = db.exec(select(UserSession).where(UserSession.token_hash == hash_token(token))).one()
        setattr(row, field, value)
        db.add(row)
    db.flush()
    assert auth.resolve_session(db, token=expired) is None
    assert auth.resolve_session(db, token=idle) is None
    assert auth.resolve_session(db, token="made-up") is None
    assert auth.resolve_session(db, token=None) is None


def test_session_ends_when_membership_is_removed(db):
    user = make_user(db)
    token = _session_for(db, user)
    db.delete(db.exec(select(Membership).where(Membership.user_id == user.id)).one())
    db.flush()
    assert auth.resolve_session(db, token=token) is None
