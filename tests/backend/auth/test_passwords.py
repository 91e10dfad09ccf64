"""Password hashing and strength."""

from __future__ import annotations

from backend.auth.passwords import hash_password, password_problem, verify_password


def test_hash_is_argon2_and_verifies():
    hashed = hash_password("a sturdy passphrase 42")
    assert hashed.startswith("$argon2id$")
    assert verify_password("a sturdy passphrase 42", hashed)
    assert not verify_password("a sturdy passphrase 43", hashed)


def test_weak_passwords_are_explained():
    assert "at least 8" in password_problem("abc")
    assert "weak" in password_problem("qwerty123")
    assert "weak" in password_problem("ada@example.com", user_inputs=["ada@example.com"])
    assert password_problem("violet tractor anthem 9") is None
