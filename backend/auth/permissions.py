"""Who may do what: roles, their permissions, and the check every service calls."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from backend.models.tenants import Role


class Permission(StrEnum):
    """One thing a member may do in a business."""

    DASHBOARD_VIEW = "dashboard:view"
    ACCOUNT_MANAGE = "account:manage"
    CONVERSATIONS_READ = "conversations:read"
    CONVERSATIONS_REPLY = "conversations:reply"
    LEADS_READ = "leads:read"
    LEADS_MANAGE = "leads:manage"
    SALES_READ = "sales:read"
    SALES_MANAGE = "sales:manage"
    KNOWLEDGE_MANAGE = "knowledge:manage"
    AI_RULES_MANAGE = "ai_rules:manage"
    TEMPLATES_MANAGE = "templates:manage"
    INTEGRATIONS_MANAGE = "integrations:manage"
    ADS_MANAGE = "ads:manage"
    MEMBERS_MANAGE = "members:manage"
    BILLING_MANAGE = "billing:manage"
    BUSINESS_MANAGE = "business:manage"


_VIEWER = {
    Permission.DASHBOARD_VIEW,
    Permission.ACCOUNT_MANAGE,
    Permission.CONVERSATIONS_READ,
    Permission.LEADS_READ,
    Permission.SALES_READ,
}
_AGENT = _VIEWER | {Permission.CONVERSATIONS_REPLY, Permission.LEADS_MANAGE}
_ADMIN = _AGENT | {
    Permission.SALES_MANAGE,
    Permission.KNOWLEDGE_MANAGE,
    Permission.AI_RULES_MANAGE,
    Permission.TEMPLATES_MANAGE,
    Permission.INTEGRATIONS_MANAGE,
    Permission.ADS_MANAGE,
    Permission.MEMBERS_MANAGE,
}
_OWNER = set(Permission)

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(_OWNER),
    Role.ADMIN: frozenset(_ADMIN),
    Role.AGENT: frozenset(_AGENT),
    Role.VIEWER: frozenset(_VIEWER),
}

# What each dashboard section needs; the UI hides what the role lacks, services enforce it.
SECTION_PERMISSIONS: dict[str, Permission] = {
    "overview": Permission.DASHBOARD_VIEW,
    "conversations": Permission.CONVERSATIONS_READ,
    "handoff": Permission.CONVERSATIONS_READ,
    "knowledge": Permission.KNOWLEDGE_MANAGE,
    "ai-rules": Permission.AI_RULES_MANAGE,
    "templates": Permission.TEMPLATES_MANAGE,
    "integrations": Permission.INTEGRATIONS_MANAGE,
    "leads": Permission.LEADS_READ,
    "sales": Permission.SALES_READ,
    "billing": Permission.BILLING_MANAGE,
    "ads": Permission.ADS_MANAGE,
    "notifications": Permission.DASHBOARD_VIEW,
    "users": Permission.MEMBERS_MANAGE,
    "security": Permission.ACCOUNT_MANAGE,
    "settings": Permission.BUSINESS_MANAGE,
    "onboarding": Permission.BUSINESS_MANAGE,
}


class PermissionDenied(PermissionError):
    """The member's role does not allow this action."""

    def __init__(self, role: str, permission: Permission) -> None:
        super().__init__(
            f"Your role ({role}) does not allow {permission.value}; ask an owner of this "
            "business to change your role."
        )
        self.role = role
        self.permission = permission


@dataclass(frozen=True)
class Actor:
    """Who is acting, in which business, with which role: passed to every guarded service."""

    user_id: int
    business_id: int
    role: Role

    def can(self, permission: Permission) -> bool:
        """Whether this actor's role grants `permission`."""
        return permission in ROLE_PERMISSIONS[Role(self.role)]

    def require(self, permission: Permission) -> None:
        """Raise PermissionDenied unless this actor's role grants `permission`."""
        if not self.can(permission):
            raise PermissionDenied(str(self.role), permission)

    def can_open(self, section: str) -> bool:
        """Whether this actor may open the dashboard section `section`."""
        return self.can(SECTION_PERMISSIONS[section])
