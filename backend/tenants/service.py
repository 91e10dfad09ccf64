"""Businesses and their members: creation, profile, team listing, the demo business."""

from __future__ import annotations

import secrets
import zoneinfo
from dataclasses import dataclass

from slugify import slugify
from sqlmodel import Session

from backend.auth.permissions import Actor, Permission
from backend.models.tenants import Business, Membership, Role
from backend.tenants import repository as repo


class BusinessError(ValueError):
    """Bad input for a business's profile; `field` names the form field."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class BusinessProfile:
    """A business's editable profile."""

    id: int
    name: str
    timezone: str
    default_language: str
    currency: str


@dataclass(frozen=True)
class Member:
    """One member of a business as the team list shows it."""

    user_id: int
    name: str
    email: str
    role: str
    availability: str


def _unique_slug(session: Session, name: str) -> str:
    base = slugify(name, max_length=60, replacements=[["'", ""], ["\u2019", ""]]) or "business"
    slug = base
    while repo.slug_taken(session, slug=slug):
        slug = f"{base}-{secrets.token_hex(3)}"
    return slug


def create_business(session: Session, *, name: str, is_demo: bool = False) -> Business:
    """Create a tenant with a unique slug."""
    name = name.strip()
    if not name:
        raise BusinessError("Enter the business's name.", field="business_name")
    if len(name) > 120:
        raise BusinessError("Keep the business name under 120 characters.", field="name")
    business = Business(name=name, slug=_unique_slug(session, name), is_demo=is_demo)
    session.add(business)
    session.flush()
    return business


def add_member(session: Session, *, business_id: int, user_id: int, role: Role) -> Membership:
    """Make a user a member of a business with `role`."""
    membership = Membership(business_id=business_id, user_id=user_id, role=Role(role))
    session.add(membership)
    session.flush()
    return membership


def _profile(business: Business) -> BusinessProfile:
    return BusinessProfile(
        id=business.id,
        name=business.name,
        timezone=business.timezone,
        default_language=business.default_language,
        currency=business.currency,
    )


def get_profile(session: Session, *, actor: Actor) -> BusinessProfile:
    """The actor's business profile (any member may read it)."""
    actor.require(Permission.DASHBOARD_VIEW)
    business = repo.get_business(session, business_id=actor.business_id)
    if business is None:
        raise BusinessError("This business no longer exists.")
    return _profile(business)


def update_profile(
    session: Session,
    *,
    actor: Actor,
    name: str,
    timezone: str,
    default_language: str,
    currency: str,
) -> BusinessProfile:
    """Change the business's name, timezone, language and currency (owners only)."""
    actor.require(Permission.BUSINESS_MANAGE)
    business = repo.get_business(session, business_id=actor.business_id)
    if business is None:
        raise BusinessError("This business no longer exists.")
    name = name.strip()
    if not name:
        raise BusinessError("Enter the business's name.", field="name")
    if len(name) > 120:
        raise BusinessError("Keep the business name under 120 characters.", field="name")
    if timezone not in zoneinfo.available_timezones():
        raise BusinessError(
            f"Unknown timezone {timezone!r}: use an IANA name such as Africa/Nairobi.",
            field="timezone",
        )
    currency = currency.strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        raise BusinessError("Currency is a 3-letter ISO code such as USD or KES.", field="currency")
    language = default_language.strip().lower()
    if not (2 <= len(language) <= 16):
        raise BusinessError("Language is a code such as en, fr or sw.", field="default_language")
    business.name, business.timezone = name, timezone
    business.default_language, business.currency = language, currency
    session.add(business)
    session.flush()
    return _profile(business)


def list_members(session: Session, *, actor: Actor) -> list[Member]:
    """The team of the actor's business (owners and admins)."""
    actor.require(Permission.MEMBERS_MANAGE)
    return [
        Member(
            user_id=user.id,
            name=user.name,
            email=user.email,
            role=membership.role,
            availability=membership.availability,
        )
        for membership, user in repo.list_members(session, business_id=actor.business_id)
    ]


def find_demo_business(session: Session) -> Business | None:
    """The demo business, if `make run` or `demo seed` made one."""
    return repo.find_demo_business(session)
