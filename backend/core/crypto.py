"""Secrets at rest: encryption of stored credentials and keyed hashes of tokens.

Credentials are encrypted with Fernet under ENCRYPTION_KEYS (comma-separated; the first one
encrypts, every one decrypts), or, when that is unset, under a key derived from SECRET_KEY.
`python -m backend.cli secrets rotate` re-encrypts everything under the first key. Token hashes
always stay keyed by SECRET_KEY.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic_settings import BaseSettings, SettingsConfigDict

from backend.core.config import PROJECT_ROOT, settings


class DecryptionError(ValueError):
    """Stored ciphertext could not be read: SECRET_KEY changed or the value was altered."""


class _KeySettings(BaseSettings):
    """ENCRYPTION_KEYS from the environment or `.env` (read here, beside the keys' only user)."""

    model_config = SettingsConfigDict(
        env_file=PROJECT_ROOT / ".env", env_file_encoding="utf-8", extra="ignore"
    )

    encryption_keys: str = ""


def _derive(purpose: bytes, secret: str | None = None) -> bytes:
    material = secret if secret is not None else settings.effective_secret_key
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        material.encode()
    )


def fernet_for(secret: str) -> Fernet:
    """The Fernet that one encryption key (any long random string) stands for."""
    if not secret or not secret.strip():
        raise ValueError("An encryption key cannot be empty.")
    return Fernet(base64.urlsafe_b64encode(_derive(b"bizbot credentials v1", secret.strip())))


def encryption_keys() -> list[str]:
    """ENCRYPTION_KEYS, newest first; SECRET_KEY alone when it is unset."""
    configured = [k.strip() for k in _KeySettings().encryption_keys.split(",") if k.strip()]
    return configured or [settings.effective_secret_key]


def multi_fernet(keys: list[str]) -> MultiFernet:
    """Encrypts with the first of `keys`, decrypts with any of them."""
    if not keys:
        raise ValueError("Give at least one encryption key.")
    return MultiFernet([fernet_for(k) for k in keys])


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    return multi_fernet(encryption_keys())


def reset_keys() -> None:
    """Forget the cached keys (after ENCRYPTION_KEYS changed, in tests and the rotate command)."""
    _fernet.cache_clear()


def encrypt(plaintext: str) -> str:
    """Encrypt a secret (a channel token, a provider key) for storage."""
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    """Decrypt what `encrypt` stored; raises DecryptionError with the likely cause."""
    try:
        return _fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        msg = (
            "stored credentials cannot be decrypted: was SECRET_KEY or ENCRYPTION_KEYS changed? "
            "Put the old key back in ENCRYPTION_KEYS (after the new one), or re-enter them."
        )
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
