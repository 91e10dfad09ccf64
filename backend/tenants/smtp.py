"""A business's own SMTP server, as the email sender reads it (no other imports of ours, so
notifications can use it without a cycle)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from backend.core.crypto import decrypt
from backend.tenants import repository as repo

SECURITY_MODES = ("starttls", "ssl", "none")


@dataclass(frozen=True)
class SmtpServer:
    """Where and how to hand over a business's emails."""

    host: str
    port: int
    username: str
    password: str
    security: str  # starttls | ssl | none
    from_address: str  # "" keeps the From of the .env settings


def business_smtp(session: Session, *, business_id: int) -> SmtpServer | None:
    """The business's own SMTP server, None when it uses the `.env` defaults; raises
    DecryptionError when its stored password cannot be read."""
    business = repo.get_business(session, business_id=business_id)
    if business is None or not business.smtp_host:
        return None
    return SmtpServer(
        host=business.smtp_host,
        port=business.smtp_port or 587,
        username=business.smtp_username or "",
        password=decrypt(business.smtp_password_encrypted)
        if business.smtp_password_encrypted
        else "",
        security=business.smtp_security or "starttls",
        from_address=business.smtp_from or "",
    )
