"""Businesses and their members: creation, profile, logo, team listing, the demo business."""

from __future__ import annotations

import secrets
import zoneinfo
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pycountry
from slugify import slugify
from sqlmodel import Session

from backend.ai.language import DETECTED_LANGUAGES
from backend.ai.prompts import language_name
from backend.auth.permissions import Actor, Permission
from backend.core.images import ImageRejected, data_file, remove_after_commit, store_image
from backend.models.tenants import Business, Membership, Role
from backend.onboarding import service as onboarding
from backend.security import service as audit
from backend.tenants import repository as repo

MAX_LOGO_BYTES = 1024 * 1024
# Logo types by their first bytes: the file name and the browser's type are not trusted. SVG is
# refused because it can carry scripts.
LOGO_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".webp": "image/webp"}
# Funds, precious metals and testing codes are not money a business prices in.
_NOT_MONEY = frozenset(("XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XDR", "XPD", "XPT", "XSU",
                        "XTS", "XUA", "XXX", "BOV", "CHE", "CHW", "CLF", "COU", "MXV", "USN",
                        "UYI", "UYW"))  # fmt: skip


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
    logo_url: str = ""  # "" when the business has no logo


@dataclass(frozen=True)
class Choice:
    """One option of a select: the stored value and what the owner reads."""

    value: str
    label: str


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
        logo_url=logo_url(business),
    )


@lru_cache(maxsize=1)
def timezone_choices() -> tuple[str, ...]:
    """Every IANA timezone name, sorted (the profile's timezone select)."""
    return tuple(sorted(z for z in zoneinfo.available_timezones() if "/" in z or z == "UTC"))


@lru_cache(maxsize=1)
def language_choices() -> tuple[Choice, ...]:
    """The languages the AI engine detects and answers in, by English name."""
    codes = {lang.iso_code_639_1.name.lower() for lang in DETECTED_LANGUAGES}
    return tuple(sorted((Choice(c, f"{language_name(c)} ({c})") for c in codes),
                        key=lambda c: c.label))  # fmt: skip


@lru_cache(maxsize=1)
def currency_choices() -> tuple[Choice, ...]:
    """The ISO 4217 currencies a business can price in, by code."""
    return tuple(
        sorted(
            (Choice(c.alpha_3, f"{c.alpha_3} \u2014 {c.name}") for c in pycountry.currencies
             if c.alpha_3 not in _NOT_MONEY),
            key=lambda c: c.value,
        )
    )  # fmt: skip


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
    timezone = timezone.strip()
    if timezone not in zoneinfo.available_timezones():
        raise BusinessError(
            f"Unknown timezone {timezone!r}: pick one from the list, such as Africa/Nairobi.",
            field="timezone",
        )
    currency = currency.strip().upper()
    if currency not in {c.value for c in currency_choices()}:
        raise BusinessError(
            f"{currency or 'An empty value'} is not an ISO 4217 currency; pick one such as USD "
            "or KES.",
            field="currency",
        )
    language = default_language.strip().lower()
    if language not in {c.value for c in language_choices()}:
        raise BusinessError(
            f"The assistant does not speak {language or 'an empty language'!r}; pick a language "
            "from the list, such as en, fr or sw.",
            field="default_language",
        )
    business.name, business.timezone = name, timezone
    business.default_language, business.currency = language, currency
    session.add(business)
    session.flush()
    onboarding.record_step(session, business_id=actor.business_id, step="profile")
    return _profile(business)


# --- logo ----------------------------------------------------------------------------------


def logo_file(logo_path: str) -> Path:
    """Where a logo (as stored in `Business.logo_path`) lives on disk."""
    return data_file(logo_path)


def logo_url(business: Business) -> str:
    """The logo's URL (every upload gets a new file name, so a new logo is a new URL), "" when
    there is none."""
    if not business.logo_path:
        return ""
    return f"/api/media/logo/{business.id}/{Path(business.logo_path).name}"


def logo_url_for(session: Session, *, business_id: int) -> str:
    """The business's logo URL for the sidebar, "" when it has none."""
    business = repo.get_business(session, business_id=business_id)
    return logo_url(business) if business is not None else ""


def set_logo(
    session: Session, *, actor: Actor, filename: str, data: bytes, ip: str | None = None
) -> BusinessProfile:
    """Store an uploaded PNG, JPEG or WebP (up to 1 MB) under data/logos/ as the logo."""
    actor.require(Permission.BUSINESS_MANAGE)
    business = repo.get_business(session, business_id=actor.business_id)
    if business is None:
        raise BusinessError("This business no longer exists.")
    label = filename or "The file"
    try:
        relative = store_image(
            session, folder=f"logos/{int(business.id)}", data=data, allowed=LOGO_TYPES.keys(),
            max_bytes=MAX_LOGO_BYTES, replaces=business.logo_path,
        )  # fmt: skip
    except ImageRejected as rejected:
        raise BusinessError(_logo_refusal(rejected.reason, label, data), field="logo") from None
    business.logo_path = relative
    session.add(business)
    session.flush()
    audit.record(session, business_id=business.id, action="business.logo_changed",
                 actor_user_id=actor.user_id or None, ip=ip, target_type="business",
                 target_id=business.id)  # fmt: skip
    return _profile(business)


def _logo_refusal(reason: str, label: str, data: bytes) -> str:
    if reason == "empty":
        return f"{label} is empty; choose an image."
    if reason == "too_large":
        return (
            f"{label} is {len(data) // 1024} KB; logos can be up to 1 MB. Shrink it and upload "
            "it again."
        )
    hint = " SVG can carry scripts, so it is not accepted." if b"<svg" in data[:2048] else ""
    return f"{label} is not a PNG, JPEG or WebP image; upload one of those.{hint}"


def remove_logo(session: Session, *, actor: Actor, ip: str | None = None) -> BusinessProfile:
    """Take the logo down (owners only)."""
    actor.require(Permission.BUSINESS_MANAGE)
    business = repo.get_business(session, business_id=actor.business_id)
    if business is None:
        raise BusinessError("This business no longer exists.")
    previous, business.logo_path = business.logo_path, None
    session.add(business)
    session.flush()
    remove_after_commit(session, previous)
    if previous:
        audit.record(session, business_id=business.id, action="business.logo_removed",
                     actor_user_id=actor.user_id or None, ip=ip, target_type="business",
                     target_id=business.id)  # fmt: skip
    return _profile(business)


def find_logo(session: Session, *, business_id: int, name: str) -> tuple[Path, str] | None:
    """The logo file and its type when `name` is the business's current logo (public: logos
    appear on the widget), else None."""
    business = repo.get_business(session, business_id=business_id)
    if business is None or not business.logo_path or Path(business.logo_path).name != name:
        return None
    path = logo_file(business.logo_path)
    if not path.is_file():
        return None
    return path, LOGO_TYPES.get(path.suffix, "application/octet-stream")


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
