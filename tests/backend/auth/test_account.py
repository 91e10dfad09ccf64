"""Password reset, email verification and password change, with emails through a local SMTP
server and the real RQ worker, PostgreSQL and Redis."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import select

from backend.auth import account
from backend.auth import service as auth
from backend.core.config import settings
from backend.core.db import session_scope
from backend.models import AccountToken, AuditLog, User
from tests.backend.inbox.helpers import run_worker
from tests.factories import PASSWORD, make_user
from tests.fakes.smtp_server import FakeSMTP

NEW_PASSWORD = "lantern orbit cactus 42"


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSMTP]:
    with FakeSMTP() as server:
        monkeypatch.setattr(settings, "smtp_host", server.host)
        monkeypatch.setattr(settings, "smtp_port", server.port)
        monkeypatch.setattr(settings, "smtp_security", "none")
        monkeypatch.setattr(settings, "smtp_from", "BizBot <bizbot@shop.example>")
        yield server


def _link_token(smtp: FakeSMTP, path: str) -> str:
    run_worker("default")
    email = smtp.messages[-1]
    match = re.search(rf"{re.escape(settings.public_url)}{path}\?token=(\S+)", email.text)
    assert match, email.text
    return match.group(1)


def _login(session, user) -> str:
    ticket = auth.authenticate(session, email=user.email, password=PASSWORD)
    return auth.start_session(session, ticket=ticket, ip_address="192.0.2.1", user_agent="x")


def _actions(business_id: int) -> list[str]:
    with session_scope() as session:
        rows = session.exec(select(AuditLog).where(AuditLog.business_id == business_id)).all()
        return [r.action for r in rows]


@pytest.mark.usefixtures("committed")
def test_reset_link_sets_a_new_password_once_and_ends_every_session(smtp):
    with session_scope() as session:
        user = make_user(session, email="ada@example.com")
        old_session = _login(session, user)
        user_id = user.id
    with session_scope() as session:
        message = account.request_password_reset(session, email="ADA@example.com", ip="192.0.2.9")
    assert message == account.RESET_REQUESTED_MESSAGE
    token = _link_token(smtp, "/reset-password")
    assert smtp.messages[-1].message["To"] == "ada@example.com"
    assert smtp.messages[-1].subject == "Reset your BizBot password"
    with session_scope() as session:
        # Only the hash is stored.
        rows = session.exec(select(AccountToken).where(AccountToken.user_id == user_id)).all()
        assert [r.token_hash != token for r in rows] == [True]
        business_id = rows[0].business_id
        assert account.check_reset_link(session, token=token).email == "ada@example.com"
        with pytest.raises(auth.AuthError, match=r"too weak|at least"):
            account.reset_password(session, token=token, password="abc", ip=None)
    with session_scope() as session:
        account.reset_password(session, token=token, password=NEW_PASSWORD, ip="192.0.2.9")
    with session_scope() as session:
        assert auth.resolve_session(session, token=old_session) is None
        assert auth.authenticate(session, email="ada@example.com", password=NEW_PASSWORD)
        with pytest.raises(auth.InvalidCredentials):
            auth.authenticate(session, email="ada@example.com", password=PASSWORD)
        assert session.get(User, user_id).email_verified_at is not None
        with pytest.raises(account.LinkError, match="already used"):
            account.reset_password(session, token=token, password="another pass 7781", ip=None)
    assert {"password.reset_requested", "password.reset"} <= set(_actions(business_id))


@pytest.mark.usefixtures("committed")
def test_unknown_email_gets_the_same_answer_and_no_email(smtp):
    with session_scope() as session:
        answer = account.request_password_reset(session, email="nobody@example.com", ip="192.0.2.9")
    run_worker("default")
    assert answer == account.RESET_REQUESTED_MESSAGE
    assert smtp.messages == []


def test_expired_unknown_and_replaced_links_say_so(db):
    user = make_user(db)
    first = account._issue(db, user=user, business_id=1, purpose=account.PASSWORD_RESET,
                           lifetime=timedelta(hours=1))  # fmt: skip
    second = account._issue(db, user=user, business_id=1, purpose=account.PASSWORD_RESET,
                            lifetime=timedelta(hours=1))  # fmt: skip
    with pytest.raises(account.LinkError, match="newer one"):
        account.check_reset_link(db, token=first)
    assert account.check_reset_link(db, token=second).user_id == user.id
    with pytest.raises(account.LinkError, match="not valid"):
        account.check_reset_link(db, token="made-up")
    expired = account._issue(db, user=user, business_id=1, purpose=account.PASSWORD_RESET,
                             lifetime=timedelta(seconds=-1))  # fmt: skip
    with pytest.raises(account.LinkError, match="expired"):
        account.check_reset_link(db, token=expired)
    # A verification link is not a reset link.
    verify = account._issue(db, user=user, business_id=1, purpose=account.EMAIL_VERIFICATION,
                            lifetime=timedelta(hours=1))  # fmt: skip
    with pytest.raises(account.LinkError, match="not valid"):
        account.check_reset_link(db, token=verify)


def test_reset_requests_are_limited_per_email_and_per_address(db):
    make_user(db, email="bo@example.com")
    for _ in range(3):
        account.request_password_reset(db, email="bo@example.com", ip="192.0.2.1")
    with pytest.raises(account.TooManyRequests, match=r"try again in \d+ s"):
        account.request_password_reset(db, email="bo@example.com", ip="192.0.2.2")
    # Unknown emails are limited the same way, so the limit reveals nothing.
    for _ in range(3):
        account.request_password_reset(db, email="ghost@example.com", ip="192.0.2.3")
    with pytest.raises(account.TooManyRequests):
        account.request_password_reset(db, email="ghost@example.com", ip="192.0.2.4")
    for n in range(10):
        account.request_password_reset(db, email=f"x{n}@example.com", ip="192.0.2.50")
    with pytest.raises(account.TooManyRequests):
        account.request_password_reset(db, email="y@example.com", ip="192.0.2.50")


@pytest.mark.usefixtures("committed")
def test_sign_up_emails_a_verification_link(smtp):
    with session_scope() as session:
        result = auth.sign_up(session, business_name="Kiosk", name="Wanjiru",
                              email="wanjiru@example.com", password=NEW_PASSWORD)  # fmt: skip
    token = _link_token(smtp, "/verify-email")
    with session_scope() as session:
        assert account.is_verified(session, user_id=result.user_id) is False
        assert account.verify_email(session, token=token, ip="192.0.2.5").user_id == result.user_id
    with session_scope() as session:
        assert account.is_verified(session, user_id=result.user_id) is True
        with pytest.raises(account.LinkError, match="already used"):
            account.verify_email(session, token=token, ip=None)
        # Nothing more to send once verified.
        assert (
            account.resend_verification(
                session, user_id=result.user_id, business_id=result.business_id
            )
            is False
        )
    assert "email.verified" in _actions(result.business_id)


def test_resend_is_limited(db):
    user = make_user(db)
    for _ in range(3):
        assert account.resend_verification(db, user_id=user.id, business_id=1) is True
    with pytest.raises(account.TooManyRequests):
        account.resend_verification(db, user_id=user.id, business_id=1)


def test_changing_my_password_keeps_only_this_session(db):
    user = make_user(db)
    business_id = auth.authenticate(db, email=user.email, password=PASSWORD).business_id
    here, there = _login(db, user), _login(db, user)
    here_id = auth.resolve_session(db, token=here).session_id
    with pytest.raises(auth.AuthError, match="current password is not right") as wrong:
        account.change_password(db, user_id=user.id, business_id=business_id,
                                current_password="nope", new_password=NEW_PASSWORD,
                                current_session_id=here_id, ip=None)  # fmt: skip
    assert wrong.value.field == "current_password"
    with pytest.raises(auth.AuthError) as weak:
        account.change_password(db, user_id=user.id, business_id=business_id,
                                current_password=PASSWORD, new_password="password",
                                current_session_id=here_id, ip=None)  # fmt: skip
    assert weak.value.field == "new_password"
    ended = account.change_password(db, user_id=user.id, business_id=business_id,
                                    current_password=PASSWORD, new_password=NEW_PASSWORD,
                                    current_session_id=here_id, ip="192.0.2.7")  # fmt: skip
    assert ended == 1
    assert auth.resolve_session(db, token=here) is not None
    assert auth.resolve_session(db, token=there) is None
    assert auth.authenticate(db, email=user.email, password=NEW_PASSWORD)
    entry = db.exec(select(AuditLog).where(AuditLog.action == "password.changed")).one()
    assert (entry.business_id, entry.actor_user_id, entry.ip_address) == (
        business_id,
        user.id,
        "192.0.2.7",
    )


@pytest.mark.usefixtures("committed")
def test_a_sent_link_does_not_stay_in_redis(smtp):
    from rq import Queue

    from backend.core.redis import get_redis

    with session_scope() as session:
        make_user(session, email="gone@example.com")
    with session_scope() as session:
        account.request_password_reset(session, email="gone@example.com", ip=None)
    queue = Queue("default", connection=get_redis())
    [job_id] = queue.job_ids
    token = _link_token(smtp, "/reset-password")
    assert token
    # Kept for 500 s by default; with the link inside, it is deleted on success instead.
    assert queue.fetch_job(job_id) is None
