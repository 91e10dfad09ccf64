"""The Settings page's email section: the business's own SMTP server and a test email."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from sqlmodel import Session

from backend.auth.permissions import Actor, Permission
from backend.core.config import settings
from backend.core.crypto import encrypt
from backend.notifications import service as notifications
from backend.security import service as audit
from backend.tenants import repository as repo
from backend.tenants.service import BusinessError
from backend.tenants.smtp import SECURITY_MODES, SmtpServer

_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,252}[A-Za-z0-9])?$")


@dataclass(frozen=True)
class EmailSettingsView:
    """The business's SMTP override as the page shows it: never the password itself."""

    host: str  # "" when the business uses the server of the .env settings
    port: int
    username: str
    password_set: bool
    from_address: str
    security: str
    default_server: str  # the .env server ("smtp.example.com:587") or "" when none is set


def _view(business) -> EmailSettingsView:
    return EmailSettingsView(
        host=business.smtp_host or "",
        port=business.smtp_port or 587,
        username=business.smtp_username or "",
        password_set=bool(business.smtp_password_encrypted),
        from_address=business.smtp_from or "",
        security=business.smtp_security or "starttls",
        default_server=f"{settings.smtp_host}:{settings.smtp_port}" if settings.smtp_host else "",
    )


def _business(session: Session, actor: Actor):
    actor.require(Permission.BUSINESS_MANAGE)
    business = repo.get_business(session, business_id=actor.business_id)
    if business is None:
        raise BusinessError("This business no longer exists.")
    return business


def get_email_settings(session: Session, *, actor: Actor) -> EmailSettingsView:
    """The business's own SMTP server, if it set one (owners only)."""
    return _view(_business(session, actor))


def _port(value: int | str) -> int:
    try:
        port = int(str(value).strip())
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise BusinessError(
            f"Port {value!r} is not a port number; use 587 (STARTTLS), 465 (SSL) or 25.",
            field="smtp_port",
        )
    return port


def _from(value: str) -> str:
    value = value.strip()
    if not value:
        return ""
    _, address = parseaddr(value)
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        raise BusinessError(
            f"{value!r} is not an email address; write it as hello@example.com or "
            "Shop Name <hello@example.com>.",
            field="smtp_from",
        ) from None
    return value[:254]


def save_email_settings(
    session: Session,
    *,
    actor: Actor,
    host: str,
    port: int | str,
    username: str,
    password: str | None,
    from_address: str,
    security: str,
    ip: str | None = None,
) -> EmailSettingsView:
    """Set the business's SMTP server (an empty host goes back to the .env server). The
    password is stored encrypted; None or "" keeps the stored one for the same host (a new
    host without a password has none)."""
    business = _business(session, actor)
    host = host.strip().lower()
    if not host:
        business.smtp_host = business.smtp_port = business.smtp_username = None
        business.smtp_password_encrypted = business.smtp_from = business.smtp_security = None
        session.add(business)
        session.flush()
        audit.record(session, business_id=business.id, action="business.smtp_cleared",
                     actor_user_id=actor.user_id or None, ip=ip, target_type="business",
                     target_id=business.id)  # fmt: skip
        return _view(business)
    if not _HOST.match(host) or ".." in host:
        raise BusinessError(
            f"{host!r} is not a server name; write the host alone, such as smtp.example.com "
            "(no smtp:// and no port).",
            field="smtp_host",
        )
    if security not in SECURITY_MODES:
        raise BusinessError("Security is STARTTLS, SSL or none; pick one.", field="smtp_security")
    # Every field is checked before any is changed: a bad one stores nothing.
    clean_port, clean_from = _port(port), _from(from_address)
    if password:
        business.smtp_password_encrypted = encrypt(password)
    elif business.smtp_host != host:
        # The stored password was given for the old server: never hand it to a new one.
        business.smtp_password_encrypted = None
    business.smtp_host, business.smtp_port = host, clean_port
    business.smtp_username = username.strip()[:254] or None
    business.smtp_from, business.smtp_security = clean_from or None, security
    session.add(business)
    session.flush()
    audit.record(session, business_id=business.id, action="business.smtp_changed",
                 actor_user_id=actor.user_id or None, ip=ip, target_type="business",
                 target_id=business.id,
                 details={"host": host, "port": business.smtp_port})  # fmt: skip
    return _view(business)


def compose_test_email(session: Session, *, actor: Actor) -> tuple[EmailMessage, SmtpServer | None]:
    """The test email to the owner's own address and the server it goes through (send them
    with `send_test_email`, outside the transaction)."""
    business = _business(session, actor)
    owner = repo.get_user(session, user_id=actor.user_id)
    message = EmailMessage()
    message["Subject"] = f"[{business.name}] Test email from BizBot"
    message["From"] = notifications.sender_address()
    message["To"] = owner.email
    message["Message-ID"] = make_msgid(domain=urlsplit(settings.public_url).hostname)
    server = f"{business.smtp_host}:{business.smtp_port}" if business.smtp_host else "the default"
    message.set_content(
        f"This is a test from the Settings page of {business.name}.\n\n"
        f"It went through {server} SMTP server, so the business's emails will too."
    )
    return message, notifications.smtp_server_for(session, business_id=business.id)


def send_test_email(message: EmailMessage, *, server: SmtpServer | None) -> str:
    """Send the test email (outside any transaction: the SMTP server may be slow); what to tell
    the owner. Raises EmailFailed with the server's words when it did not go."""
    notifications.send_email(message, server=server)
    return f"Test email sent to {message['To']}. Check that inbox (and its spam folder)."
