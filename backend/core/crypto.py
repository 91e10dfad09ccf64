"""Secrets at rest: encryption of stored credentials and keyed hashes of tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from backend.core.config import settings


class DecryptionError(ValueError):
    """Stored ciphertext could not be read: SECRET_KEY changed or the value was altered."""


def _derive(purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        settings.effective_secret_key.encode()
    )


@lru_cache(maxsize=1)
def _fernet() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derive(b"bizbot credentials v1")))


def encrypt(plaintext: str) -> str:
    """Encrypt a secret (a channel token, a provider key) for storage."""
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    """Decrypt what `encrypt` stored; raises DecryptionError with the likely cause."""
    try:
        return _fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        msg = "stored credentials cannot be decrypted: was SECRET_KEY changed? Re-enter them."
        raise DecryptionError(msg) from exc


def new_token(nbytes: int = 32) -> str:
    """A random URL-safe token (sessions, tickets, links)."""
    return secrets.token_urlsafe(nbytes)


@lru_cache(maxsize=1)
def _token_key() -> bytes:
    return _derive(b"bizbot token hash v1")


def hash_token(token: str) -> str:
    """A keyed SHA-256 of a token, so a database leak does not reveal live tokens."""
    return hmac.new(_token_key(), token.encode(), hashlib.sha256).hexdigest()
