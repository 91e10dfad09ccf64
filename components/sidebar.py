"""The dashboard's navigation: the sections a member's role may open, the current one marked."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import reflex as rx


class NavItem(NamedTuple):
    """One entry of the sidebar."""

    slug: str
    route: str
    title: str
    icon: str


def _item(item: NavItem, current: rx.Var[str]) -> rx.Component:
    active = current == item.slug
    return rx.link(
        rx.hstack(
            rx.icon(item.icon, size=16),
            rx.text(item.title, size="2", weight=rx.cond(active, "medium", "regular")),
            spacing="3",
            align="center",
            padding_x="0.75em",
            padding_y="0.45em",
            border_radius="8px",
            width="100%",
            background=rx.cond(active, rx.color("accent", 4), "transparent"),
            color=rx.cond(active, rx.color("accent", 12), rx.color("gray", 12)),
            _hover={"background": rx.color("accent", 3)},
        ),
        href=item.route,
        underline="none",
        width="100%",
        aria_current=rx.cond(active, "page", None),
    )


def sidebar(
    items: Sequence[NavItem],
    *,
    allowed: rx.Var[list[str]],
    current: rx.Var[str],
    business_name: rx.Var[str],
    user_name: rx.Var[str],
    role: rx.Var[str],
    on_logout: rx.EventHandler,
) -> rx.Component:
    """The left column: brand, business, the allowed sections, and the signed-in member."""
    return rx.vstack(
        rx.hstack(
            rx.icon("bot", size=22, color=rx.color("accent", 10)),
            rx.heading("BizBot", size="5"),
            align="center",
            spacing="2",
            padding_x="0.75em",
        ),
        rx.text(
            business_name, size="2", color=rx.color("gray", 11), padding_x="0.75em", trim="both"
        ),
        rx.el.nav(
            rx.vstack(
                *[rx.cond(allowed.contains(i.slug), _item(i, current)) for i in items],
                spacing="1",
                width="100%",
            ),
            aria_label="Sections",
            width="100%",
            overflow_y="auto",
            flex="1",
        ),
        rx.divider(),
        rx.hstack(
            rx.avatar(fallback=user_name[:1], size="2", radius="full"),
            rx.vstack(
                rx.text(user_name, size="2", weight="medium", trim="both"),
                rx.text(role, size="1", color=rx.color("gray", 11), trim="both"),
                spacing="0",
                flex="1",
                min_width="0",
            ),
            rx.tooltip(
                rx.icon_button(
                    rx.icon("log-out", size=16),
                    variant="ghost",
                    on_click=on_logout,
                    aria_label="Log out",
                ),
                content="Log out",
            ),
            align="center",
            width="100%",
            padding_x="0.5em",
        ),
        height="100vh",
        position="sticky",
        top="0",
        width="240px",
        min_width="240px",
        padding_y="1em",
        padding_x="0.5em",
        spacing="3",
        border_right=f"1px solid {rx.color('gray', 5)}",
        background=rx.color("gray", 2),
        display=["none", "none", "flex"],
    )
