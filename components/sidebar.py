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
    business_logo: rx.Var[str] | str = "",
) -> rx.Component:
    """The left column on wide screens: brand, business, the allowed sections, the member."""
    return rx.vstack(
        *_contents(items, allowed=allowed, current=current, business_name=business_name,
                   user_name=user_name, role=role, on_logout=on_logout,
                   business_logo=business_logo),
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
    )  # fmt: skip


def mobile_nav(
    items: Sequence[NavItem],
    *,
    allowed: rx.Var[list[str]],
    current: rx.Var[str],
    business_name: rx.Var[str],
    user_name: rx.Var[str],
    role: rx.Var[str],
    on_logout: rx.EventHandler,
    business_logo: rx.Var[str] | str = "",
) -> rx.Component:
    """On phones and narrow windows: a top bar whose menu button opens the same navigation."""
    return rx.hstack(
        rx.drawer.root(
            rx.drawer.trigger(
                rx.icon_button(rx.icon("menu", size=20), variant="ghost", size="3",
                               aria_label="Open the menu"),
            ),
            rx.drawer.overlay(z_index="40"),
            rx.drawer.portal(
                rx.drawer.content(
                    rx.vstack(
                        rx.hstack(
                            rx.spacer(),
                            rx.drawer.close(
                                rx.icon_button(rx.icon("x", size=18), variant="ghost",
                                               aria_label="Close the menu"),
                            ),
                            width="100%",
                        ),
                        *_contents(items, allowed=allowed, current=current,
                                   business_name=business_name, user_name=user_name, role=role,
                                   on_logout=on_logout, business_logo=business_logo),
                        height="100%",
                        spacing="3",
                        padding="0.75em",
                    ),
                    top="0",
                    left="0",
                    height="100%",
                    width="min(80vw, 280px)",
                    background=rx.color("gray", 2),
                    z_index="50",
                ),
            ),
            direction="left",
        ),
        rx.icon("bot", size=20, color=rx.color("accent", 10)),
        rx.text(business_name, size="2", weight="medium", trim="both"),
        align="center",
        spacing="2",
        width="100%",
        padding="0.5em 0.75em",
        position="sticky",
        top="0",
        z_index="30",
        background=rx.color("gray", 2),
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        display=["flex", "flex", "none"],
    )  # fmt: skip


def _contents(
    items: Sequence[NavItem],
    *,
    allowed: rx.Var[list[str]],
    current: rx.Var[str],
    business_name: rx.Var[str],
    user_name: rx.Var[str],
    role: rx.Var[str],
    on_logout: rx.EventHandler,
    business_logo: rx.Var[str] | str = "",
) -> list[rx.Component]:
    return [
        rx.hstack(
            rx.icon("bot", size=22, color=rx.color("accent", 10)),
            rx.heading("BizBot", size="5", as_="div"),
            align="center",
            spacing="2",
            padding_x="0.75em",
        ),
        rx.hstack(
            rx.cond(
                rx.Var.create(business_logo) != "",
                rx.image(
                    src=business_logo,
                    alt="",
                    height="24px",
                    width="24px",
                    object_fit="contain",
                    border_radius="4px",
                    class_name="business-logo",
                ),
            ),
            rx.text(business_name, size="2", color=rx.color("gray", 11), trim="both"),
            align="center",
            spacing="2",
            padding_x="0.75em",
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
    ]
