"""Plain data the auth domain hands to its callers (never ORM rows)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backend.auth.permissions import Actor
from backend.models.tenants import Role


@dataclass(frozen=True)
class SessionInfo:
    """Who is signed in on this browser, in which business, with which role."""

    session_id: int
    user_id: int
    user_name: str
    email: str
    business_id: int
    business_name: str
    role: Role

    @property
    def actor(self) -> Actor:
        """The actor services check permissions against."""
        return Actor(user_id=self.user_id, business_id=self.business_id, role=self.role)


@dataclass(frozen=True)
class SignupResult:
    """What sign-up created: the business and its owner."""

    business_id: int
    user_id: int


@dataclass(frozen=True)
class LoginTicket:
    """Proof that a password (or sign-up) checked out, exchanged once for a session cookie."""

    user_id: int
    business_id: int


@dataclass(frozen=True)
class SessionView:
    """One signed-in browser of the user, as the Security page lists it."""

    id: int
    device: str  # e.g. "Chrome on Windows"
    ip_address: str | None
    created_at: datetime
    last_seen_at: datetime | None
    current: bool
