"""Pieces of the Knowledge page: status badge, source row, upload zone, retrieval result card."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import reflex as rx
from reflex.vars import ArrayVar, ObjectVar

_MUTED = rx.color("gray", 11)
# At most two lines, then an ellipsis.
_TWO_LINES = {
    "display": "-webkit-box",
    "-webkit-line-clamp": "2",
    "-webkit-box-orient": "vertical",
    "overflow": "hidden",
}


def status_badge(status: rx.Var[str], label: rx.Var[str]) -> rx.Component:
    """Queued (grey), Embedding n/m (blue, spinning), Ready (green) or Failed (red)."""

    def badge(icon: rx.Component, color: str) -> rx.Component:
        return rx.badge(
            icon, label, color_scheme=color, variant="soft", size="2", white_space="nowrap"
        )

    return rx.match(
        status,
        ("pending", badge(rx.icon("clock", size=12), "gray")),
        ("embedding", badge(rx.spinner(size="1"), "blue")),
        ("ready", badge(rx.icon("circle-check", size=12), "grass")),
        ("failed", badge(rx.icon("circle-alert", size=12), "red")),
        badge(rx.icon("circle-help", size=12), "gray"),
    )


def _dash_if_empty(value: rx.Var[str]) -> rx.Component:
    return rx.cond(value != "", rx.text(value, size="2"), rx.text("—", size="2", color=_MUTED))


def source_row(
    row: rx.Var,
    *,
    on_edit: Callable[[rx.Var[int]], rx.event.EventSpec],
    on_delete: Callable[[rx.Var[int], rx.Var[str]], rx.event.EventSpec],
) -> rx.Component:
    """One source: its title and detail (and error), kind, category, language, status, actions."""
    return rx.table.row(
        rx.table.row_header_cell(
            rx.vstack(
                rx.text(row.title, weight="medium", size="2", style=_TWO_LINES),
                rx.cond(
                    row.detail != "",
                    rx.text(row.detail, size="1", color=_MUTED, style=_TWO_LINES),
                ),
                rx.cond(
                    row.error != "",
                    rx.text(row.error, size="1", color=rx.color("red", 11), role="alert"),
                ),
                spacing="1",
                max_width="28em",
            ),
        ),
        rx.table.cell(rx.badge(row.kind_label, variant="outline", color_scheme="gray")),
        rx.table.cell(_dash_if_empty(row.category)),
        rx.table.cell(_dash_if_empty(row.language)),
        rx.table.cell(status_badge(row.status, row.status_label)),
        rx.table.cell(
            rx.tooltip(rx.text(row.updated, size="2", white_space="nowrap"), content=row.updated_at)
        ),
        rx.table.cell(
            rx.hstack(
                rx.cond(
                    row.is_faq,
                    rx.icon_button(
                        rx.icon("pencil", size=15),
                        variant="ghost",
                        color_scheme="gray",
                        aria_label=f"Edit {row.title}",
                        title="Edit",
                        on_click=on_edit(row.id),
                    ),
                ),
                rx.icon_button(
                    rx.icon("trash-2", size=15),
                    variant="ghost",
                    color_scheme="red",
                    aria_label=f"Delete {row.title}",
                    title="Delete",
                    on_click=on_delete(row.id, row.title),
                ),
                spacing="3",
                justify="end",
            ),
        ),
        align="center",
    )


def sources_table(rows: rx.Var[list], render_row: Callable[[rx.Var], rx.Component]) -> rx.Component:
    """The sources table with its header."""
    headers = ("Source", "Kind", "Category", "Language", "Status", "Updated", "")
    return rx.table.root(
        rx.table.header(
            rx.table.row(*[rx.table.column_header_cell(h) for h in headers]),
        ),
        rx.table.body(rx.foreach(rows, render_row)),
        variant="surface",
        size="2",
        width="100%",
    )


def pager(
    label: rx.Var[str],
    *,
    has_prev: rx.Var[bool],
    has_next: rx.Var[bool],
    on_prev: rx.event.EventSpec,
    on_next: rx.event.EventSpec,
) -> rx.Component:
    """The range shown (`1-50 of 120`) with previous and next buttons."""
    return rx.hstack(
        rx.text(label, size="2", color=_MUTED, aria_live="polite"),
        rx.spacer(),
        rx.button(
            rx.icon("chevron-left", size=15), "Previous",
            variant="soft", color_scheme="gray", disabled=~has_prev, on_click=on_prev,
        ),
        rx.button(
            "Next", rx.icon("chevron-right", size=15),
            variant="soft", color_scheme="gray", disabled=~has_next, on_click=on_next,
        ),
        align="center",
        width="100%",
    )  # fmt: skip


def labelled_textarea(
    label: str,
    name: str,
    *,
    error: rx.Var[str] | str = "",
    placeholder: str = "",
    rows: str = "5",
    required: bool = True,
    default_value: rx.Var[str] | str | None = None,
) -> rx.Component:
    """A label, its text area and the error under it (like layout.labelled_field)."""
    field_id = f"field-{name}"
    return rx.vstack(
        rx.el.label(label, html_for=field_id, font_size="0.875em", font_weight="500"),
        rx.text_area(
            id=field_id,
            name=name,
            placeholder=placeholder,
            required=required,
            rows=rows,
            width="100%",
            size="3",
            resize="vertical",
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


def form_error(error: rx.Var[str]) -> rx.Component:
    """A form-wide error (one that names no field)."""
    return rx.cond(
        error != "",
        rx.callout(error, icon="circle-alert", color_scheme="red", role="alert", width="100%"),
    )


def upload_zone(
    upload_id: str,
    *,
    accept: dict[str, Sequence[str]],
    max_size: int,
    formats: str,
    percent: rx.Var[int],
    on_drop: rx.event.EventSpec,
    on_refused: Callable[[rx.Var], rx.event.EventSpec],
) -> rx.Component:
    """A drop zone that uploads at once; files the browser refuses go to `on_refused`.

    `on_refused` receives a list of `{"name": str, "codes": [str]}` (react-dropzone's codes,
    such as `file-invalid-type` and `file-too-large`).
    """

    def refused(rejections: rx.Var) -> rx.event.EventSpec:
        def summary(rejection: rx.Var) -> rx.Var:
            record = rejection.to(ObjectVar)
            errors = record["errors"].to(ArrayVar)
            return rx.Var.create(
                {
                    "name": record["file"].to(ObjectVar)["name"],
                    "codes": errors.map(lambda e: e.to(ObjectVar)["code"]),
                }
            )

        return on_refused(rejections.to(ArrayVar).map(summary))

    return rx.upload.root(
        rx.vstack(
            rx.center(
                rx.icon("cloud-upload", size=26, color=rx.color("accent", 11)),
                width="52px",
                height="52px",
                border_radius="full",
                background=rx.color("accent", 3),
            ),
            rx.text("Drop files here, or click to choose", weight="medium"),
            rx.text(formats, size="1", color=_MUTED, text_align="center"),
            rx.cond(
                (percent > 0) & (percent < 100),
                rx.hstack(
                    rx.spinner(size="1"),
                    rx.text("Uploading… ", percent, "%", size="2"),
                    align="center",
                ),
            ),
            align="center",
            spacing="2",
        ),
        id=upload_id,
        accept=accept,
        max_size=max_size,
        multiple=True,
        on_drop=on_drop,
        on_drop_rejected=refused,
        border=f"1.5px dashed {rx.color('gray', 7)}",
        border_radius="12px",
        padding="2em 1em",
        width="100%",
        cursor="pointer",
        drag_active_style={
            "border_color": rx.color("accent", 9),
            "background": rx.color("accent", 2),
        },
    )


def upload_result_item(result: rx.Var) -> rx.Component:
    """One uploaded file: accepted with what it became, or refused with why."""
    return rx.hstack(
        rx.cond(
            result.accepted,
            rx.icon("circle-check", size=16, color=rx.color("grass", 10), aria_label="Accepted"),
            rx.icon("circle-x", size=16, color=rx.color("red", 10), aria_label="Refused"),
        ),
        rx.vstack(
            rx.text(result.filename, size="2", weight="medium", word_break="break-all"),
            rx.text(
                result.message,
                size="2",
                color=rx.cond(result.accepted, _MUTED, rx.color("red", 11)),
            ),
            spacing="0",
        ),
        align="start",
        spacing="2",
        width="100%",
    )


def retrieval_hit_card(hit: rx.Var) -> rx.Component:
    """A ranked passage: rank, source, similarity, keyword match, and the text."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.badge("#", hit.rank, variant="solid", radius="full"),
                rx.badge(hit.kind_label, variant="outline", color_scheme="gray"),
                rx.text(hit.source_title, weight="medium", size="2", flex="1", min_width="0"),
                rx.cond(
                    hit.text_match,
                    rx.badge(
                        rx.icon("text-search", size=12), "Keyword match", color_scheme="violet"
                    ),
                ),
                rx.badge("Similarity ", hit.similarity_pct, "%", color_scheme="teal"),
                align="center",
                spacing="2",
                width="100%",
                wrap="wrap",
            ),
            rx.cond(
                hit.question != "",
                rx.text(rx.text.strong("Q: "), hit.question, size="2"),
            ),
            rx.text(hit.text, size="2", white_space="pre-wrap", color=rx.color("gray", 12)),
            rx.text(
                "Rank score ",
                hit.score,
                rx.cond(hit.language != "", rx.fragment(" · ", hit.language)),
                size="1",
                color=_MUTED,
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )
