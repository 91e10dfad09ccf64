"""The team: inviting members by emailed link, changing their roles and removing them.

A role change or removal ends the member's sessions in that business at once, so the new
role (or none) applies from their next click. Every change is in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from backend.auth import passwords, tasks
from backend.auth import repository as repo
from backend.auth.permissions import Actor, Permission
from backend.auth.schemas import LoginTicket
from backend.auth.service import AuthError, InvalidCredentials, normalize_email
from backend.billing import service as billing
from backend.core.config import settings
from backend.core.crypto import hash_token, new_token
from backend.core.queue import enqueue_after_commit
from backend.models.base import utcnow
from backend.models.tenants import Invitation, Role, User
from backend.security import service as security
from backend.tenants import repository as tenants_repo
from backend.tenants import service as tenants

INVITATION_DAYS = 7


class MemberError(AuthError):
    """A team change that cannot be made; the message says why and what to do."""


@dataclass(frozen=True)
class InvitationView:
    """An open invitation as the Users & Roles page lists it."""

    id: int
    email: str
    role: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class InvitationDetails:
    """What the invitation page shows before it is accepted."""

    business_name: str
    email: str
    role: str
    has_account: bool


def _role(value: str | Role) -> Role:
    try:
        return Role(str(value).strip().lower())
    except ValueError:
        raise MemberError(
            f"Unknown role {value!r}; choose owner, admin, agent or viewer.", field="role"
        ) from None


def _may_grant(actor: Actor, role: Role) -> None:
    actor.require(Permission.MEMBERS_MANAGE)
    if role == Role.OWNER and actor.role != Role.OWNER:
        raise MemberError("Only an owner can make someone an owner.", field="role")


def _view(row: Invitation) -> InvitationView:
    return InvitationView(id=row.id, email=row.email, role=row.role,
                          created_at=row.created_at, expires_at=row.expires_at)  # fmt: skip


def invite_member(
    session: Session, *, actor: Actor, email: str, role: str | Role, ip: str | None = None
) -> InvitationView:
    """Email an invitation link to join the actor's business with `role` (owners and admins;
    only owners invite owners). A new invitation to the same email replaces the old one."""
    role = _role(role)
    _may_grant(actor, role)
    email = normalize_email(email)
    existing = repo.find_user_by_login_email(session, email=email)
    if existing is not None and tenants_repo.get_membership(
        session, business_id=actor.business_id, user_id=existing.id
    ):
        raise MemberError(f"{email} is already a member of this business.", field="email")
    now = utcnow()
    for old in repo.list_open_invitations_for_email(
        session, business_id=actor.business_id, email=email
    ):
        old.revoked_at = now
        session.add(old)
    session.flush()  # the replaced invitation no longer counts against the plan
    try:
        billing.check_limit(session, business_id=actor.business_id, what="members")
    except billing.PlanLimitReached as reached:
        raise MemberError(str(reached), field="email") from None
    token = new_token()
    row = Invitation(
        business_id=actor.business_id,
        email=email,
        role=role,
        token_hash=hash_token(token),
        invited_by_user_id=actor.user_id,
        expires_at=now + timedelta(days=INVITATION_DAYS),
    )
    session.add(row)
    session.flush()
    business = tenants_repo.get_business(session, business_id=actor.business_id)
    inviter = repo.get_user(session, user_id=actor.user_id)
    body = "\n".join(
        [
            f"{inviter.name if inviter else 'A member'} invited you to join {business.name} "
            f"on BizBot as {role.value}.",
            "",
            f"Open this link to accept (it works once, for {INVITATION_DAYS} days):",
            "",
            f"{settings.public_url}/invite?token={token}",
            "",
            "If you did not expect this, you can ignore this email.",
        ]
    )
    subject = f"Join {business.name} on BizBot"
    enqueue_after_commit(
        session, tasks.send_account_email, email, subject, body, actor.business_id,
        **tasks.JOB_OPTIONS,
    )  # fmt: skip
    security.record(session, business_id=actor.business_id, action="member.invited",
                    actor_user_id=actor.user_id, ip=ip, target_type="invitation",
                    target_id=row.id, details={"email": email, "role": role.value})  # fmt: skip
    return _view(row)


def list_invitations(session: Session, *, actor: Actor) -> list[InvitationView]:
    """The business's open invitations (owners and admins)."""
    actor.require(Permission.MEMBERS_MANAGE)
    rows = repo.list_open_invitations(session, business_id=actor.business_id, now=utcnow())
    return [_view(r) for r in rows]


def revoke_invitation(
    session: Session, *, actor: Actor, invitation_id: int, ip: str | None = None
) -> None:
    """Withdraw an open invitation; its link stops working."""
    actor.require(Permission.MEMBERS_MANAGE)
    row = repo.get_invitation(session, business_id=actor.business_id, invitation_id=invitation_id)
    if row is None:
        raise MemberError(f"No invitation with id {invitation_id} in this business.")
    if row.revoked_at is None and row.accepted_at is None:
        row.revoked_at = utcnow()
        session.add(row)
        security.record(session, business_id=actor.business_id, action="member.invitation_revoked",
                        actor_user_id=actor.user_id, ip=ip, target_type="invitation",
                        target_id=row.id, details={"email": row.email})  # fmt: skip


def _open_invitation(session: Session, token: str) -> Invitation:
    row = repo.find_invitation_by_token_hash(session, token_hash=hash_token(token or ""))
    if row is None or row.revoked_at is not None:
        raise MemberError("This invitation link is not valid (it may have been withdrawn).")
    if row.accepted_at is not None:
        raise MemberError("This invitation was already accepted. Log in instead.")
    if row.expires_at <= utcnow():
        raise MemberError("This invitation has expired. Ask the business for a new one.")
    return row


def invitation_details(session: Session, *, token: str) -> InvitationDetails:
    """What an invitation link offers, or MemberError (unknown, withdrawn, used, expired)."""
    row = _open_invitation(session, token)
    business = tenants_repo.get_business(session, business_id=row.business_id)
    has_account = repo.find_user_by_login_email(session, email=row.email) is not None
    return InvitationDetails(business_name=business.name, email=row.email, role=row.role,
                             has_account=has_account)  # fmt: skip


def accept_invitation(
    session: Session, *, token: str, name: str, password: str, ip: str | None = None
) -> LoginTicket:
    """Join the business: a new account (name + new password) or, when the email already has
    one, its password. The email link proves the address, so the account counts as verified."""
    row = _open_invitation(session, token)
    user = repo.find_user_by_login_email(session, email=row.email)
    now = utcnow()
    if user is None:
        if not (name or "").strip():
            raise MemberError("Enter your name.", field="name")
        problem = passwords.password_problem(password, user_inputs=[row.email, name])
        if problem:
            raise MemberError(problem, field="password")
        user = User(
            email=row.email,
            name=name.strip()[:120],
            password_hash=passwords.hash_password(password),
            email_verified_at=now,
        )
        session.add(user)
        session.flush()
    else:
        if not user.is_active or not passwords.verify_password(password, user.password_hash):
            raise InvalidCredentials()
        user.email_verified_at = user.email_verified_at or now
        session.add(user)
    if tenants_repo.get_membership(session, business_id=row.business_id, user_id=user.id) is None:
        tenants.add_member(session, business_id=row.business_id, user_id=user.id, role=row.role)
    row.accepted_at = now
    session.add(row)
    security.record(session, business_id=row.business_id, action="member.joined",
                    actor_user_id=user.id, ip=ip, target_type="user", target_id=user.id,
                    details={"email": user.email, "role": row.role})  # fmt: skip
    return LoginTicket(user_id=user.id, business_id=row.business_id)


def _end_member_sessions(session: Session, *, business_id: int, user_id: int) -> int:
    now = utcnow()
    rows = repo.list_live_sessions_of_member(
        session, business_id=business_id, user_id=user_id, now=now
    )
    for row in rows:
        row.revoked_at = now
        session.add(row)
    session.flush()
    return len(rows)


def _guard_change(session: Session, *, actor: Actor, user_id: int):
    actor.require(Permission.MEMBERS_MANAGE)
    membership = tenants_repo.get_membership(
        session, business_id=actor.business_id, user_id=user_id
    )
    if membership is None:
        raise MemberError(f"No member with user id {user_id} in this business.")
    if Role(membership.role) == Role.OWNER and actor.role != Role.OWNER:
        raise MemberError("Only an owner can change or remove an owner.")
    return membership


def change_role(
    session: Session, *, actor: Actor, user_id: int, role: str | Role, ip: str | None = None
) -> int:
    """Give a member another role; their sessions in this business end so it applies at once.
    Returns how many sessions ended. The last owner cannot step down."""
    role = _role(role)
    _may_grant(actor, role)
    membership = _guard_change(session, actor=actor, user_id=user_id)
    old = Role(membership.role)
    if old == role:
        return 0
    if old == Role.OWNER and repo.count_owners(session, business_id=actor.business_id) <= 1:
        raise MemberError("A business needs an owner: make someone else owner first.", field="role")
    membership.role = role
    session.add(membership)
    ended = _end_member_sessions(session, business_id=actor.business_id, user_id=user_id)
    security.record(session, business_id=actor.business_id, action="member.role_changed",
                    actor_user_id=actor.user_id, ip=ip, target_type="user", target_id=user_id,
                    details={"from": old.value, "to": role.value,
                             "sessions_ended": ended})  # fmt: skip
    return ended


def remove_member(session: Session, *, actor: Actor, user_id: int, ip: str | None = None) -> int:
    """Remove a member from the business and end their sessions in it; returns how many."""
    membership = _guard_change(session, actor=actor, user_id=user_id)
    if (
        Role(membership.role) == Role.OWNER
        and repo.count_owners(session, business_id=actor.business_id) <= 1
    ):
        raise MemberError("A business needs an owner: make someone else owner first.")
    user = repo.get_user(session, user_id=user_id)
    ended = _end_member_sessions(session, business_id=actor.business_id, user_id=user_id)
    repo.delete_membership(session, membership)
    security.record(session, business_id=actor.business_id, action="member.removed",
                    actor_user_id=actor.user_id, ip=ip, target_type="user", target_id=user_id,
                    details={"email": user.email if user else None, "role": membership.role,
                             "sessions_ended": ended})  # fmt: skip
    return ended
