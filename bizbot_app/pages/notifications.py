"""`/notifications`: every notification of the member (live) and what they want to receive."""

from __future__ import annotations

import reflex as rx

from bizbot_app.pages.shell import section_page
from bizbot_app.sections import BY_SLUG
from components.empty_state import empty_state
from components.notifications import notification_entry, notification_filters
from state.notifications import NotificationsState

S = NotificationsState
_MUTED = rx.color("gray", 11)


def _list() -> rx.Component:
    section = BY_SLUG["notifications"]
    return rx.vstack(
        rx.hstack(
            rx.el.label(
                rx.hstack(
                    rx.switch(checked=S.unread_only, on_change=S.set_unread_only, size="1"),
                    rx.text("Unread only", size="2"),
                    spacing="2",
                    align="center",
                ),
            ),
            rx.badge(S.unread, " unread", radius="full",
                     custom_attrs={"data-testid": "page-unread"}),
            rx.spacer(),
            rx.button("Mark all read", variant="soft", size="2", on_click=S.mark_all_read,
                      disabled=S.unread == 0),
            width="100%",
            align="center",
        ),
        notification_filters(
            chips=S.chips, selected=S.kind, on_select=S.set_kind, start=S.start, end=S.end,
            on_start=S.set_start, on_end=S.set_end, on_clear=S.clear_filters,
            show_clear=S.filtered, error=S.filter_error,
        ),
        rx.cond(
            S.items.length() > 0,
            rx.vstack(
                rx.foreach(
                    S.items,
                    lambda i: notification_entry(
                        i,
                        on_open=lambda nid, link: S.open_notification(nid, link),
                        on_mark_read=lambda nid: S.mark_read(nid),
                    ),
                ),
                spacing="1",
                width="100%",
                aria_label="Notifications list",
            ),
            rx.cond(
                S.filtered,
                empty_state("filter-x", "Nothing matches these filters",
                            "Choose another kind or dates, or clear the filters.",
                            rx.button("Clear filters", variant="soft",
                                      on_click=S.clear_filters)),
                empty_state(section.icon, section.empty_title,
                            "Handoffs, assignments to you, SLA warnings and breaches, new leads "
                            "and payments appear here as they happen."),
            ),
        ),
        rx.cond(S.next_before_id != 0,
                rx.center(rx.button("Load older", variant="soft", on_click=S.load_older),
                          width="100%")),
        spacing="3",
        width="100%",
    )  # fmt: skip


def _preferences() -> rx.Component:
    def row(p: rx.Var) -> rx.Component:
        return rx.table.row(
            rx.table.row_header_cell(
                rx.vstack(
                    rx.text(p.label, weight="medium", size="2"),
                    rx.text(p.description, size="1", color=_MUTED),
                    spacing="0",
                ),
            ),
            rx.table.cell(
                rx.switch(checked=p.in_app, on_change=lambda v: S.set_preference(p.kind,
                          "in_app", v), aria_label="In the app: " + p.label),
            ),
            rx.table.cell(
                rx.switch(checked=p.email, on_change=lambda v: S.set_preference(p.kind,
                          "email", v), aria_label="By email: " + p.label),
            ),
            align="center",
        )  # fmt: skip

    return rx.vstack(
        rx.heading("What you receive", size="4", as_="h2"),
        rx.cond(
            S.email_available,
            rx.text("Emails go to ", rx.text.strong(S.email_address), ".", size="2",
                    color=_MUTED),
            rx.callout(
                rx.text(S.email_unavailable_reason,
                        " Your email choices are kept and apply once it is set up."),
                icon="mail-x", color_scheme="amber", size="1", width="100%",
                custom_attrs={"data-testid": "email-unavailable"},
            ),
        ),
        rx.table.root(
            rx.table.header(rx.table.row(
                rx.table.column_header_cell("Notification"),
                rx.table.column_header_cell("In the app"),
                rx.table.column_header_cell("By email"),
            )),
            rx.table.body(rx.foreach(S.preferences, row)),
            variant="surface",
            size="1",
            width="100%",
        ),
        spacing="3",
        width="100%",
        max_width="720px",
    )  # fmt: skip


def notifications_page() -> rx.Component:
    """All notifications, newest first, and the per-kind preferences."""
    tabs = rx.tabs.root(
        rx.tabs.list(
            rx.tabs.trigger("Notifications", value="list"),
            rx.tabs.trigger("Preferences", value="preferences"),
        ),
        rx.tabs.content(_list(), value="list", padding_top="1.25em"),
        rx.tabs.content(_preferences(), value="preferences", padding_top="1.25em"),
        default_value="list",
        width="100%",
        max_width="860px",
    )
    body = rx.cond(S.loaded, tabs, rx.center(rx.spinner(size="3"), padding="4em"))
    return section_page("notifications", body)
