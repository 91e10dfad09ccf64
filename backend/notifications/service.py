"""Notifications: who is told what, in the app (the bell, live) and by email.

Other domains call `notify` (or `notify_roles`) when something happens; each member gets their
own row, shaped by their preferences. A row that asks for email is sent by a job after the
transaction commits, so a slow SMTP server never holds up the step that raised it.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session

from backend import events
from backend.auth.permissions import Actor, Permission
from backend.core.config import settings
from backend.core.crypto import DecryptionError
from backend.core.queue import enqueue_after_commit
from backend.models.base import utcnow
from backend.models.notifications import Notification, NotificationKind
from backend.notifications import repository as repo
from backend.notifications.schemas import (
    KIND_FILTERS,
    KINDS,
    EmailFailed,
    KindCount,
    NotificationError,
    NotificationPage,
    NotificationView,
    PreferencesView,
    PreferenceView,
)
from backend.tenants import repository as tenants_repo
from backend.tenants.smtp import SmtpServer, business_smtp

__all__ = [
    "KINDS",
    "REPLY_ROLES",
    "EmailFailed",
    "NotificationError",
    "email_available",
    "get_preferences",
    "kind_counts",
    "list_notifications",
    "mark_all_read",
    "mark_read",
    "notify",
    "notify_new_lead",
    "notify_payment_received",
    "notify_roles",
    "send_email",
    "set_preference",
    "smtp_server_for",
    "unread_count",
]

SEND_EMAIL = "backend.notifications.tasks.send_email"
# Members who can answer customers: handoff and SLA notifications go to them.
REPLY_ROLES = ("owner", "admin", "agent")
MAX_PAGE = 100
_NO_SMTP = (
    "Email needs an SMTP server: set your business's own on the Settings page, or SMTP_HOST "
    "(and SMTP_USERNAME, SMTP_PASSWORD) in .env."
)


def email_available(session: Session | None = None, *, business_id: int | None = None) -> bool:
    """Whether email can be sent (SMTP_HOST is set, or the business set its own SMTP server)."""
    if settings.smtp_host or session is None or business_id is None:
        return bool(settings.smtp_host)
    business = tenants_repo.get_business(session, business_id=business_id)
    return bool(business and business.smtp_host)


def _choices(
    session: Session, *, business_id: int, user_ids: list[int], kind: str
) -> dict[int, tuple[bool, bool]]:
    info = KINDS[kind]
    chosen = dict.fromkeys(user_ids, (info.in_app, info.email))
    for pref in repo.preferences(session, business_id=business_id, user_ids=user_ids, kind=kind):
        chosen[pref.user_id] = (pref.in_app, pref.email)
    return chosen


def notify(
    session: Session,
    *,
    business_id: int,
    kind: str,
    user_ids: Iterable[int],
    title: str,
    body: str | None = None,
    link: str | None = None,
    data: dict[str, Any] | None = None,
    dedup_key: str | None = None,
) -> list[int]:
    """Notify these members of the business as each prefers; the ids of the rows created.

    People outside the business are skipped. With `dedup_key`, a member is notified once per
    key however often this is called (jobs that run twice notify once).
    """
    if kind not in KINDS:
        raise NotificationError(
            f"Unknown notification kind {kind!r}; use one of {', '.join(KINDS)}.", field="kind"
        )
    recipients = [
        row[0] for row in repo.members(session, business_id=business_id, user_ids=set(user_ids))
    ]
    if not recipients:
        return []
    chosen = _choices(session, business_id=business_id, user_ids=recipients, kind=kind)
    can_email = email_available(session, business_id=business_id)
    created: list[int] = []
    for user_id in recipients:
        in_app, email = chosen[user_id]
        if not (in_app or email):
            continue
        notification_id = repo.insert_notification(
            session,
            business_id=business_id,
            user_id=user_id,
            kind=kind,
            title=title[:200],
            body=body,
            link=link,
            data=data or {},
            dedup_key=dedup_key,
            in_app=in_app,
            email_requested=email,
            email_error=None if not email or can_email else _NO_SMTP,
        )
        if notification_id is None:
            continue
        created.append(notification_id)
        if email and can_email:
            enqueue_after_commit(session, SEND_EMAIL, notification_id, queue="default")
        if in_app:
            events.publish(
                session,
                "notification.created",
                business_id=business_id,
                user_id=user_id,
                notification_id=notification_id,
                kind=kind,
            )
    return created


def notify_roles(
    session: Session,
    *,
    business_id: int,
    kind: str,
    roles: Iterable[str] = REPLY_ROLES,
    title: str,
    body: str | None = None,
    link: str | None = None,
    data: dict[str, Any] | None = None,
    dedup_key: str | None = None,
) -> list[int]:
    """Notify every active member with one of `roles` (see `notify`)."""
    user_ids = [row[0] for row in repo.members(session, business_id=business_id, roles=list(roles))]
    return notify(
        session,
        business_id=business_id,
        kind=kind,
        user_ids=user_ids,
        title=title,
        body=body,
        link=link,
        data=data,
        dedup_key=dedup_key,
    )


def notify_new_lead(
    session: Session, *, business_id: int, lead_id: int, name: str | None, interest: str | None
) -> list[int]:
    """Tell the team that a lead was captured (once per lead)."""
    who = name or "Someone"
    return notify_roles(
        session,
        business_id=business_id,
        kind=NotificationKind.NEW_LEAD,
        title=f"New lead: {who}"[:200],
        body=(interest or "")[:500] or None,
        link=f"/leads?lead={lead_id}",
        data={"lead_id": lead_id},
        dedup_key=f"lead:{lead_id}",
    )


def notify_payment_received(
    session: Session, *, business_id: int, payment_id: int, amount: str, payer: str | None = None
) -> list[int]:
    """Tell owners and admins that a payment arrived (once per payment); for the payments
    domain to call when it confirms one."""
    who = f" from {payer}" if payer else ""
    return notify_roles(
        session,
        business_id=business_id,
        kind=NotificationKind.PAYMENT_RECEIVED,
        roles=("owner", "admin"),
        title=f"Payment received: {amount}{who}"[:200],
        link=f"/sales?payment={payment_id}",
        data={"payment_id": payment_id},
        dedup_key=f"payment:{payment_id}",
    )


# --- the bell -------------------------------------------------------------------------------


def _view(row: Notification) -> NotificationView:
    return NotificationView(
        id=row.id,
        kind=row.kind,
        title=row.title,
        body=row.body,
        link=row.link,
        data=dict(row.data or {}),
        created_at=row.created_at,
        read=row.read_at is not None,
    )


def _kinds_of(kind: str | None) -> tuple[str, ...] | None:
    if not kind:
        return None
    if kind not in KIND_FILTERS:
        raise NotificationError(
            f"Unknown kind filter {kind!r}; use one of {', '.join(KIND_FILTERS)}, or none for all.",
            field="kind",
        )
    return KIND_FILTERS[kind].kinds


def _day_bounds(
    session: Session, *, actor: Actor, start: date | None, end: date | None
) -> tuple[datetime | None, datetime | None]:
    """[start, end] as days of the business's time zone, as timestamps [since, until)."""
    if start and end and end < start:
        raise NotificationError("The end date is before the start date; swap them.", field="end")
    zone = tenants_repo.business_zone(session, business_id=actor.business_id)
    since = datetime.combine(start, time(), zone) if start else None
    until = datetime.combine(end + timedelta(days=1), time(), zone) if end else None
    return since, until


def list_notifications(
    session: Session,
    *,
    actor: Actor,
    unread_only: bool = False,
    before_id: int | None = None,
    limit: int = 20,
    kind: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> NotificationPage:
    """The actor's notifications, newest first, `limit` at a time (pass `next_before_id` on);
    optionally of one kind filter (`KIND_FILTERS`) and created from `start` to `end` inclusive
    (days of the business's time zone)."""
    actor.require(Permission.DASHBOARD_VIEW)
    if not 1 <= limit <= MAX_PAGE:
        raise NotificationError(f"limit must be from 1 to {MAX_PAGE}.", field="limit")
    kinds = _kinds_of(kind)
    since, until = _day_bounds(session, actor=actor, start=start, end=end)
    rows = repo.list_notifications(
        session,
        business_id=actor.business_id,
        user_id=actor.user_id,
        unread_only=unread_only,
        before_id=before_id,
        limit=limit + 1,
        kinds=kinds,
        since=since,
        until=until,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return NotificationPage(
        items=[_view(row) for row in rows],
        unread_count=unread_count(session, actor=actor),
        next_before_id=rows[-1].id if more else None,
    )


def kind_counts(
    session: Session, *, actor: Actor, start: date | None = None, end: date | None = None
) -> list[KindCount]:
    """How many of the actor's notifications (from `start` to `end`) each kind filter has,
    all and unread, in the page's order (kinds with none included, at 0)."""
    actor.require(Permission.DASHBOARD_VIEW)
    since, until = _day_bounds(session, actor=actor, start=start, end=end)
    per_kind = repo.count_by_kind(
        session, business_id=actor.business_id, user_id=actor.user_id, since=since, until=until
    )
    return [
        KindCount(
            key=f.key,
            label=f.label,
            count=sum(per_kind.get(k, (0, 0))[0] for k in f.kinds),
            unread=sum(per_kind.get(k, (0, 0))[1] for k in f.kinds),
        )
        for f in KIND_FILTERS.values()
    ]


def unread_count(session: Session, *, actor: Actor) -> int:
    """How many of the actor's notifications are unread (the bell's badge)."""
    actor.require(Permission.DASHBOARD_VIEW)
    return repo.count_unread(session, business_id=actor.business_id, user_id=actor.user_id)


def _mark(
    session: Session, *, actor: Actor, notification_ids: list[int] | None, now: datetime | None
) -> int:
    changed = repo.mark_read(
        session,
        business_id=actor.business_id,
        user_id=actor.user_id,
        notification_ids=notification_ids,
        now=now or utcnow(),
    )
    if changed:
        events.publish(
            session,
            "notification.read",
            business_id=actor.business_id,
            user_id=actor.user_id,
            notification_ids=changed,
        )
    return len(changed)


def mark_read(
    session: Session, *, actor: Actor, notification_ids: list[int], now: datetime | None = None
) -> int:
    """Mark some of the actor's notifications read; how many changed (others' ids: none)."""
    actor.require(Permission.DASHBOARD_VIEW)
    ids = [int(i) for i in notification_ids]
    if not ids:
        return 0
    return _mark(session, actor=actor, notification_ids=ids, now=now)


def mark_all_read(session: Session, *, actor: Actor, now: datetime | None = None) -> int:
    """Mark every notification of the actor read; how many changed."""
    actor.require(Permission.DASHBOARD_VIEW)
    return _mark(session, actor=actor, notification_ids=None, now=now)


# --- preferences ----------------------------------------------------------------------------


def get_preferences(session: Session, *, actor: Actor) -> PreferencesView:
    """What the actor receives for each kind of notification."""
    actor.require(Permission.DASHBOARD_VIEW)
    stored = {
        pref.kind: pref
        for pref in repo.preferences(
            session, business_id=actor.business_id, user_ids=[actor.user_id]
        )
    }
    items = []
    for kind, info in KINDS.items():
        pref = stored.get(kind)
        items.append(
            PreferenceView(
                kind=kind,
                label=info.label,
                description=info.description,
                in_app=pref.in_app if pref else info.in_app,
                email=pref.email if pref else info.email,
            )
        )
    member = repo.members(session, business_id=actor.business_id, user_ids=[actor.user_id])
    available = email_available(session, business_id=actor.business_id)
    return PreferencesView(
        items=items,
        email_address=member[0][2] if member else "",
        email_available=available,
        email_unavailable_reason=None if available else _NO_SMTP,
    )


def set_preference(
    session: Session, *, actor: Actor, kind: str, in_app: bool, email: bool
) -> PreferenceView:
    """Choose whether the actor gets `kind` in the app and/or by email."""
    actor.require(Permission.DASHBOARD_VIEW)
    if kind not in KINDS:
        raise NotificationError(
            f"Unknown notification kind {kind!r}; use one of {', '.join(KINDS)}.", field="kind"
        )
    if not isinstance(in_app, bool) or not isinstance(email, bool):
        raise NotificationError("in_app and email must be true or false.", field="in_app")
    repo.save_preference(
        session,
        business_id=actor.business_id,
        user_id=actor.user_id,
        kind=kind,
        in_app=in_app,
        email=email,
    )
    events.publish(
        session,
        "notification.preferences_changed",
        business_id=actor.business_id,
        user_id=actor.user_id,
        kind=kind,
    )
    info = KINDS[kind]
    return PreferenceView(
        kind=kind, label=info.label, description=info.description, in_app=in_app, email=email
    )


# --- email ----------------------------------------------------------------------------------


def sender_address() -> str:
    """The From of notification emails: SMTP_FROM, else bizbot@ the PUBLIC_URL's host."""
    if settings.smtp_from:
        return settings.smtp_from
    host = urlsplit(settings.public_url).hostname or "localhost"
    return f"BizBot <bizbot@{host}>"


def compose_email(
    *, to: str, business_name: str, title: str, body: str | None, link: str | None
) -> EmailMessage:
    """The email of one notification: the title as subject, the body and a link to open it."""
    message = EmailMessage()
    message["Subject"] = f"[{business_name}] {title}" if business_name else title
    message["From"] = sender_address()
    message["To"] = to
    message["Message-ID"] = make_msgid(domain=urlsplit(settings.public_url).hostname)
    lines = [title]
    if body:
        lines += ["", body]
    if link:
        lines += ["", f"Open: {settings.public_url}{link}"]
    lines += ["", "You get this email because of your notification settings in BizBot."]
    message.set_content("\n".join(lines))
    return message


def smtp_server_for(session: Session, *, business_id: int | None) -> SmtpServer | None:
    """The SMTP server the business set on its Settings page, None for the `.env` default;
    EmailFailed when its stored password cannot be read."""
    if business_id is None:
        return None
    try:
        return business_smtp(session, business_id=business_id)
    except DecryptionError as exc:
        raise EmailFailed(f"The business's SMTP password: {exc}") from exc


def send_email(message: EmailMessage, *, server: SmtpServer | None = None) -> None:
    """Hand one email to `server` (a business's own, from `smtp_server_for`), or to the SMTP
    server of the settings; EmailFailed says why it did not. Call it outside any transaction:
    an SMTP server may be slow."""
    own = server
    if own is None and not settings.smtp_host:
        raise EmailFailed(_NO_SMTP)
    host, port, timeout = settings.smtp_host, settings.smtp_port, settings.smtp_timeout
    security, username, password = (
        settings.smtp_security, settings.smtp_username, settings.smtp_password
    )  # fmt: skip
    if own is not None:
        host, port, security, username, password = (
            own.host, own.port, own.security, own.username, own.password
        )  # fmt: skip
        if own.from_address:
            del message["From"]
            message["From"] = own.from_address
    try:
        if security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                host, port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(host, port, timeout=timeout)
        with client:
            if security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if username:
                client.login(username, password or "")
            client.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        raise EmailFailed(
            f"The SMTP server {host}:{port} did not take the email: {_reason(exc)}"
        ) from exc


def _reason(exc: Exception) -> str:
    """An SMTP failure in the server's words ("550 mailbox unavailable") where it gave some."""
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        return f"{exc.smtp_code} {text}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{who}: {_reason(smtplib.SMTPResponseException(code, msg))}"
            for who, (code, msg) in exc.recipients.items()
        )
    return f"{type(exc).__name__}: {exc}"
