"""Pieces of the AI Rules page: labelled inputs, tag inputs, a weekday's hours, chat bubbles."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

_MUTED = rx.color("gray", 11)
_RED = rx.color("red", 11)


def field_error(field_id: str, error: rx.Var[str]) -> rx.Component:
    """The error under a field (announced, and linked to it by id)."""
    return rx.cond(
        error != "",
        rx.text(error, id=f"{field_id}-error", color=_RED, size="2", role="alert"),
    )


def rule_field(
    label: str | rx.Component,
    field_id: str,
    control: rx.Component,
    *,
    error: rx.Var[str] | str = "",
    hint: str | rx.Var[str] = "",
) -> rx.Component:
    """A label, its control, a hint and the field's error."""
    return rx.vstack(
        rx.el.label(label, html_for=field_id, font_size="0.875em", font_weight="500"),
        control,
        rx.cond(hint != "", rx.text(hint, size="1", color=_MUTED)),
        field_error(field_id, error),
        spacing="1",
        width="100%",
    )


def text_control(
    field_id: str,
    value: rx.Var[str],
    on_change: Callable[[rx.Var[str]], rx.event.EventSpec],
    *,
    disabled: rx.Var[bool],
    error: rx.Var[str],
    multiline: bool = False,
    placeholder: str = "",
    type_: str = "text",
) -> rx.Component:
    """A controlled input or text area, marked invalid while its field has an error."""
    props = {
        "id": field_id,
        "value": value,
        "on_change": on_change,
        "disabled": disabled,
        "placeholder": placeholder,
        "width": "100%",
        "aria_invalid": rx.cond(error != "", "true", "false"),
        "aria_describedby": f"{field_id}-error",
    }
    if multiline:
        return rx.text_area(rows="3", resize="vertical", **props)
    return rx.input(type=type_, **props)


def tag_input(
    label: str,
    field_id: str,
    tags: rx.Var[list[str]],
    *,
    on_add: Callable[[rx.Var], rx.event.EventSpec],
    on_remove: Callable[[rx.Var[str]], rx.event.EventSpec],
    disabled: rx.Var[bool],
    error: rx.Var[str],
    placeholder: str,
    hint: str,
) -> rx.Component:
    """Tags shown as removable badges, and a small form that adds one (or several, by comma)."""
    return rx.vstack(
        rx.el.label(label, html_for=field_id, font_size="0.875em", font_weight="500"),
        rx.flex(
            rx.foreach(
                tags,
                lambda tag: rx.badge(
                    tag,
                    rx.cond(
                        ~disabled,
                        rx.icon_button(
                            rx.icon("x", size=12),
                            size="1",
                            variant="ghost",
                            aria_label=f"Remove {label.lower()}: " + tag,
                            on_click=on_remove(tag),
                        ),
                    ),
                    size="2",
                    variant="soft",
                ),
            ),
            rx.cond(tags.length() == 0, rx.text("None yet.", size="2", color=_MUTED)),
            gap="2",
            wrap="wrap",
            aria_label="Current " + label.lower(),
            role="list",
        ),
        rx.cond(
            ~disabled,
            rx.form(
                rx.hstack(
                    rx.input(id=field_id, name="tag", placeholder=placeholder, flex="1"),
                    rx.button(
                        "Add", type="submit", variant="soft", aria_label=f"Add {label.lower()}"
                    ),
                    width="100%",
                ),
                on_submit=on_add,
                reset_on_submit=True,
                width="100%",
            ),
        ),
        rx.text(hint, size="1", color=_MUTED),
        field_error(field_id, error),
        spacing="2",
        width="100%",
    )


def hours_day(row: rx.Var) -> rx.Component:
    """One weekday of the business hours, read-only: every range, or Closed."""
    return rx.hstack(
        rx.text(row.label, size="2", width="7em"),
        rx.cond(
            row.open,
            rx.text(row.ranges, size="2"),
            rx.badge("Closed", color_scheme="gray", variant="soft"),
        ),
        align="center",
        spacing="3",
        role="listitem",
    )


def chat_bubble(bubble: rx.Var) -> rx.Component:
    """A tried message: the customer's on the right, the assistant's on the left with why."""
    customer = rx.box(
        rx.text(bubble.text, size="2", white_space="pre-wrap"),
        rx.cond(bubble.draft, rx.text("with unsaved changes", size="1", color=_MUTED)),
        background=rx.color("accent", 4),
        padding="0.5em 0.8em",
        border_radius="12px",
        max_width="85%",
        margin_left="auto",
    )
    assistant = rx.box(
        rx.vstack(
            rx.text(bubble.text, size="2", white_space="pre-wrap"),
            rx.cond(
                bubble.quick_replies.length() > 0,
                rx.flex(
                    rx.foreach(
                        bubble.quick_replies, lambda q: rx.badge(q, variant="outline", size="1")
                    ),
                    gap="1",
                    wrap="wrap",
                ),
            ),
            rx.callout(
                bubble.explanation,
                icon=rx.cond(bubble.action == "handoff", "hand-helping", "circle-check"),
                color_scheme=rx.cond(bubble.action == "handoff", "amber", "grass"),
                size="1",
                width="100%",
            ),
            rx.hstack(
                rx.badge(rx.text("Confidence ", bubble.confidence), variant="soft", size="1"),
                rx.badge(
                    rx.text("Language ", bubble.language.upper()),
                    variant="soft",
                    size="1",
                    color_scheme="gray",
                ),
                rx.cond(
                    bubble.closed_now,
                    rx.badge(
                        "Closed now: out-of-hours reply first",
                        color_scheme="orange",
                        variant="soft",
                        size="1",
                    ),
                ),
                wrap="wrap",
            ),
            rx.cond(
                bubble.sources.length() > 0,
                rx.vstack(
                    rx.text("Sources", size="1", weight="medium", color=_MUTED),
                    rx.foreach(bubble.sources, lambda s: rx.text(s, size="1", color=_MUTED)),
                    spacing="1",
                    aria_label="Sources",
                ),
            ),
            spacing="2",
        ),
        background=rx.color("gray", 3),
        padding="0.6em 0.8em",
        border_radius="12px",
        max_width="92%",
    )
    return rx.cond(bubble.role == "customer", customer, assistant)
