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


def kpi_card(label: str, value: rx.Var, icon: str, hint: str | rx.Var = "") -> rx.Component:
    """A figure of the chosen range, with a short note under it."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.icon(icon, size=18, color=rx.color("accent", 10)),
                rx.text(label, size="2", color=rx.color("gray", 11)),
                spacing="2",
                align="center",
            ),
            rx.heading(value, size="6"),
            rx.cond(hint != "", rx.text(hint, size="1", color=rx.color("gray", 10))),
            spacing="1",
        ),
        width="100%",
        aria_label=label,
    )


def times_table(rows: rx.Var) -> rx.Component:
    """Median and 90th percentile of response and resolution times, AI next to people."""
    return rx.table.root(
        rx.table.header(
            rx.table.row(
                rx.table.column_header_cell(""),
                rx.table.column_header_cell("AI median"),
                rx.table.column_header_cell("AI p90"),
                rx.table.column_header_cell("People median"),
                rx.table.column_header_cell("People p90"),
            )
        ),
        rx.table.body(
            rx.foreach(
                rows,
                lambda r: rx.table.row(
                    rx.table.row_header_cell(r["label"]),
                    rx.table.cell(r["ai_median"]),
                    rx.table.cell(r["ai_p90"]),
                    rx.table.cell(r["human_median"]),
                    rx.table.cell(r["human_p90"]),
                ),
            )
        ),
        variant="surface",
        width="100%",
        aria_label="Response times",
    )


def question_row(text: rx.Var, count: rx.Var, action: rx.Component | None) -> rx.Component:
    """One unanswered question, how often it was asked, and what to do about it."""
    return rx.hstack(
        rx.badge(count, "\N{MULTIPLICATION SIGN}", variant="soft", color_scheme="amber"),
        rx.text(text, flex="1"),
        action if action is not None else rx.fragment(),
        align="center",
        spacing="3",
        width="100%",
        role="listitem",
    )
