"""Pieces of the Settings page: labelled selects, a searchable input, a weekday row."""

from __future__ import annotations

import reflex as rx


def _error(field_id: str, error: rx.Var[str] | str) -> rx.Component:
    return rx.cond(
        error != "",
        rx.text(error, id=f"{field_id}-error", color=rx.color("red", 11), size="2", role="alert"),
    )


def _control_style(field_id: str, error: rx.Var[str] | str) -> dict:
    return {
        "id": field_id,
        "aria_invalid": rx.cond(error != "", "true", "false"),
        "aria_describedby": f"{field_id}-error",
        "style": {
            "width": "100%",
            "padding": "0.5em 0.75em",
            "border_radius": "var(--radius-2)",
            "border": f"1px solid {rx.color('gray', 7)}",
            "background": rx.color("gray", 1),
            "font_size": "1em",
        },
    }


def select_field(
    label: str,
    name: str,
    options: rx.Var[list[dict[str, str]]],
    *,
    default_value: rx.Var[str] | str,
    error: rx.Var[str] | str = "",
) -> rx.Component:
    """A native select (type-ahead works) of `{value, label}` options, with its error."""
    field_id = f"field-{name}"
    return rx.vstack(
        rx.el.label(label, html_for=field_id, font_size="0.875em", font_weight="500"),
        rx.el.select(
            rx.foreach(options, lambda o: rx.el.option(o["label"], value=o["value"])),
            name=name,
            default_value=default_value,
            **_control_style(field_id, error),
        ),
        _error(field_id, error),
        spacing="1",
        width="100%",
    )


def search_field(
    label: str,
    name: str,
    options: rx.Var[list[str]],
    *,
    default_value: rx.Var[str] | str,
    error: rx.Var[str] | str = "",
    placeholder: str = "",
) -> rx.Component:
    """A text input that suggests from `options` as you type (a datalist)."""
    field_id = f"field-{name}"
    return rx.vstack(
        rx.el.label(label, html_for=field_id, font_size="0.875em", font_weight="500"),
        rx.el.input(
            name=name,
            list=f"{field_id}-options",
            default_value=default_value,
            placeholder=placeholder,
            auto_complete="off",
            required=True,
            **_control_style(field_id, error),
        ),
        rx.el.datalist(
            rx.foreach(options, lambda o: rx.el.option(value=o)), id=f"{field_id}-options"
        ),
        _error(field_id, error),
        spacing="1",
        width="100%",
    )


def weekday_row(day: rx.Var[dict], errors: rx.Var[dict[str, str]]) -> rx.Component:
    """One weekday: open or closed, and its hours ("08:00-12:00, 14:00-18:00")."""
    key = day["day"].to(str)
    error = errors.get(f"hours_{key}", "")
    return rx.vstack(
        rx.hstack(
            rx.el.label(
                rx.el.input(type="checkbox", name=f"open_{key}", default_checked=day["open"],
                            id=f"open-{key}"),
                rx.text(day["label"].to(str), as_="span", size="2", weight="medium"),
                display="flex", gap="0.5em", align_items="center", width="9em",
                html_for=f"open-{key}",
            ),
            rx.input(name=f"ranges_{key}", default_value=day["ranges"].to(str),
                     aria_label=f"{day['label'].to(str)} hours", placeholder="09:00-17:00",
                     width="16em"),
            align="center", spacing="3", wrap="wrap",
        ),
        rx.cond(error != "", rx.text(error, color=rx.color("red", 11), size="2", role="alert")),
        spacing="1",
    )  # fmt: skip
