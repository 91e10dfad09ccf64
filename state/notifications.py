"""The notifications bell (every dashboard page) and the /notifications page, both live."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import reflex as rx

from backend.auth.permissions import Actor, PermissionDenied
from backend.core.db import session_scope
from backend.notifications import service as notifications
from backend.notifications.schemas import (
    KINDS,
    KindCount,
    NotificationError,
    NotificationPage,
    NotificationView,
    PreferencesView,
)
from state.base import BaseState
from state.live import LiveBatch, SharedReads, live_consumer

BELL_SIZE = 8
PAGE_SIZE = 30
# Every NotificationKind has one; components.notifications.kind_icon draws each of these.
KIND_ICONS = {
    "new_handoff": "hand-helping",
    "assigned_to_me": "user-check",
    "sla_about_to_breach": "alarm-clock",
    "sla_breached": "siren",
    "new_lead": "target",
    "payment_received": "banknote",
    "lead_follow_up": "calendar-clock",
    "webhook_disabled": "webhook-off",
    "billing": "credit-card",
    "template_status": "file-text",
    "setup_complete": "party-popper",
}


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def relative_time(when: datetime | float, now: datetime | None = None) -> str:
    """`when` as people say it: just now, 5 min ago, 3 h ago, yesterday, 12 Mar."""
    if isinstance(when, int | float):
        when = datetime.fromtimestamp(when, UTC)
    when = _aware(when)
    now = now or datetime.now(UTC)
    seconds = (now - when).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    if seconds < 2 * 86400:
        return "yesterday"
    day = f"{when.day} {when:%b}"
    return day if when.year == now.year else f"{day} {when.year}"


def utc_label(when: datetime) -> str:
    """`when` in full, for a tooltip."""
    return _aware(when).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True)
class NotificationItem:
    """One notification as the bell and the page show it."""

    id: int
    kind: str
    kind_label: str
    icon: str
    title: str
    body: str
    link: str
    read: bool
    created_ts: float
    when: str  # "5 min ago"
    when_full: str


@dataclass(frozen=True)
class PreferenceItem:
    """One kind of notification and how the member gets it."""

    kind: str
    label: str
    description: str
    in_app: bool
    email: bool


def notification_item(view: NotificationView) -> NotificationItem:
    """A notification as the bell shows it."""
    info = KINDS.get(view.kind)
    created = _aware(view.created_at)
    return NotificationItem(
        id=view.id,
        kind=view.kind,
        kind_label=info.label if info else view.kind.replace("_", " ").capitalize(),
        icon=KIND_ICONS.get(view.kind, "bell"),
        title=view.title,
        body=view.body or "",
        link=view.link or "",
        read=view.read,
        created_ts=created.timestamp(),
        when=relative_time(created),
        when_full=utc_label(created),
    )


def _retimed(items: list[NotificationItem]) -> list[NotificationItem]:
    now = datetime.now(UTC)
    return [dataclasses.replace(i, when=relative_time(i.created_ts, now)) for i in items]


def _bell_page(actor: Actor) -> NotificationPage:
    with session_scope() as session:
        return notifications.list_notifications(session, actor=actor, limit=BELL_SIZE)


def _read_bell(actor: Actor, _request: int, shared: SharedReads) -> NotificationPage:
    # A member's tabs share one read per batch.
    return shared.get(("bell", actor.user_id), lambda: _bell_page(actor))


@live_consumer(read=_read_bell, events=("notification.",))
class BellState(BaseState):
    """The bell in the header: unread count and the latest few notifications."""

    unread: int = 0
    latest: list[NotificationItem] = []
    bell_open: bool = False
    _bell_version: int = 0

    @rx.var
    def unread_label(self) -> str:
        """The badge: the count, 99+ beyond that."""
        return "99+" if self.unread > 99 else str(self.unread)

    def _show(self, page: NotificationPage) -> None:
        latest = [notification_item(v) for v in page.items]
        if (self.unread, self.latest) != (page.unread_count, latest):
            self.unread, self.latest = page.unread_count, latest

    def _live_request(self, batch: LiveBatch, actor: Actor) -> int | None:
        if batch.tick:
            if (latest := _retimed(self.latest)) != self.latest:
                self.latest = latest
            return None
        if batch.resync or batch.for_user(actor.user_id, "notification."):
            return self._bell_version
        return None

    def _live_apply(self, request: int, result: NotificationPage) -> None:
        if request == self._bell_version:
            self._show(result)

    def _refresh(self, actor: Actor) -> None:
        self._bell_version += 1
        self._show(_bell_page(actor))

    @rx.event
    def set_bell_open(self, is_open: bool):
        """Open or close the dropdown; opening re-reads the latest."""
        self.bell_open = is_open
        if is_open:
            actor = self.current_actor()
            if actor is None:
                return self._login_redirect()
            self._refresh(actor)
        return None

    @rx.event
    def mark_all_read(self):
        """Mark every notification read."""
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        with session_scope() as session:
            changed = notifications.mark_all_read(session, actor=actor)
        self._refresh(actor)
        return rx.toast.success("All caught up." if changed else "Nothing unread.", duration=2000)

    @rx.event
    def open_notification(self, notification_id: int, link: str):
        """Mark one notification read and go where it points."""
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        with session_scope() as session:
            notifications.mark_read(session, actor=actor, notification_ids=[notification_id])
        self._refresh(actor)
        self.bell_open = False
        return rx.redirect(link) if link else None


@dataclass(frozen=True)
class _Filters:
    """What the page is filtered by (its kind filter key, its dates) besides unread-only."""

    kind: str = ""
    start: date | None = None
    end: date | None = None


@dataclass(frozen=True)
class _Page:
    items: list[NotificationItem]
    unread: int
    next_before_id: int | None
    chips: list[KindCount] | None = None


def _read_page(
    actor: Actor,
    request: tuple[int, bool, int, _Filters],
    shared: SharedReads | None = None,
) -> tuple[_Page, PreferencesView | None]:
    _version, unread_only, count, filters = request
    with session_scope() as session:
        page = notifications.list_notifications(
            session, actor=actor, unread_only=unread_only, limit=max(1, min(count, 100)),
            kind=filters.kind or None, start=filters.start, end=filters.end,
        )  # fmt: skip
        counts = notifications.kind_counts(
            session, actor=actor, start=filters.start, end=filters.end
        )
        prefs = notifications.get_preferences(session, actor=actor)
    return (
        _Page(
            [notification_item(v) for v in page.items],
            page.unread_count,
            page.next_before_id,
            counts,
        ),
        prefs,
    )


def _day(value: str) -> date | None:
    """A date input's value ("" for none); ValueError when it is not YYYY-MM-DD."""
    return date.fromisoformat(value) if value.strip() else None


@live_consumer(read=_read_page, routes=("/notifications",), events=("notification.",))
class NotificationsState(BaseState):
    """The /notifications page: every notification, and what the member wants to receive."""

    items: list[NotificationItem] = []
    unread: int = 0
    unread_only: bool = False
    next_before_id: int = 0  # 0: no older page
    loaded: bool = False
    preferences: list[PreferenceItem] = []
    email_address: str = ""
    email_available: bool = False
    email_unavailable_reason: str = ""
    # Filters: a kind filter key ("" for all) and a date range (YYYY-MM-DD, "" for open).
    kind: str = ""
    start: str = ""
    end: str = ""
    filter_error: str = ""
    chips: list[KindCount] = []  # the kind filters, with their counts in the chosen dates
    _page_version: int = 0

    @rx.var
    def filtered(self) -> bool:
        """Whether a kind or a date narrows the list (the empty state says so)."""
        return bool(self.kind or self.start or self.end)

    def _on_page(self) -> bool:
        return self.section == "notifications" and self.router.url.path.rstrip("/") == (
            "/notifications"
        )

    def _filters(self) -> _Filters | None:
        try:
            return _Filters(self.kind, _day(self.start), _day(self.end))
        except ValueError:
            self.filter_error = "Enter dates as YYYY-MM-DD, or clear them."
            return None

    def _show(self, page: _Page, prefs: PreferencesView | None, *, append: bool = False) -> None:
        self.items = [*self.items, *page.items] if append else page.items
        self.unread = page.unread
        self.next_before_id = page.next_before_id or 0
        if page.chips is not None:
            self.chips = page.chips
        if prefs is not None:
            self.preferences = [
                PreferenceItem(p.kind, p.label, p.description, p.in_app, p.email)
                for p in prefs.items
            ]
            self.email_address = prefs.email_address
            self.email_available = prefs.email_available
            self.email_unavailable_reason = prefs.email_unavailable_reason or ""
        self.loaded = True

    def _reload(self, actor: Actor) -> None:
        filters = self._filters()
        if filters is None:
            return
        self._page_version += 1
        try:
            result = _read_page(actor, (self._page_version, self.unread_only, PAGE_SIZE, filters))
        except NotificationError as exc:
            self.filter_error = exc.message
            return
        self.filter_error = ""
        self._show(*result)

    def _live_request(
        self, batch: LiveBatch, actor: Actor
    ) -> tuple[int, bool, int, _Filters] | None:
        if not (self.loaded and self._on_page()):
            return None
        if batch.tick:
            self.items = _retimed(self.items)
            return None
        if batch.resync or batch.for_user(actor.user_id, "notification."):
            filters = self._filters()
            if filters is None or self.filter_error:
                return None
            count = max(PAGE_SIZE, len(self.items))
            return (self._page_version, self.unread_only, count, filters)
        return None

    def _live_apply(self, request: tuple[int, bool, int, _Filters], result: Any) -> None:
        if request[0] == self._page_version and self._on_page():
            self._show(*result)

    @rx.event
    def load(self):
        """Guard the page and read the first page and the preferences."""
        actor = self._enter("notifications")
        if actor is None:
            return None if self.signed_in else self._login_redirect()
        self._reload(actor)
        return None

    def _refilter(self):
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        self._reload(actor)
        return None

    @rx.event
    def set_unread_only(self, value: bool):
        """Show only unread notifications, or all."""
        self.unread_only = bool(value)
        return self._refilter()

    @rx.event
    def set_kind(self, kind: str):
        """Show one kind filter's notifications ("" for every kind)."""
        self.kind = "" if kind == self.kind else kind
        return self._refilter()

    @rx.event
    def set_start(self, value: str):
        """Show notifications from this day on (the business's time zone)."""
        self.start = value
        return self._refilter()

    @rx.event
    def set_end(self, value: str):
        """Show notifications up to and including this day."""
        self.end = value
        return self._refilter()

    @rx.event
    def clear_filters(self):
        """Every kind, every date (the unread-only switch stays as it is)."""
        self.kind = self.start = self.end = ""
        return self._refilter()

    @rx.event
    def load_older(self):
        """Append the next (older) page, with the same filters."""
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        filters = self._filters()
        if not self.next_before_id or filters is None:
            return None
        try:
            with session_scope() as session:
                page = notifications.list_notifications(
                    session, actor=actor, unread_only=self.unread_only,
                    before_id=self.next_before_id, limit=PAGE_SIZE, kind=filters.kind or None,
                    start=filters.start, end=filters.end,
                )  # fmt: skip
        except NotificationError as exc:
            self.filter_error = exc.message
            return None
        self._show(
            _Page([notification_item(v) for v in page.items], page.unread_count,
                  page.next_before_id),
            None,
            append=True,
        )  # fmt: skip
        return None

    @rx.event
    def mark_read(self, notification_id: int):
        """Mark one notification read."""
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        with session_scope() as session:
            notifications.mark_read(session, actor=actor, notification_ids=[notification_id])
        self._reload(actor)
        return None

    @rx.event
    def mark_all_read(self):
        """Mark every notification read."""
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        with session_scope() as session:
            notifications.mark_all_read(session, actor=actor)
        self._reload(actor)
        return None

    @rx.event
    def open_notification(self, notification_id: int, link: str):
        """Mark it read and follow its link."""
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        with session_scope() as session:
            notifications.mark_read(session, actor=actor, notification_ids=[notification_id])
        return rx.redirect(link) if link else None

    @rx.event
    def set_preference(self, kind: str, channel: str, value: bool):
        """Turn in-app or email delivery of one kind on or off."""
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        current = next((p for p in self.preferences if p.kind == kind), None)
        if current is None:
            return rx.toast.error("Unknown notification kind; reload the page.")
        in_app = bool(value) if channel == "in_app" else current.in_app
        email = bool(value) if channel == "email" else current.email
        try:
            with session_scope() as session:
                saved = notifications.set_preference(
                    session, actor=actor, kind=kind, in_app=in_app, email=email
                )
        except (NotificationError, PermissionDenied) as exc:
            return rx.toast.error(getattr(exc, "message", str(exc)))
        self.preferences = [
            PreferenceItem(p.kind, p.label, p.description, saved.in_app, saved.email)
            if p.kind == kind
            else p
            for p in self.preferences
        ]
        return rx.toast.success(f"Saved: {saved.label}.", duration=2000)
