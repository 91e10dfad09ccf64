"""The signed-in page frame: sidebar on the left, the section's header and body on the right."""

from __future__ import annotations

import reflex as rx


def page_frame(
    sidebar: rx.Component,
    *,
    title: str,
    subtitle: str,
    body: rx.Component,
    ready: rx.Var[bool],
    header_actions: rx.Component | None = None,
    wide: bool = False,
    top_bar: rx.Component | None = None,
) -> rx.Component:
    """Sidebar + titled content (with `header_actions` at the top right, such as the
    notifications bell); a spinner until the session has been checked. `wide` pages (the
    inbox) use the whole window. `top_bar` (the menu on phones) sits above everything."""
    return rx.cond(
        ready,
        rx.box(
            top_bar if top_bar is not None else rx.fragment(),
            _columns(sidebar, title, subtitle, body, header_actions, wide),
            width="100%",
        ),
        rx.center(rx.spinner(size="3"), height="100vh", aria_label="Loading"),
    )


def _columns(
    sidebar: rx.Component,
    title: str,
    subtitle: str,
    body: rx.Component,
    header_actions: rx.Component | None,
    wide: bool,
) -> rx.Component:
    return rx.hstack(
        sidebar,
        rx.box(
            rx.hstack(
                rx.vstack(
                    rx.heading(title, size=rx.breakpoints(initial="6", md="7"), as_="h1"),
                    rx.text(subtitle, color=rx.color("gray", 11)),
                    spacing="1",
                    min_width="0",
                ),
                rx.spacer(),
                header_actions if header_actions is not None else rx.fragment(),
                align="start",
                width="100%",
                margin_bottom="1.5em",
            ),
            body,
            flex="1",
            min_width="0",
            padding=["1em", "1.5em", "2em 2.5em"],
            max_width="none" if wide else "1200px",
        ),
        spacing="0",
        align="start",
        width="100%",
        min_height="100vh",
    )


def auth_card(title: str, subtitle: str, *children: rx.Component) -> rx.Component:
    """The centred card of the login and sign-up pages."""
    return rx.center(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.icon("bot", size=26, color=rx.color("accent", 10)),
                    rx.heading("BizBot", size="6", as_="div"),
                    align="center",
                    spacing="2",
                ),
                rx.heading(title, size="5", as_="h1"),
                rx.text(subtitle, color=rx.color("gray", 11), size="2"),
                *children,
                spacing="4",
                width="100%",
            ),
            size="4",
            width="100%",
            max_width="420px",
        ),
        min_height="100vh",
        padding="1em",
        background=rx.color("gray", 2),
    )


def labelled_field(
    label: str,
    name: str,
    *,
    type_: str = "text",
    error: rx.Var[str] | str = "",
    placeholder: str = "",
    auto_complete: str = "",
    required: bool = True,
    default_value: rx.Var[str] | str | None = None,
) -> rx.Component:
    """A label, its input and the error under it (linked for screen readers)."""
    field_id = f"field-{name}"
    return rx.vstack(
        rx.el.label(label, html_for=field_id, font_size="0.875em", font_weight="500"),
        rx.input(
            id=field_id,
            name=name,
            type=type_,
            placeholder=placeholder,
            auto_complete=auto_complete,
            required=required,
            width="100%",
            size="3",
            default_value=default_value,
            aria_invalid=rx.cond(error != "", "true", "false"),
            aria_describedby=f"{field_id}-error",
        ),
        rx.cond(
            error != "",
            rx.text(
                error, id=f"{field_id}-error", color=rx.color("red", 11), size="2", role="alert"
            ),
        ),
        spacing="1",
        width="100%",
    )
