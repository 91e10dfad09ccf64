"""Jobs of accounts: send the emailed links (password reset, verification, invitation).

The link's token is stored only as a hash, so the job gets the composed text rather than an id:
it lives in Redis for the few seconds until a worker sends it, like a login ticket.
"""

from __future__ import annotations

import logging
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import urlsplit

from backend.core.config import settings
from backend.core.db import session_scope
from backend.notifications import service as notifications

log = logging.getLogger(__name__)
# The job (and the link inside it) is deleted from Redis as soon as it succeeds.
JOB_OPTIONS = {"result_ttl": 0}


def compose_account_email(*, to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text account email from BizBot's sender address."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = notifications.sender_address()
    message["To"] = to
    message["Message-ID"] = make_msgid(domain=urlsplit(settings.public_url).hostname)
    message.set_content(body)
    return message


def send_account_email(to: str, subject: str, body: str, business_id: int | None = None) -> str:
    """Send one account email; "sent", or "logged" in development when SMTP_HOST is unset.

    With `business_id` (an invitation) it goes through that business's own SMTP server when it
    set one. Failures raise EmailFailed so RQ retries with backoff.
    """
    with session_scope() as session:
        server = notifications.smtp_server_for(session, business_id=business_id)
    if not settings.smtp_host and server is None and not settings.is_production:
        # Without SMTP a developer still needs the link: it goes to the worker's log.
        log.warning("SMTP_HOST is not set; this email to %s was not sent:\n%s", to, body)
        return "logged"
    notifications.send_email(
        compose_account_email(to=to, subject=subject, body=body), server=server
    )
    return "sent"
