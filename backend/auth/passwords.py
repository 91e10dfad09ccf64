"""Password hashing (argon2 via pwdlib) and the strength rule for new passwords."""

from __future__ import annotations

from functools import lru_cache

from pwdlib import PasswordHash
from zxcvbn import zxcvbn

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256


@lru_cache(maxsize=1)
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    """Whether `password` matches `password_hash`."""
    return _hasher().verify(password, password_hash)


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A hash to verify against when no user exists, so timing does not reveal accounts."""
    return hash_password("no-such-user-placeholder")


def password_problem(password: str, *, user_inputs: list[str] = ()) -> str | None:
    """Why a new password is too weak, or None when it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Use at most {MAX_PASSWORD_LENGTH} characters."
    result = zxcvbn(password, user_inputs=[u for u in user_inputs if u])
    if result["score"] < 2:
        hint = result["feedback"].get("warning") or "It is too easy to guess."
        return f"This password is too weak. {hint} Add more words or characters."
    return None
