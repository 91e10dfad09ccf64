"""Plain data security hands to pages, the API and the CLI (never ORM rows)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backend.auth.permissions import Actor


@dataclass(frozen=True)
class APIKeyView:
    """An API key as the Security page lists it (the secret itself is never shown again)."""

    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    status: str  # active | expired | revoked


@dataclass(frozen=True)
class CreatedAPIKey:
    """A new key: `key` is shown this once and stored only as a hash."""

    id: int
    business_id: int
    name: str
    prefix: str
    key: str
    scopes: list[str]
    expires_at: datetime | None


@dataclass(frozen=True)
class APIClient:
    """Who calls the public API: a key, its business, its scopes, and the actor it acts as."""

    key_id: int
    business_id: int
    scopes: frozenset[str]
    actor: Actor


@dataclass(frozen=True)
class AuditEntryView:
    """One line of the audit log."""

    id: int
    created_at: datetime
    action: str
    actor_user_id: int | None
    actor_api_key_id: int | None
    target: str
    ip_address: str | None
    details: dict


@dataclass(frozen=True)
class TwoFactorStatus:
    """Whether a user signs in with a second factor, and how many recovery codes are left."""

    enabled: bool
    recovery_codes_left: int
    enrolling: bool  # a secret was made but not yet confirmed with a code


@dataclass(frozen=True)
class TwoFactorEnrolment:
    """What an authenticator app needs: the secret, its otpauth:// link and a QR code of it."""

    secret: str
    uri: str
    qr_data_uri: str  # an SVG image as a data: URI
