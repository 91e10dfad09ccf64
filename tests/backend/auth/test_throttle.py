"""Login throttling on the real Redis: per account and per client address."""

from __future__ import annotations

import pytest

from backend.auth import service as auth
from tests.factories import PASSWORD, make_user

ACCOUNT_LIMIT = int(auth.FAILED_LOGINS_PER_ACCOUNT.split("/")[0])
IP_LIMIT = int(auth.FAILED_LOGINS_PER_IP.split("/")[0])


def test_failed_logins_lock_the_account_with_a_clear_wait(db):
    make_user(db, email="ama@example.com")
    for _ in range(ACCOUNT_LIMIT):
        with pytest.raises(auth.InvalidCredentials):
            auth.authenticate(db, email="ama@example.com", password="wrong", ip="192.0.2.1")
    # One more failure locks the account, from any address, even with the right password.
    with pytest.raises(auth.InvalidCredentials):
        auth.authenticate(db, email="ama@example.com", password="wrong", ip="192.0.2.1")
    with pytest.raises(auth.TooManyAttempts) as err:
        auth.authenticate(db, email="AMA@example.com", password=PASSWORD, ip="192.0.2.99")
    assert 1 <= err.value.retry_after <= 300
    assert f"try again in {err.value.retry_after} s" in err.value.message
    # Other accounts are not affected.
    other = make_user(db, email="bo@example.com")
    assert auth.authenticate(db, email="bo@example.com", password=PASSWORD).user_id == other.id


def test_failed_logins_from_one_address_lock_that_address(db):
    make_user(db, email="ama@example.com")
    for n in range(IP_LIMIT + 1):
        with pytest.raises(auth.InvalidCredentials):
            auth.authenticate(db, email=f"guess{n}@example.com", password="x", ip="198.51.100.7")
    with pytest.raises(auth.TooManyAttempts):
        auth.authenticate(db, email="ama@example.com", password=PASSWORD, ip="198.51.100.7")
    assert auth.authenticate(db, email="ama@example.com", password=PASSWORD, ip="198.51.100.8")


def test_successful_logins_are_not_counted(db):
    make_user(db, email="ama@example.com")
    for _ in range(ACCOUNT_LIMIT * 3):
        auth.authenticate(db, email="ama@example.com", password=PASSWORD, ip="192.0.2.1")
