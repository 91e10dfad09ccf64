"""API keys (shown once, stored as a keyed hash, scoped, expiring) and the audit log."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlmodel import Session

from backend.auth import repository as auth_repo
from backend.auth.permissions import Actor, Permission
from backend.core.crypto import hash_token
from backend.leads import repository as leads_repo
from backend.models.base import utcnow
from backend.models.security import APIKey, AuditLog
from backend.models.tenants import Role
from backend.security import repository as repo
from backend.security.schemas import APIClient, APIKeyView, AuditEntryView, CreatedAPIKey
from backend.tenants import repository as tenants_repo

KEY_PREFIX = "bb_"
# What a key may be allowed to do on /api/v1.
SCOPES: dict[str, str] = {
    "conversations:read": "List and read conversations and their messages",
    "messages:write": "Send a message to a conversation",
    "contacts:read": "List contacts",
    "knowledge:read": "List and search knowledge",
    "knowledge:write": "Add and update FAQ entries",
    "leads:read": "List leads",
    "orders:read": "List orders",
}
MAX_EXPIRY_DAYS = 3650
# Touch last_used_at at most this often, so every API call is not a write.
_USED_RESOLUTION = timedelta(seconds=60)


class SecurityError(ValueError):
    """Bad input for a security action; the message names the field and the fix."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidAPIKey(SecurityError):
    """The bearer token is missing, unknown, revoked or expired."""


class ScopeDenied(SecurityError):
    """The key lacks the scope this API route needs."""


# --- the audit log --------------------------------------------------------------------------


def record(
    session: Session,
    *,
    business_id: int,
    action: str,
    actor_user_id: int | None = None,
    api_key_id: int | None = None,
    ip: str | None = None,
    target_type: str | None = None,
    target_id: str | int | None = None,
    details: dict | None = None,
) -> None:
    """Append one entry to the business's audit log (entries are never edited or deleted)."""
    session.add(
        AuditLog(
            business_id=business_id,
            actor_user_id=actor_user_id,
            actor_api_key_id=api_key_id,
            action=action[:64],
            target_type=target_type,
            target_id=None if target_id is None else str(target_id)[:64],
            ip_address=(ip or "")[:64] or None,
            details=details or {},
        )
    )
    session.flush()


def record_login(session: Session, *, user_id: int, business_id: int, ip: str | None) -> None:
    """Audit a successful login."""
    record(
        session,
        business_id=business_id,
        action="login",
        actor_user_id=user_id,
        ip=ip,
        target_type="user",
        target_id=user_id,
    )


def record_failed_login(session: Session, *, email: str, ip: str | None, reason: str) -> None:
    """Audit a failed login in every business of the account it named (none if unknown)."""
    user = auth_repo.find_user_by_login_email(session, email=(email or "").strip())
    if user is None:
        return
    for membership in tenants_repo.list_memberships_of_user(session, user_id=user.id):
        record(
            session,
            business_id=membership.business_id,
            action="login.failed",
            ip=ip,
            target_type="user",
            target_id=user.id,
            details={"reason": reason},
        )


def list_audit(
    session: Session,
    *,
    actor: Actor,
    action: str | None = None,
    limit: int = 200,
    text: str | None = None,
) -> list[AuditEntryView]:
    """The business's audit log, newest first (owners and admins); `text` searches it."""
    actor.require(Permission.MEMBERS_MANAGE)
    rows = repo.list_audit(
        session,
        business_id=actor.business_id,
        action=action or None,
        limit=max(1, min(limit, 500)),
        text=(text or "").strip()[:100] or None,
    )
    return [
        AuditEntryView(
            id=row.id,
            created_at=row.created_at,
            action=row.action,
            actor_user_id=row.actor_user_id,
            actor_api_key_id=row.actor_api_key_id,
            target=f"{row.target_type} {row.target_id}" if row.target_type else "",
            ip_address=row.ip_address,
            details=dict(row.details or {}),
        )
        for row in rows
    ]


# --- API keys -------------------------------------------------------------------------------


def _scopes(scopes: list[str] | str) -> list[str]:
    if isinstance(scopes, str):
        scopes = scopes.split(",")
    wanted = sorted({s.strip() for s in scopes if s and s.strip()})
    if not wanted:
        raise SecurityError("Choose at least one scope.", field="scopes")
    unknown = [s for s in wanted if s not in SCOPES]
    if unknown:
        raise SecurityError(
            f"Unknown scope {', '.join(unknown)}; use some of {', '.join(SCOPES)}.", field="scopes"
        )
    return wanted


def _view(key: APIKey) -> APIKeyView:
    now = utcnow()
    status = "active"
    if key.revoked_at is not None:
        status = "revoked"
    elif key.expires_at is not None and key.expires_at <= now:
        status = "expired"
    return APIKeyView(
        id=key.id,
        name=key.name,
        prefix=key.prefix,
        scopes=list(key.scopes or []),
        created_at=key.created_at,
        expires_at=key.expires_at,
        last_used_at=key.last_used_at,
        revoked_at=key.revoked_at,
        status=status,
    )


def create_api_key_for_business(
    session: Session,
    *,
    business_id: int,
    name: str,
    scopes: list[str] | str,
    expires_days: int | None = None,
    created_by_user_id: int | None = None,
    ip: str | None = None,
) -> CreatedAPIKey:
    """A new key for the business (the CLI's way; the page goes through `create_api_key`)."""
    if tenants_repo.get_business(session, business_id=business_id) is None:
        raise SecurityError(f"No business with id {business_id}.", field="business")
    name = " ".join((name or "").split())[:120] or "API key"
    wanted = _scopes(scopes)
    expires_at = None
    if expires_days is not None:
        if not 1 <= int(expires_days) <= MAX_EXPIRY_DAYS:
            raise SecurityError(
                f"Expiry must be from 1 to {MAX_EXPIRY_DAYS} days, or none.", field="expires_days"
            )
        expires_at = utcnow() + timedelta(days=int(expires_days))
    prefix = KEY_PREFIX + secrets.token_hex(4)
    key = f"{prefix}_{secrets.token_urlsafe(32)}"
    row = APIKey(
        business_id=business_id,
        name=name,
        prefix=prefix,
        key_hash=hash_token(key),
        scopes=wanted,
        created_by_user_id=created_by_user_id,
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    record(
        session,
        business_id=business_id,
        action="api_key.created",
        actor_user_id=created_by_user_id,
        ip=ip,
        target_type="api_key",
        target_id=row.id,
        details={"name": name, "prefix": prefix, "scopes": wanted},
    )
    return CreatedAPIKey(
        id=row.id,
        business_id=business_id,
        name=name,
        prefix=prefix,
        key=key,
        scopes=wanted,
        expires_at=expires_at,
    )


def create_api_key(
    session: Session,
    *,
    actor: Actor,
    name: str,
    scopes: list[str] | str,
    expires_days: int | None = None,
    ip: str | None = None,
) -> CreatedAPIKey:
    """A new key for the actor's business (owners and admins); its secret is returned once."""
    actor.require(Permission.MEMBERS_MANAGE)
    return create_api_key_for_business(
        session,
        business_id=actor.business_id,
        name=name,
        scopes=scopes,
        expires_days=expires_days,
        created_by_user_id=actor.user_id,
        ip=ip,
    )


def list_api_keys(session: Session, *, actor: Actor) -> list[APIKeyView]:
    """The business's keys, newest first (owners and admins)."""
    actor.require(Permission.MEMBERS_MANAGE)
    return [_view(k) for k in repo.list_api_keys(session, business_id=actor.business_id)]


def revoke_api_key(
    session: Session, *, actor: Actor, key_id: int, ip: str | None = None
) -> APIKeyView:
    """Revoke a key at once; API calls with it get 401 from now on."""
    actor.require(Permission.MEMBERS_MANAGE)
    key = repo.get_api_key(session, business_id=actor.business_id, key_id=key_id)
    if key is None:
        raise SecurityError(f"No API key with id {key_id} in this business.", field="key")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.add(key)
        session.flush()
        record(
            session,
            business_id=actor.business_id,
            action="api_key.revoked",
            actor_user_id=actor.user_id,
            ip=ip,
            target_type="api_key",
            target_id=key.id,
            details={"name": key.name, "prefix": key.prefix},
        )
    return _view(key)


def authenticate_api_key(session: Session, *, token: str | None) -> APIClient:
    """The client behind a bearer token; InvalidAPIKey when unknown, revoked or expired."""
    token = (token or "").strip()
    if not token.startswith(KEY_PREFIX) or len(token) > 200:
        raise InvalidAPIKey("Send a valid API key as `Authorization: Bearer bb_…`.")
    key = repo.find_api_key_by_hash(session, key_hash=hash_token(token))
    now = utcnow()
    if key is None or key.revoked_at is not None:
        raise InvalidAPIKey("This API key is unknown or revoked.")
    if key.expires_at is not None and key.expires_at <= now:
        raise InvalidAPIKey("This API key has expired; create a new one on the Security page.")
    if key.last_used_at is None or now - key.last_used_at >= _USED_RESOLUTION:
        key.last_used_at = now
        session.add(key)
        session.flush()
    # The key acts in the business as the member who made it (its first owner for CLI keys, or
    # once that member left); what it may do is bounded by its scopes, checked by every route.
    user_id = repo.acting_user_id(
        session, business_id=key.business_id, preferred_user_id=key.created_by_user_id
    )
    if user_id is None:
        raise InvalidAPIKey("This API key's business has no owner; ask an owner for a new key.")
    actor = Actor(user_id=user_id, business_id=key.business_id, role=Role.ADMIN)
    return APIClient(
        key_id=key.id, business_id=key.business_id, scopes=frozenset(key.scopes or []), actor=actor
    )


def require_scope(client: APIClient, scope: str) -> None:
    """Raise ScopeDenied unless the key has `scope`."""
    if scope not in client.scopes:
        raise ScopeDenied(f"This API key lacks the {scope} scope; create a key that has it.")


# --- what the public API lists --------------------------------------------------------------


def list_contacts(
    session: Session, *, client: APIClient, limit: int = 50, offset: int = 0
) -> list[dict]:
    """The business's contacts, newest first (`contacts:read`)."""
    require_scope(client, "contacts:read")
    rows = repo.list_contacts(session, business_id=client.business_id, limit=limit, offset=offset)
    return [
        {
            "id": c.id,
            "name": c.name,
            "email": c.email,
            "phone": c.phone,
            "language": c.language,
            "created_at": c.created_at,
            "last_seen_at": c.last_seen_at,
        }
        for c in rows
    ]


def list_leads(session: Session, *, client: APIClient, limit: int = 50) -> list[dict]:
    """The business's leads, newest first (`leads:read`)."""
    require_scope(client, "leads:read")
    rows = leads_repo.list_leads(session, business_id=client.business_id, limit=limit)
    return [
        {
            "id": lead.id,
            "contact_id": lead.contact_id,
            "conversation_id": lead.conversation_id,
            "name": lead.name,
            "email": lead.email,
            "phone": lead.phone,
            "interest": lead.interest,
            "stage": lead.stage,
            "source": lead.source,
            "value_cents": lead.value_cents,
            "currency": lead.currency,
            "created_at": lead.created_at,
        }
        for lead in rows
    ]


def list_orders(
    session: Session, *, client: APIClient, limit: int = 50, offset: int = 0
) -> list[dict]:
    """The business's orders, newest first (`orders:read`)."""
    require_scope(client, "orders:read")
    rows = repo.list_orders(session, business_id=client.business_id, limit=limit, offset=offset)
    return [
        {
            "id": o.id,
            "number": o.number,
            "contact_id": o.contact_id,
            "conversation_id": o.conversation_id,
            "status": o.status,
            "currency": o.currency,
            "total_cents": o.total_cents,
            "created_at": o.created_at,
        }
        for o in rows
    ]
