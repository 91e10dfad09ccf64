"""The danger zone: delete a business and everything it owns.

Every tenant-owned row goes by the database's ON DELETE CASCADE on `business_id`, which also
ends every session of the business. People keep their user accounts (they may belong to other
businesses, and can be invited again); files go by a job after the commit. Queued jobs of the
business are left to find their rows gone (jobs take ids and skip what no longer exists).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlmodel import Session

from backend.auth import tasks as account_tasks
from backend.auth.passwords import verify_password
from backend.auth.permissions import Actor, Permission
from backend.core.queue import enqueue_after_commit
from backend.core.ratelimit import RateLimited, hit
from backend.security import two_factor
from backend.tenants import repository as repo
from backend.tenants.service import BusinessError
from backend.tenants.tasks import remove_business_files

log = logging.getLogger(__name__)
DELETE_ATTEMPTS = "5/15 minutes"


@dataclass(frozen=True)
class DeletedBusiness:
    """What was deleted, for the page that says so."""

    business_id: int
    name: str
    owner_email: str


def delete_business(
    session: Session,
    *,
    actor: Actor,
    confirm_name: str,
    password: str,
    code: str = "",
    ip: str | None = None,
) -> DeletedBusiness:
    """Delete the actor's business (owners only) once they typed its name exactly and their
    password (and their 2FA code when they use one); BusinessError's field names the input."""
    actor.require(Permission.BUSINESS_MANAGE)  # owners only
    business = repo.get_business(session, business_id=actor.business_id)
    user = repo.get_user(session, user_id=actor.user_id)
    if business is None or user is None:
        raise BusinessError("This business no longer exists.", field="form")
    if confirm_name.strip() != business.name:
        raise BusinessError(
            f"Type the business's name exactly as shown ({business.name}) to confirm.",
            field="confirm_name",
        )
    try:
        # Confirming with a password must not become a way to guess it from a stolen session.
        hit(DELETE_ATTEMPTS, "business-delete", str(user.id))
    except RateLimited as exc:
        raise BusinessError(
            f"Too many attempts; wait {max(1, exc.retry_after // 60)} minutes and try again.",
            field="password",
        ) from None
    if not password or not verify_password(password, user.password_hash):
        raise BusinessError("That is not your current password; type it again.", field="password")
    if two_factor.is_enabled(session, user_id=user.id):
        if not code.strip():
            raise BusinessError(
                "Enter the 6-digit code from your authenticator app (or a recovery code).",
                field="code",
            )
        try:
            two_factor.verify(session, user_id=user.id, code=code)
        except two_factor.TwoFactorError as exc:
            raise BusinessError(exc.message, field="code") from exc
    deleted = DeletedBusiness(business_id=business.id, name=business.name, owner_email=user.email)
    repo.delete_business(session, business_id=business.id)
    # The audit log goes with the business, so the record of the deletion is the server log.
    log.warning(
        "business %s (%r, demo=%s) deleted by user %s from %s",
        deleted.business_id, deleted.name, business.is_demo, user.id, ip or "unknown",
    )  # fmt: skip
    enqueue_after_commit(session, remove_business_files, deleted.business_id)
    enqueue_after_commit(
        session,
        account_tasks.send_account_email,
        deleted.owner_email,
        f"{deleted.name} was deleted from BizBot",
        "\n".join([
            f"You deleted the business {deleted.name} and everything it stored on BizBot: "
            "conversations, contacts, knowledge, orders, channels and files.",
            "",
            "Your own account stays: you can accept invitations to other businesses, or sign "
            "up again with this email and password to start a new one.",
            "",
            "If you did not do this, reply to this email at once.",
        ]),
        **account_tasks.JOB_OPTIONS,
    )  # fmt: skip
    return deleted
