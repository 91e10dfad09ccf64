"""`/leads`: the pipeline board (drag or "Move to…"), the list with filters and CSV export, and
the lead dialog (details, owner, notes, follow-up)."""

from __future__ import annotations

import reflex as rx

from bizbot_app.pages.shell import section_page
from components.knowledge import form_error, labelled_textarea, pager
from components.layout import labelled_field
from components.leads import kanban_column, lead_card, lead_row, leads_table
from state.leads import SOURCE_LABELS, STAGES, LeadsState

S = LeadsState
_MUTED = rx.color("gray", 11)
_SELECT_STYLE = {"padding": "0.5em", "border_radius": "6px", "width": "100%",
                 "border": f"1px solid {rx.color('gray', 7)}"}  # fmt: skip


def _card(card: rx.Var, index: rx.Var[int], stage: str) -> rx.Component:
    return lead_card(
        card,
        index,
        stages=STAGES,
        can_manage=S.can_manage,
        on_open=lambda lead_id: S.open_lead(lead_id),
        on_move=lambda lead_id, target: S.move_to(lead_id, target),
        on_drag_start=lambda lead_id: S.drag_start(lead_id),
        on_drop=lambda position: S.drop_at(stage, position),
    )


def _card_renderer(stage: str):
    return lambda card, index: _card(card, index, stage)


def _board() -> rx.Component:
    return rx.box(
        rx.hstack(
            *[
                kanban_column(
                    stage, label,
                    cards=S.cards.get(stage, []),
                    count=S.counts.get(stage, 0),
                    total=S.totals.get(stage, ""),
                    render_card=_card_renderer(stage),
                    on_drop_end=S.drop_at(stage, -1),
                )
                for stage, label in STAGES
            ],
            spacing="3",
            align="start",
            width="100%",
        ),
        overflow_x="auto",
        width="100%",
        padding_bottom="0.5em",
    )  # fmt: skip


def _filter_select(label: str, value, on_change, options: list[tuple[str, str]], extra=None):
    return rx.vstack(
        rx.text(label, size="1", color=_MUTED),
        rx.select.root(
            rx.select.trigger(aria_label=label, min_width="9em"),
            rx.select.content(
                *[rx.select.item(text, value=v) for v, text in options],
                *([extra] if extra is not None else []),
            ),
            value=value,
            on_change=on_change,
        ),
        spacing="1",
    )


def _list() -> rx.Component:
    owners = rx.foreach(S.members, lambda m: rx.select.item(m.name, value=m.id))
    return rx.vstack(
        rx.hstack(
            _filter_select("Stage", S.stage_filter, S.set_stage_filter,
                           [("all", "All stages"), *STAGES]),
            _filter_select("Owner", S.owner_filter, S.set_owner_filter,
                           [("all", "Anyone"), ("none", "Nobody")], owners),
            _filter_select("Source", S.source_filter, S.set_source_filter,
                           [("all", "All sources"), *SOURCE_LABELS.items()]),
            rx.vstack(
                rx.text("Search", size="1", color=_MUTED),
                rx.debounce_input(
                    rx.input(placeholder="Name, email, phone, notes…", value=S.search,
                             on_change=S.set_search,
                             aria_label="Search leads"),
                    debounce_timeout=300,
                ),
                spacing="1",
            ),
            rx.el.label(
                rx.hstack(rx.checkbox(checked=S.due_only, on_change=S.set_due_only),
                          rx.text("Follow-up due", size="2"), spacing="2", align="center"),
                padding_bottom="0.4em",
            ),
            rx.spacer(),
            rx.button(rx.icon("file-down", size=16), "Export CSV", variant="soft",
                      on_click=S.export_csv),
            align="end",
            spacing="3",
            wrap="wrap",
            width="100%",
        ),
        leads_table(S.rows, lambda card: lead_row(card, on_open=lambda i: S.open_lead(i))),
        pager(S.list_label, has_prev=S.has_prev, has_next=S.has_next,
              on_prev=S.turn(-1), on_next=S.turn(1)),
        spacing="3",
        width="100%",
    )  # fmt: skip


def _owner_select() -> rx.Component:
    return rx.vstack(
        rx.el.label("Owner", html_for="field-owner", font_size="0.875em", font_weight="500"),
        rx.el.select(
            rx.el.option("Nobody", value=""),
            rx.foreach(S.members, lambda m: rx.el.option(m.name, value=m.id)),
            id="field-owner",
            name="owner",
            default_value=S.form.get("owner", ""),
            style=_SELECT_STYLE,
        ),
        rx.cond(S.errors.get("owner", "") != "",
                rx.text(S.errors.get("owner", ""), color=rx.color("red", 11), size="2",
                        role="alert")),
        spacing="1",
        width="100%",
    )  # fmt: skip


def _lead_dialog() -> rx.Component:
    form, errors = S.form, S.errors
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(S.lead_id == 0, "New lead", "Lead details")),
            rx.dialog.description(
                rx.cond(S.lead_id == 0,
                        "Someone who may buy: a name, an email or a phone is enough.",
                        "Edit the lead; moves between stages are on the board."),
                size="2", color=_MUTED, margin_bottom="1em",
            ),
            rx.form(
                rx.vstack(
                    labelled_field("Name", "name", error=errors.get("name", ""),
                                   required=False, placeholder="Jane Doe",
                                   default_value=form.get("name", "")),
                    rx.hstack(
                        labelled_field("Email", "email", error=errors.get("email", ""),
                                       required=False, placeholder="jane@example.com",
                                       default_value=form.get("email", "")),
                        labelled_field("Phone", "phone", error=errors.get("phone", ""),
                                       required=False, placeholder="+254 700 000 000",
                                       default_value=form.get("phone", "")),
                        spacing="3", width="100%",
                    ),
                    rx.hstack(
                        labelled_field("Value", "value", error=errors.get("value", ""),
                                       required=False, placeholder="1200.00",
                                       default_value=form.get("value", "")),
                        _owner_select(),
                        spacing="3", width="100%",
                    ),
                    labelled_field("Next follow-up", "follow_up", type_="datetime-local",
                                   error=errors.get("follow_up", ""), required=False,
                                   default_value=form.get("follow_up", "")),
                    labelled_textarea("Interest", "interest", required=False, rows="2",
                                      error=errors.get("interest", ""),
                                      placeholder="What they want",
                                      default_value=form.get("interest", "")),
                    labelled_textarea("Notes", "notes", required=False, rows="3",
                                      error=errors.get("notes", ""),
                                      default_value=form.get("notes", "")),
                    rx.cond(
                        S.conversation_id != 0,
                        rx.link(rx.icon("messages-square", size=14), " Open the conversation",
                                href="/conversations?c=" + S.conversation_id.to(str)),
                    ),
                    form_error(errors.get("form", "")),
                    rx.hstack(
                        rx.cond(
                            S.can_delete & (S.lead_id != 0),
                            rx.button("Delete", type="button", color_scheme="red",
                                      variant="soft", on_click=S.set_delete_open(True)),
                        ),
                        rx.spacer(),
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray",
                                                  type="button")),
                        rx.cond(S.can_manage,
                                rx.button(rx.cond(S.lead_id == 0, "Add lead", "Save changes"),
                                          type="submit")),
                        spacing="3", width="100%",
                    ),
                    spacing="3",
                ),
                on_submit=S.save_lead,
                reset_on_submit=False,
                key=S.lead_id,
            ),
            max_width="620px",
        ),
        open=S.dialog_open,
        on_open_change=S.set_dialog_open,
    )  # fmt: skip


def _delete_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete this lead?"),
            rx.alert_dialog.description(
                "It disappears from the board, the list and exports. This cannot be undone.",
                size="2",
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button("Delete", color_scheme="red", on_click=S.confirm_delete)
                ),
                justify="end", spacing="3", margin_top="1em",
            ),
            max_width="460px",
        ),
        open=S.delete_open,
        on_open_change=S.set_delete_open,
    )  # fmt: skip


def _body() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.segmented_control.root(
                rx.segmented_control.item("Board", value="board"),
                rx.segmented_control.item("List", value="list"),
                value=S.view,
                on_change=S.set_view,
                aria_label="View",
            ),
            rx.spacer(),
            rx.cond(S.can_manage,
                    rx.button(rx.icon("circle-plus", size=16), "New lead", on_click=S.new_lead)),
            width="100%",
            align="center",
        ),
        rx.cond(S.view == "board", _board(), _list()),
        _lead_dialog(),
        _delete_dialog(),
        spacing="4",
        width="100%",
    )  # fmt: skip


def leads_page() -> rx.Component:
    """The Leads section: board, list and the lead dialog."""
    return section_page("leads", _body(), wide=True)
