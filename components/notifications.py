"""The notifications bell of the header and one notification as a list item."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

_MUTED = rx.color("gray", 11)


def kind_icon(icon: rx.Var[str]) -> rx.Component:
    """The icon of a kind of notification."""
    return rx.match(
        icon,
        *[
            (name, rx.icon(name, size=16))
            for name in (
                "hand-helping", "user-check", "alarm-clock", "siren", "target", "banknote",
                "calendar-clock", "webhook-off", "credit-card", "file-text", "party-popper",
            )
        ],
        rx.icon("bell", size=16),
    )  # fmt: skip


def notification_entry(
    item: rx.Var,
    *,
    on_open: Callable[[rx.Var, rx.Var], rx.event.EventSpec],
    on_mark_read: Callable[[rx.Var], rx.event.EventSpec] | None = None,
) -> rx.Component:
    """A notification: kind icon, title, body, when; unread ones stand out."""
    mark = rx.fragment()
    if on_mark_read is not None:
        mark = rx.cond(
            ~item.read,
            rx.tooltip(
                rx.icon_button(
                    rx.icon("check", size=14),
                    variant="ghost",
                    size="1",
                    aria_label="Mark read",
                    on_click=on_mark_read(item.id).stop_propagation,
                ),
                content="Mark read",
            ),
        )
    return rx.hstack(
        rx.center(
            kind_icon(item.icon),
            width="32px",
            height="32px",
            min_width="32px",
            border_radius="full",
            background=rx.cond(item.read, rx.color("gray", 3), rx.color("accent", 4)),
            color=rx.cond(item.read, _MUTED, rx.color("accent", 11)),
        ),
        rx.vstack(
            rx.hstack(
                rx.text(item.title, size="2", weight=rx.cond(item.read, "regular", "bold"),
                        flex="1", min_width="0"),
                rx.tooltip(rx.text(item.when, size="1", color=_MUTED, white_space="nowrap"),
                           content=item.when_full),
                width="100%",
                align="start",
            ),
            rx.cond(item.body != "", rx.text(item.body, size="1", color=_MUTED)),
            rx.text(item.kind_label, size="1", color=_MUTED),
            spacing="0",
            flex="1",
            min_width="0",
        ),
        mark,
        spacing="3",
        align="start",
        width="100%",
        padding="0.6em",
        border_radius="8px",
        cursor="pointer",
        _hover={"background": rx.color("accent", 2)},
        on_click=on_open(item.id, item.link),
        custom_attrs={"data-testid": "notification", "data-read": item.read.to_string()},
    )  # fmt: skip


def notification_bell(
    *,
    unread: rx.Var[int],
    unread_label: rx.Var[str],
    items: rx.Var[list],
    is_open: rx.Var[bool],
    on_open_change: rx.EventHandler,
    on_open_item: Callable[[rx.Var, rx.Var], rx.event.EventSpec],
    on_mark_all: rx.event.EventSpec,
) -> rx.Component:
    """The bell with its live unread count; a click shows the latest and links to them."""
    return rx.popover.root(
        rx.popover.trigger(
            rx.box(
                rx.icon_button(
                    rx.icon("bell", size=18),
                    variant="ghost",
                    color_scheme="gray",
                    size="3",
                    aria_label="Notifications",
                ),
                rx.cond(
                    unread > 0,
                    rx.badge(
                        unread_label,
                        color_scheme="red",
                        variant="solid",
                        radius="full",
                        size="1",
                        position="absolute",
                        top="-4px",
                        right="-6px",
                        pointer_events="none",
                        custom_attrs={"data-testid": "bell-count"},
                    ),
                ),
                position="relative",
                display="inline-block",
            ),
        ),
        rx.popover.content(
            rx.vstack(
                rx.hstack(
                    rx.text("Notifications", weight="bold", size="3"),
                    rx.spacer(),
                    rx.button("Mark all read", size="1", variant="ghost", on_click=on_mark_all,
                              disabled=unread == 0),
                    width="100%",
                    align="center",
                ),
                rx.cond(
                    items.length() > 0,
                    rx.vstack(
                        rx.foreach(items, lambda i: notification_entry(i, on_open=on_open_item)),
                        spacing="1",
                        width="100%",
                        max_height="420px",
                        overflow_y="auto",
                    ),
                    rx.text("Nothing yet. Handoffs, assignments and SLA warnings appear here.",
                            size="2", color=_MUTED, padding="1em 0"),
                ),
                rx.link("See all notifications", href="/notifications", size="2"),
                spacing="2",
                width="100%",
            ),
            width="380px",
            max_width="94vw",
            align="end",
            aria_label="Latest notifications",
        ),
        open=is_open,
        on_open_change=on_open_change,
    )  # fmt: skip


def notification_filters(
    *,
    chips: rx.Var,
    selected: rx.Var[str],
    on_select: Callable[[rx.Var], rx.event.EventSpec],
    start: rx.Var[str],
    end: rx.Var[str],
    on_start: Callable,
    on_end: Callable,
    on_clear: Callable,
    show_clear: rx.Var[bool],
    error: rx.Var[str],
) -> rx.Component:
    """Kind chips with their counts (a chosen chip again: every kind) and a date range."""

    def chip(c: rx.Var) -> rx.Component:
        chosen = c.key == selected
        return rx.cond(
            (c.count > 0) | chosen,
            rx.button(
                c.label,
                rx.badge(c.count, variant="solid", radius="full", size="1",
                         color_scheme=rx.cond(chosen, "gray", "teal")),
                variant=rx.cond(chosen, "solid", "soft"),
                size="1",
                radius="full",
                on_click=on_select(c.key),
                aria_pressed=rx.cond(chosen, "true", "false"),
                custom_attrs={"data-kind": c.key},
            ),
        )  # fmt: skip

    return rx.vstack(
        rx.hstack(
            rx.foreach(chips, chip),
            spacing="2",
            wrap="wrap",
            aria_label="Filter by kind",
            role="group",
        ),
        rx.hstack(
            rx.el.label(
                rx.hstack(rx.text("From", size="2"),
                          rx.input(type="date", value=start, on_change=on_start, size="1",
                                   aria_label="From date"),
                          spacing="2", align="center"),
            ),
            rx.el.label(
                rx.hstack(rx.text("To", size="2"),
                          rx.input(type="date", value=end, on_change=on_end, size="1",
                                   aria_label="To date"),
                          spacing="2", align="center"),
            ),
            rx.cond(show_clear,
                    rx.button("Clear filters", variant="ghost", size="1", on_click=on_clear)),
            spacing="3",
            align="center",
            wrap="wrap",
        ),
        rx.cond(error != "", rx.text(error, size="2", color=rx.color("red", 11), role="alert")),
        spacing="2",
        width="100%",
    )  # fmt: skip
