"""Pieces of the Leads page: the kanban column, the lead card (draggable, with a "Move to…"
menu) and the list's row. Native HTML5 drag and drop; no backend imports."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx
from reflex.event import no_args_event_spec

_MUTED = rx.color("gray", 11)
# Dragging over an element must cancel the default, or the browser refuses the drop there.
_ALLOW_DROP = rx.Var("((e) => e.preventDefault())")
# Firefox only starts a drag that carries data.
_DRAG_DATA = rx.Var("((e) => e.dataTransfer.setData('text/plain', 'lead'))")


class DragArea(rx.el.Div):
    """A div with the HTML5 drag and drop events Reflex's elements leave out."""

    on_drag_start: rx.EventHandler[no_args_event_spec]
    on_drag_end: rx.EventHandler[no_args_event_spec]
    on_drop: rx.EventHandler[no_args_event_spec]


def lead_card(
    card: rx.Var,
    index: rx.Var[int],
    *,
    stages: list[tuple[str, str]],
    can_manage: rx.Var[bool],
    on_open: Callable[[rx.Var], rx.event.EventSpec],
    on_move: Callable[[rx.Var, str], rx.event.EventSpec],
    on_drag_start: Callable[[rx.Var], rx.event.EventSpec],
    on_drop: Callable[[rx.Var], rx.event.EventSpec],
) -> rx.Component:
    """One lead on the board: who, value, owner, follow-up; drag it or use "Move to…"."""
    menu = rx.dropdown_menu.root(
        rx.dropdown_menu.trigger(
            rx.button("Move to…", size="1", variant="soft", color_scheme="gray",
                      aria_label="Move to…"),
        ),
        rx.dropdown_menu.content(
            *[
                rx.cond(
                    card.stage != stage,
                    rx.dropdown_menu.item(label, on_select=on_move(card.id, stage)),
                )
                for stage, label in stages
            ],
        ),
    )  # fmt: skip
    body = rx.vstack(
        rx.link(
            rx.text(card.title, weight="medium", size="2"),
            href="#",
            on_click=[rx.prevent_default, on_open(card.id)],
            aria_label=f"Open lead {card.title}",
            underline="hover",
            color_scheme="gray",
            high_contrast=True,
        ),
        rx.cond(card.value != "", rx.text(card.value, size="2", weight="bold")),
        rx.cond(card.owner != "", rx.text("Owner: ", card.owner, size="1", color=_MUTED)),
        rx.cond(
            card.follow_up != "",
            rx.badge(
                rx.icon("alarm-clock", size=12),
                card.follow_up,
                color_scheme=rx.cond(card.due, "red", "gray"),
                variant="soft",
            ),
        ),
        rx.hstack(
            rx.badge(card.source_label, variant="outline", color_scheme="gray"),
            rx.spacer(),
            rx.cond(can_manage, menu),
            width="100%",
            align="center",
        ),
        spacing="1",
        width="100%",
    )
    return DragArea.create(
        rx.card(body, size="1", width="100%"),
        draggable=can_manage,
        on_drag_start=on_drag_start(card.id),
        on_drop=[rx.stop_propagation, on_drop(index)],
        custom_attrs={
            "onDragOver": _ALLOW_DROP,
            "onDragStartCapture": _DRAG_DATA,
            "data-lead-id": card.id,
            "role": "listitem",
            "aria-label": card.title,
        },
        cursor=rx.cond(can_manage, "grab", "default"),
        width="100%",
    )


def kanban_column(
    stage: str,
    label: str,
    *,
    cards: rx.Var[list],
    count: rx.Var[int],
    total: rx.Var[str],
    render_card: Callable[[rx.Var, rx.Var[int]], rx.Component],
    on_drop_end: rx.event.EventSpec,
) -> rx.Component:
    """One stage of the board: its title, how many and their value, and the cards; a card
    dropped on the column's free space goes to its end."""
    return DragArea.create(
        rx.vstack(
            rx.hstack(
                rx.heading(label, size="3", as_="h2"),
                rx.badge(count, variant="soft", id=f"count-{stage}"),
                rx.spacer(),
                rx.text(total, size="2", color=_MUTED, id=f"total-{stage}"),
                width="100%",
                align="center",
            ),
            rx.vstack(
                rx.foreach(cards, render_card),
                rx.cond(count == 0, rx.text("Drop a lead here", size="1", color=_MUTED)),
                spacing="2",
                width="100%",
                role="list",
                aria_label=f"{label} leads",
            ),
            spacing="3",
            width="100%",
            min_height="12em",
        ),
        on_drop=on_drop_end,
        custom_attrs={
            "onDragOver": _ALLOW_DROP,
            "role": "region",
            "aria-label": label,
            "data-stage": stage,
        },
        background=rx.color("gray", 2),
        border=f"1px solid {rx.color('gray', 5)}",
        border_radius="8px",
        padding="0.75em",
        min_width="220px",
        flex="1",
    )


def lead_row(card: rx.Var, *, on_open: Callable[[rx.Var], rx.event.EventSpec]) -> rx.Component:
    """One lead in the list view."""
    return rx.table.row(
        rx.table.cell(
            rx.link(card.title, href="#", on_click=[rx.prevent_default, on_open(card.id)])
        ),
        rx.table.cell(card.stage_label),
        rx.table.cell(card.value),
        rx.table.cell(card.owner),
        rx.table.cell(
            rx.cond(card.due, rx.text(card.follow_up, color=rx.color("red", 11)), card.follow_up)
        ),
        rx.table.cell(card.source_label),
        rx.table.cell(rx.text(card.email), rx.text(card.phone, size="1", color=_MUTED)),
    )


def leads_table(rows: rx.Var[list], render_row: Callable[[rx.Var], rx.Component]) -> rx.Component:
    """The list view's table."""
    headers = ("Lead", "Stage", "Value", "Owner", "Follow-up", "Source", "Contact")
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
        rx.table.body(rx.foreach(rows, render_row)),
        width="100%",
        variant="surface",
    )
