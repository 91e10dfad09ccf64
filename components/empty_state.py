"""The empty state a section shows before it has data (or before its feature exists)."""

from __future__ import annotations

import reflex as rx


def empty_state(icon: str, title: str, text: str, *children: rx.Component) -> rx.Component:
    """A centred icon, a heading and a sentence or two about what will appear here."""
    return rx.center(
        rx.vstack(
            rx.center(
                rx.icon(icon, size=28, color=rx.color("accent", 11)),
                width="56px",
                height="56px",
                border_radius="full",
                background=rx.color("accent", 3),
            ),
            rx.heading(title, size="4", as_="h2"),
            rx.text(text, color=rx.color("gray", 11), text_align="center", max_width="34em"),
            *children,
            align="center",
            spacing="3",
        ),
        padding="4em 1em",
        border=f"1px dashed {rx.color('gray', 6)}",
        border_radius="12px",
        width="100%",
    )


def no_access(section_title: str, role: rx.Var[str]) -> rx.Component:
    """What a member sees on a section their role may not open."""
    return empty_state(
        "lock",
        f"{section_title} is not available to your role",
        "Ask an owner of this business to change your role if you need it.",
        rx.badge(rx.text("Your role: ", role), color_scheme="gray"),
    )
