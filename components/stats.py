"""Small dashboard building blocks: a figure card and a checklist row."""

from __future__ import annotations

import reflex as rx


def stat_card(label: str, value: rx.Var, icon: str) -> rx.Component:
    """One headline number with its label."""
    return rx.card(
        rx.hstack(
            rx.icon(icon, size=20, color=rx.color("accent", 10)),
            rx.vstack(
                rx.text(label, size="2", color=rx.color("gray", 11)),
                rx.heading(value, size="6"),
                spacing="1",
            ),
            spacing="3",
            align="center",
        ),
        width="100%",
    )


def checklist_item(title: rx.Var, text: rx.Var, href: rx.Var, done: rx.Var) -> rx.Component:
    """A step: done tick or open circle, what to do, and a link to where it is done."""
    return rx.card(
        rx.hstack(
            rx.cond(
                done,
                rx.icon("circle-check", color=rx.color("grass", 10), aria_label="Done"),
                rx.icon("circle", color=rx.color("gray", 8), aria_label="To do"),
            ),
            rx.vstack(
                rx.text(title, weight="medium"),
                rx.text(text, size="2", color=rx.color("gray", 11)),
                spacing="1",
                flex="1",
            ),
            rx.cond(~done, rx.link(rx.button("Open", variant="soft"), href=href)),
            align="center",
            spacing="3",
            width="100%",
        ),
        width="100%",
    )
