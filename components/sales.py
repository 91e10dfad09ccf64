"""Pieces of the Sales & Products page: product and order tables, status badges, order lines."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

_MUTED = rx.color("gray", 11)
_TWO_LINES = {
    "display": "-webkit-box",
    "-webkit-line-clamp": "2",
    "-webkit-box-orient": "vertical",
    "overflow": "hidden",
}
_STATUS_COLORS = (
    ("pending", "gray"),
    ("awaiting_payment", "blue"),
    ("paid", "grass"),
    ("needs_review", "amber"),
    ("failed", "red"),
    ("refunded", "violet"),
    ("cancelled", "gray"),
)


def order_status_badge(status: rx.Var[str], label: rx.Var[str]) -> rx.Component:
    """The order's status as a coloured badge."""
    return rx.match(
        status,
        *[
            (value, rx.badge(label, color_scheme=color, variant="soft", white_space="nowrap"))
            for value, color in _STATUS_COLORS
        ],
        rx.badge(label, variant="soft"),
    )


def _dash_if_empty(value: rx.Var[str]) -> rx.Component:
    return rx.cond(value != "", rx.text(value, size="2"), rx.text("—", size="2", color=_MUTED))


def product_row(
    row: rx.Var,
    *,
    can_manage: rx.Var[bool],
    on_edit: Callable[[rx.Var[int]], rx.event.EventSpec],
    on_toggle: Callable[[rx.Var[int], rx.Var[bool]], rx.event.EventSpec],
    on_delete: Callable[[rx.Var[int], rx.Var[str]], rx.event.EventSpec],
) -> rx.Component:
    """One product: name and description, kind, price, SKU, stock, on sale, actions."""
    return rx.table.row(
        rx.table.row_header_cell(
            rx.vstack(
                rx.hstack(
                    rx.text(row.name, weight="medium", size="2"),
                    rx.cond(
                        row.has_image,
                        rx.image(
                            src=row.image_url,
                            alt=row.name,
                            width="36px",
                            height="36px",
                            object_fit="cover",
                            border_radius="6px",
                            loading="lazy",
                        ),
                    ),
                    align="center",
                    spacing="2",
                ),
                rx.cond(
                    row.description != "",
                    rx.text(row.description, size="1", color=_MUTED, style=_TWO_LINES),
                ),
                spacing="1",
                max_width="28em",
            ),
        ),
        rx.table.cell(rx.badge(row.kind, variant="outline", color_scheme="gray")),
        rx.table.cell(rx.text(row.price, size="2", white_space="nowrap")),
        rx.table.cell(_dash_if_empty(row.sku)),
        rx.table.cell(_dash_if_empty(row.stock)),
        rx.table.cell(
            rx.switch(
                checked=row.is_active,
                disabled=~can_manage,
                on_change=lambda value: on_toggle(row.id, value),
                aria_label=f"{row.name} on sale",
            )
        ),
        rx.table.cell(
            rx.cond(
                can_manage,
                rx.hstack(
                    rx.icon_button(
                        rx.icon("pencil", size=15),
                        variant="ghost",
                        color_scheme="gray",
                        aria_label=f"Edit {row.name}",
                        title="Edit",
                        on_click=on_edit(row.id),
                    ),
                    rx.icon_button(
                        rx.icon("trash-2", size=15),
                        variant="ghost",
                        color_scheme="red",
                        aria_label=f"Delete {row.name}",
                        title="Delete",
                        on_click=on_delete(row.id, row.name),
                    ),
                    spacing="3",
                    justify="end",
                ),
            ),
        ),
        align="center",
    )


def products_table(rows: rx.Var[list], render_row: Callable[[rx.Var], rx.Component]):
    """The products table with its header."""
    headers = ("Product", "Kind", "Price", "SKU", "Stock", "On sale", "")
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
        rx.table.body(rx.foreach(rows, render_row)),
        variant="surface",
        size="2",
        width="100%",
        aria_label="Products",
    )


def order_row(row: rx.Var, *, on_open: Callable[[rx.Var[int]], rx.event.EventSpec]):
    """One order: number, customer, what, total, status, when; opens the detail."""
    return rx.table.row(
        rx.table.row_header_cell(
            rx.link("#", row.number, on_click=on_open(row.id), cursor="pointer", weight="medium")
        ),
        rx.table.cell(rx.text(row.contact, size="2")),
        rx.table.cell(rx.text(row.summary, size="2", style=_TWO_LINES, max_width="24em")),
        rx.table.cell(rx.text(row.total, size="2", white_space="nowrap")),
        rx.table.cell(order_status_badge(row.status, row.status_label)),
        rx.table.cell(rx.text(row.created, size="2", color=_MUTED, white_space="nowrap")),
        align="center",
    )


def orders_table(rows: rx.Var[list], render_row: Callable[[rx.Var], rx.Component]):
    """The orders table with its header."""
    headers = ("Order", "Customer", "Items", "Total", "Status", "Placed")
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
        rx.table.body(rx.foreach(rows, render_row)),
        variant="surface",
        size="2",
        width="100%",
        aria_label="Orders",
    )


def order_line(line: rx.Var) -> rx.Component:
    """One line of an order: quantity, name, unit price, line total."""
    return rx.table.row(
        rx.table.cell(rx.text(line.quantity, " x ", line.name, size="2")),
        rx.table.cell(rx.text(line.unit_price, size="2", color=_MUTED, white_space="nowrap")),
        rx.table.cell(rx.text(line.line_total, size="2", white_space="nowrap"), text_align="right"),
    )


def import_error_item(error: rx.Var[str]) -> rx.Component:
    """One CSV row that was not imported, and why."""
    return rx.hstack(
        rx.icon("circle-x", size=14, color=rx.color("red", 10)),
        rx.text(error, size="2"),
        align="start",
        spacing="2",
    )
