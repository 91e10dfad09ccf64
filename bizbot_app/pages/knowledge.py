"""`/knowledge`: what the assistant knows, how to teach it more, and a retrieval tester."""

from __future__ import annotations

import reflex as rx

from bizbot_app.pages.shell import section_page
from bizbot_app.sections import BY_SLUG
from components.empty_state import empty_state
from components.knowledge import (
    form_error,
    labelled_textarea,
    pager,
    retrieval_hit_card,
    source_row,
    sources_table,
    upload_result_item,
    upload_zone,
)
from components.layout import labelled_field
from state.knowledge import (
    ACCEPTED_FILES,
    ACCEPTED_TEXT,
    MAX_UPLOAD_BYTES,
    UPLOAD_ID,
    KnowledgeState,
)

S = KnowledgeState
_MUTED = rx.color("gray", 11)


def _add_buttons() -> rx.Component:
    return rx.hstack(
        rx.button(rx.icon("circle-plus", size=16), "Add FAQ", on_click=S.new_faq),
        rx.button(rx.icon("clipboard-paste", size=16), "Paste text", variant="soft",
                  on_click=S.new_text),
        rx.button(rx.icon("upload", size=16), "Upload files", variant="soft",
                  on_click=S.open_upload),
        spacing="2",
        wrap="wrap",
    )  # fmt: skip


def _dialog_buttons(submit: str) -> rx.Component:
    return rx.hstack(
        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
        rx.button(submit, type="submit"),
        justify="end",
        spacing="3",
        width="100%",
    )


def _faq_dialog() -> rx.Component:
    form, errors = S.faq_form, S.faq_errors
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(S.faq_id == 0, "Add an FAQ", "Edit FAQ")),
            rx.dialog.description(
                "Write it once, in one language: customers asking in their own words and "
                "languages still find it.",
                size="2", color=_MUTED, margin_bottom="1em",
            ),
            rx.form(
                rx.vstack(
                    labelled_field("Question", "question", error=errors.get("question", ""),
                                   placeholder="Do you deliver on Sundays?",
                                   default_value=form.get("question", "")),
                    labelled_textarea("Answer", "answer", error=errors.get("answer", ""),
                                      placeholder="Yes, between 9am and 1pm, within 10 km.",
                                      default_value=form.get("answer", "")),
                    labelled_field("Category (optional)", "category", required=False,
                                   error=errors.get("category", ""), placeholder="Delivery",
                                   default_value=form.get("category", "")),
                    form_error(errors.get("form", "")),
                    _dialog_buttons(rx.cond(S.faq_id == 0, "Add FAQ", "Save changes")),
                    spacing="3",
                ),
                on_submit=S.save_faq,
                reset_on_submit=False,
                # Re-mount when another FAQ is opened so the default values show.
                key=S.faq_id,
            ),
            max_width="560px",
        ),
        open=S.faq_open,
        on_open_change=S.set_faq_open,
    )  # fmt: skip


def _text_dialog() -> rx.Component:
    errors = S.text_errors
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Paste text"),
            rx.dialog.description(
                "Policies, opening hours, a price list: anything a customer may ask about.",
                size="2", color=_MUTED, margin_bottom="1em",
            ),
            rx.form(
                rx.vstack(
                    labelled_field("Title", "title", error=errors.get("title", ""),
                                   placeholder="Returns policy"),
                    labelled_textarea("Text", "text", error=errors.get("text", ""), rows="12",
                                      placeholder="Paste or type the text here."),
                    form_error(errors.get("form", "")),
                    _dialog_buttons("Add text"),
                    spacing="3",
                ),
                on_submit=S.save_text,
                reset_on_submit=False,
            ),
            max_width="640px",
        ),
        open=S.text_open,
        on_open_change=S.set_text_open,
    )  # fmt: skip


def _upload_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Upload files"),
            rx.dialog.description(
                "Documents are read and split into passages. CSV, JSON and JSONL files with "
                "question and answer columns become one FAQ per row.",
                size="2", color=_MUTED, margin_bottom="1em",
            ),
            rx.vstack(
                upload_zone(
                    UPLOAD_ID,
                    accept=ACCEPTED_FILES,
                    max_size=MAX_UPLOAD_BYTES,
                    formats=f"{ACCEPTED_TEXT} · up to 20 MB each",
                    percent=S.upload_percent,
                    on_drop=S.receive_files(
                        rx.upload_files(upload_id=UPLOAD_ID, on_upload_progress=S.upload_progress)
                    ),
                    on_refused=S.files_refused,
                ),
                rx.cond(
                    S.upload_results.length() > 0,
                    rx.vstack(
                        rx.foreach(S.upload_results, upload_result_item),
                        spacing="3",
                        width="100%",
                        aria_label="Uploaded files",
                        aria_live="polite",
                    ),
                ),
                rx.hstack(
                    rx.dialog.close(rx.button("Done", variant="soft")),
                    justify="end",
                    width="100%",
                ),
                spacing="4",
            ),
            max_width="560px",
        ),
        open=S.upload_open,
        on_open_change=S.set_upload_open,
    )  # fmt: skip


def _delete_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete this source?"),
            rx.alert_dialog.description(
                "“", S.delete_title, "” and everything the assistant learned from it will be "
                "removed. This cannot be undone.",
                size="2",
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button("Delete", color_scheme="red", on_click=S.confirm_delete)
                ),
                justify="end",
                spacing="3",
                margin_top="1em",
            ),
            max_width="460px",
        ),
        open=S.delete_open,
        on_open_change=S.set_delete_open,
    )  # fmt: skip


def _sources_panel() -> rx.Component:
    table = sources_table(
        S.sources,
        lambda row: source_row(
            row,
            on_edit=lambda source_id: S.edit_faq(source_id),
            on_delete=lambda source_id, title: S.ask_delete(source_id, title),
        ),
    )
    return rx.vstack(
        rx.hstack(
            rx.input(
                rx.input.slot(rx.icon("search", size=16)),
                value=S.search,
                on_change=S.set_search,
                placeholder="Search questions, answers and texts",
                aria_label="Search knowledge",
                type="search",
                width="100%",
                max_width="360px",
            ),
            rx.spacer(),
            _add_buttons(),
            align="center",
            width="100%",
            wrap="wrap",
            spacing="3",
        ),
        rx.cond(
            S.in_flight_count > 0,
            rx.callout(
                rx.text(
                    "Reading and embedding ", S.in_flight_count,
                    rx.cond(S.in_flight_count == 1, " source", " sources"),
                    ". This list updates by itself; sources answer customers once Ready.",
                ),
                icon="loader", color_scheme="blue", size="1", width="100%",
            ),
        ),
        rx.cond(
            S.total > 0,
            rx.vstack(
                table,
                pager(S.range_label, has_prev=S.has_prev, has_next=S.has_next,
                      on_prev=S.turn_page(-1), on_next=S.turn_page(1)),
                spacing="3",
                width="100%",
            ),
            rx.center(
                rx.text("No sources match “", S.search, "”.", color=_MUTED),
                padding="3em 1em",
                width="100%",
                border=f"1px dashed {rx.color('gray', 6)}",
                border_radius="12px",
            ),
        ),
        spacing="4",
        width="100%",
    )  # fmt: skip


def _tester_panel() -> rx.Component:
    return rx.vstack(
        rx.text(
            "Ask a question the way a customer would, in any language, and see the passages "
            "the assistant would answer from, best first.",
            color=_MUTED, size="2",
        ),
        rx.form(
            rx.hstack(
                rx.input(
                    name="query", placeholder="Êtes-vous ouverts le dimanche ?",
                    aria_label="Customer question", required=True, size="3", flex="1",
                    auto_complete="off",
                ),
                rx.button(rx.icon("search", size=16), "Search", type="submit", size="3",
                          loading=S.searching),
                spacing="2",
                width="100%",
            ),
            on_submit=S.ask,
            reset_on_submit=False,
            width="100%",
        ),
        form_error(S.tester_error),
        rx.cond(
            S.searching,
            rx.hstack(rx.spinner(size="2"), rx.text("Searching your knowledge…", size="2"),
                      align="center", aria_live="polite"),
        ),
        rx.cond(
            S.hits.length() > 0,
            rx.vstack(
                rx.foreach(S.hits, retrieval_hit_card),
                spacing="3",
                width="100%",
                aria_label="Retrieved passages",
            ),
            rx.cond(
                S.searched & ~S.searching,
                empty_state(
                    "search-x",
                    "Nothing in your knowledge matches",
                    "Add an FAQ or a text that answers this question, then try again.",
                ),
            ),
        ),
        spacing="4",
        width="100%",
        max_width="860px",
    )  # fmt: skip


def knowledge_page() -> rx.Component:
    """Sources with live status, the forms that add them, and the retrieval tester."""
    section = BY_SLUG["knowledge"]
    tabs = rx.tabs.root(
        rx.tabs.list(
            rx.tabs.trigger(
                rx.hstack(
                    "Sources",
                    rx.badge(S.total, variant="soft", color_scheme="gray", radius="full"),
                    align="center", spacing="2",
                ),
                value="sources",
            ),
            rx.tabs.trigger("Test a question", value="test"),
        ),
        rx.tabs.content(_sources_panel(), value="sources", padding_top="1.25em"),
        rx.tabs.content(_tester_panel(), value="test", padding_top="1.25em"),
        default_value="sources",
        width="100%",
    )  # fmt: skip
    body = rx.box(
        _faq_dialog(),
        _text_dialog(),
        _upload_dialog(),
        _delete_dialog(),
        rx.cond(
            S.loaded,
            rx.cond(
                S.is_empty,
                empty_state(section.icon, section.empty_title, section.empty_text,
                            _add_buttons()),
                tabs,
            ),
            rx.center(rx.spinner(size="3"), padding="4em", aria_label="Loading"),
        ),
        width="100%",
    )  # fmt: skip
    return section_page("knowledge", body)
