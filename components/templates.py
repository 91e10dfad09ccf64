"""Pieces of the Templates page: status badges, the WhatsApp-style preview, template cards."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

_MUTED = rx.color("gray", 11)
_STATUS_COLORS = (
    ("draft", "gray"),
    ("pending", "amber"),
    ("approved", "grass"),
    ("rejected", "red"),
    ("paused", "orange"),
    ("disabled", "gray"),
)


def template_status_badge(status: rx.Var[str], label: rx.Var[str]) -> rx.Component:
    """The template's review status as a coloured badge."""
    return rx.match(
        status,
        *[
            (value, rx.badge(label, color_scheme=color, variant="soft", white_space="nowrap"))
            for value, color in _STATUS_COLORS
        ],
        rx.badge(label, variant="soft"),
    )


def whatsapp_preview(text: rx.Var[str], buttons: rx.Var[list[str]]) -> rx.Component:
    """The message as a WhatsApp chat bubble, with its buttons underneath."""
    return rx.box(
        rx.box(
            rx.text(
                rx.cond(text != "", text, "Your message appears here as you type."),
                size="2",
                white_space="pre-wrap",
                color="#111b21",
            ),
            rx.foreach(
                buttons,
                lambda label: rx.box(
                    rx.text(label, size="2", color="#027eb5", text_align="center"),
                    border_top="1px solid #e9edef",
                    padding_top="6px",
                    margin_top="6px",
                ),
            ),
            background="#ffffff",
            border_radius="0 8px 8px 8px",
            padding="8px 10px",
            max_width="320px",
            box_shadow="0 1px 0.5px rgba(11,20,26,.13)",
            class_name="template-preview",
        ),
        background="#efeae2",
        padding="16px",
        border_radius="8px",
        width="100%",
    )


def template_card(
    row: rx.Var,
    *,
    can_manage: rx.Var[bool],
    on_edit: Callable[[rx.Var[int]], rx.event.EventSpec],
    on_submit: Callable[[rx.Var[int]], rx.event.EventSpec],
    on_delete: Callable[[rx.Var[int]], rx.event.EventSpec],
    busy: rx.Var[bool],
) -> rx.Component:
    """One template: name, language, category, status (with Meta's reason) and its actions."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text(row.name, weight="bold", size="3"),
                rx.badge(row.language, variant="outline"),
                rx.badge(row.category, variant="surface", color_scheme="blue"),
                rx.spacer(),
                template_status_badge(row.status, row.status_label),
                width="100%",
                align="center",
                wrap="wrap",
            ),
            rx.cond(
                row.reason != "",
                rx.callout(row.reason, icon="triangle-alert", color_scheme="red", size="1"),
            ),
            rx.text(row.preview, size="2", color=_MUTED, white_space="pre-wrap"),
            rx.cond(
                can_manage,
                rx.hstack(
                    rx.cond(
                        row.can_submit,
                        rx.button(
                            rx.icon("send", size=14), "Submit to Meta", size="1",
                            on_click=on_submit(row.id), loading=busy,
                        ),
                    ),
                    rx.cond(
                        row.can_edit,
                        rx.button("Edit", size="1", variant="soft", on_click=on_edit(row.id)),
                    ),
                    rx.button(
                        "Delete", size="1", variant="ghost", color_scheme="red",
                        on_click=on_delete(row.id),
                    ),
                    spacing="2",
                ),
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        data_testid="template-card",
    )  # fmt: skip


def labelled_select(
    items, *, value, on_change, label: str, placeholder: str = "", width: str = "auto"
) -> rx.Component:
    """A select whose trigger carries `label` (screen readers and tests find it by name)."""
    return rx.select.root(
        rx.select.trigger(aria_label=label, placeholder=placeholder or label, width=width),
        rx.select.content(rx.foreach(items, lambda item: rx.select.item(item, value=item))),
        value=value,
        on_change=on_change,
    )


def field_error(message: rx.Var[str]) -> rx.Component:
    """A form field's error, in red, only when there is one."""
    return rx.cond(message, rx.text(message, size="1", color=rx.color("red", 11)))


def _value_input(row: rx.Var, on_change) -> rx.Component:
    return rx.hstack(
        rx.text(row.label, size="2", min_width="4em"),
        rx.input(
            value=row.value,
            placeholder="Value",
            width="100%",
            aria_label="Value for " + row.label,
            on_change=lambda v: on_change(row.index, v),
        ),
        width="100%",
        align="center",
    )


def template_picker_dialog(
    *,
    open: rx.Var[bool],
    labels: rx.Var[list[str]],
    selected_label: rx.Var[str],
    header_rows: rx.Var[list],
    value_rows: rx.Var[list],
    preview: rx.Var[str],
    error: rx.Var[str],
    on_open_change,
    on_choose,
    on_header_value,
    on_value,
    on_send,
) -> rx.Component:
    """The inbox's picker: an approved template, a value per variable, a preview, Send."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Send a template"),
            rx.dialog.description(
                "Outside the 24-hour window WhatsApp only delivers templates Meta approved.",
                size="2",
            ),
            rx.vstack(
                rx.cond(
                    labels.length() > 0,
                    labelled_select(
                        labels, value=selected_label, on_change=on_choose, label="Template",
                        width="100%",
                    ),
                ),
                rx.foreach(header_rows, lambda r: _value_input(r, on_header_value)),
                rx.foreach(value_rows, lambda r: _value_input(r, on_value)),
                rx.cond(preview != "", whatsapp_preview(preview, rx.Var.create([]))),
                field_error(error),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.button(
                        rx.icon("send", size=14), "Send template", on_click=on_send,
                        disabled=labels.length() == 0,
                    ),
                    justify="end", width="100%", spacing="2",
                ),
                spacing="3", width="100%", margin_top="0.75em",
            ),
            max_width="520px",
        ),
        open=open,
        on_open_change=on_open_change,
    )  # fmt: skip
