"""Billing page pieces: a usage bar against a limit, and a plan card with its button."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

_MUTED = rx.color("gray", 11)


def usage_bar(text: rx.Var, percent: rx.Var, full: rx.Var, unlimited: rx.Var) -> rx.Component:
    """One limit: "25 of 100 conversations a month" over a progress bar (red when full)."""
    return rx.vstack(
        rx.text(text, size="2"),
        rx.cond(
            unlimited,
            rx.fragment(),
            rx.progress(
                value=percent,
                max=100,
                color_scheme=rx.cond(full, "red", "teal"),
                width="100%",
                aria_label=text,
            ),
        ),
        spacing="1",
        width="100%",
    )


def plan_card(
    name: rx.Var,
    price: rx.Var,
    limits: rx.Var,
    current: rx.Var,
    action: rx.Var,
    busy: rx.Var,
    on_choose: Callable[[], rx.event.EventSpec],
) -> rx.Component:
    """A plan: name, price, limits, "Current plan" or its Upgrade/Switch button."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(name, size="4", as_="h3"),
                rx.cond(current, rx.badge("Current plan", color_scheme="teal")),
                justify="between",
                width="100%",
                align="center",
            ),
            rx.text(price, size="5", weight="bold"),
            rx.foreach(limits, lambda line: rx.text(line, size="2", color=_MUTED)),
            rx.cond(
                action != "",
                rx.button(action, on_click=on_choose, loading=busy, width="100%"),
            ),
            spacing="2",
            width="100%",
        ),
        aria_label=name,
        width="100%",
    )
