"""`/conversations`: the live inbox: list, thread with composer, contact card."""

from __future__ import annotations

import reflex as rx

from bizbot_app.pages.shell import section_page
from components.inbox import (
    broadcasts_switch,
    channel_tag,
    contact_card,
    contact_match,
    conversation_row,
    message_bubble,
    priority_badge,
    sla_tag,
    status_badge,
)
from components.knowledge import form_error, labelled_textarea
from components.layout import labelled_field
from components.templates import template_picker_dialog
from state.conversations import (
    ATTACH_ID,
    CHANNEL_LABELS,
    PRIORITIES,
    STATUS_TABS,
    ConversationsState,
)
from state.templates import TemplatePickerState

S = ConversationsState
T = TemplatePickerState
_MUTED = rx.color("gray", 11)
_BORDER = f"1px solid {rx.color('gray', 5)}"
_PANE_HEIGHT = "calc(100vh - 250px)"
# Shown from the md breakpoint up only (hidden on phones): assets/bizbot.css.
_WIDE_ONLY = "bb-wide-only"


def _filters() -> rx.Component:
    return rx.hstack(
        rx.input(
            rx.input.slot(rx.icon("search", size=16)),
            value=S.search,
            on_change=S.set_search,
            debounce_timeout=300,
            placeholder="Search messages, names, emails, phones",
            aria_label="Search conversations",
            type="search",
            width="100%",
            max_width="320px",
        ),
        rx.select.root(
            rx.select.trigger(aria_label="Channel", placeholder="Channel"),
            rx.select.content(
                rx.select.item("All channels", value="all"),
                *[rx.select.item(label, value=kind) for kind, label in CHANNEL_LABELS.items()],
            ),
            value=S.channel,
            on_change=S.set_channel,
        ),
        rx.select.root(
            rx.select.trigger(aria_label="Assignee"),
            rx.select.content(
                rx.select.item("Anyone", value="anyone"),
                rx.select.item("Assigned to me", value="me"),
                rx.select.item("Unassigned", value="unassigned"),
            ),
            value=S.assignee,
            on_change=S.set_assignee,
        ),
        rx.select.root(
            rx.select.trigger(aria_label="Label"),
            rx.select.content(
                rx.select.item("All labels", value="all"),
                rx.foreach(S.labels_in_use, lambda label: rx.select.item(label, value=label)),
            ),
            value=S.label,
            on_change=S.set_label_filter,
        ),
        rx.el.label(
            rx.hstack(
                rx.switch(checked=S.unread_only, on_change=S.set_unread_only, size="1"),
                rx.text("Unread", size="2"),
                spacing="2",
                align="center",
            ),
        ),
        rx.cond(
            S.filtered,
            rx.button("Clear filters", variant="ghost", size="1", on_click=S.clear_filters),
        ),
        rx.spacer(),
        rx.cond(
            S.may_reply,
            rx.button(rx.icon("message-square-quote", size=15), "Canned responses",
                      variant="soft", on_click=S.open_canned),
        ),
        spacing="3",
        align="center",
        wrap="wrap",
        width="100%",
    )  # fmt: skip


def _tabs() -> rx.Component:
    def tab(value: str, label: str) -> rx.Component:
        return rx.tabs.trigger(
            rx.hstack(
                label,
                rx.badge(S.tab_badges[value], variant="soft", radius="full", color_scheme="gray",
                         custom_attrs={"data-testid": f"count-{value}"}),
                spacing="2", align="center",
            ),
            value=value,
        )  # fmt: skip

    return rx.tabs.root(
        rx.tabs.list(*[tab(v, label) for v, label in STATUS_TABS]),
        value=S.tab,
        on_change=S.set_tab,
        width="100%",
    )


def _list_pane() -> rx.Component:
    return rx.box(
        rx.cond(
            S.list_error != "",
            rx.callout(S.list_error, icon="circle-alert", color_scheme="red", margin="0.5em"),
        ),
        rx.cond(
            S.rows.length() > 0,
            rx.foreach(
                S.rows,
                lambda item: conversation_row(
                    item, selected=item.id == S.open_id, on_open=S.open_conversation(item.id)
                ),
            ),
            rx.center(
                rx.text(
                    rx.cond(S.filtered, "No conversation matches these filters.",
                            "No conversations here yet."),
                    size="2", color=_MUTED,
                ),
                padding="3em 1em",
            ),
        ),
        rx.cond(
            S.next_cursor != "",
            rx.center(
                rx.button("Load more", variant="soft", on_click=S.load_more, size="2"),
                padding="0.75em",
            ),
        ),
        height=_PANE_HEIGHT,
        overflow_y="auto",
        border=_BORDER,
        border_radius="12px",
        aria_label="Conversation list",
        role="region",
    )  # fmt: skip


def _action_button(action: str, label: str, icon: str, handler, color: str = "teal"):
    return rx.cond(
        S.status_actions.contains(action),
        rx.button(rx.icon(icon, size=14), label, size="1", variant="soft", color_scheme=color,
                  on_click=handler),
    )  # fmt: skip


def _assign_menu() -> rx.Component:
    return rx.select.root(
        rx.select.trigger(aria_label="Assign to", placeholder="Assign", variant="soft"),
        rx.select.content(
            rx.select.item("Unassigned", value="none"),
            rx.foreach(
                S.agents,
                lambda a: rx.select.item(
                    a.name, " (", a.availability, ", ", a.load, ")", value=a.user_id.to_string()
                ),
            ),
        ),
        value=rx.cond(S.header.assignee_id > 0, S.header.assignee_id.to_string(), "none"),
        on_change=S.assign_to,
        size="1",
    )


def _priority_menu() -> rx.Component:
    return rx.select.root(
        rx.select.trigger(aria_label="Priority", variant="soft"),
        rx.select.content(*[rx.select.item(p.capitalize(), value=p) for p in PRIORITIES]),
        value=S.header.priority,
        on_change=S.set_priority,
        size="1",
    )


def _thread_header() -> rx.Component:
    h = S.header
    actions = rx.cond(
        S.can_reply,
        rx.hstack(
            _action_button("take_over", "Take over", "hand", S.take_over),
            _action_button("hand_back", "Hand back to AI", "bot", S.hand_back, "violet"),
            _action_button("resolve", "Resolve", "circle-check", S.resolve, "grass"),
            _action_button("reopen", "Reopen", "rotate-ccw", S.reopen),
            _assign_menu(),
            _priority_menu(),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
    )
    return rx.vstack(
        rx.hstack(
            rx.vstack(
                rx.heading(h.contact_name, size="4", as_="h2",
                           custom_attrs={"data-testid": "thread-title"}),
                rx.hstack(
                    channel_tag(h.channel_icon, h.channel_label),
                    rx.box(status_badge(h.status, h.status_label),
                           custom_attrs={"data-testid": "thread-status"}),
                    priority_badge(h.priority),
                    rx.text(
                        rx.cond(h.assignee_name != "", h.assignee_name, "Unassigned"),
                        size="1", color=_MUTED, custom_attrs={"data-testid": "thread-assignee"},
                    ),
                    sla_tag(h.sla_state, h.sla_label),
                    spacing="2",
                    align="center",
                    wrap="wrap",
                ),
                spacing="1",
                flex="1",
                min_width="0",
            ),
            rx.tooltip(
                rx.icon_button(rx.icon("x", size=16), variant="ghost", color_scheme="gray",
                               on_click=S.close_conversation, aria_label="Close conversation"),
                content="Close",
            ),
            width="100%",
            align="start",
        ),
        actions,
        _labels_bar(),
        rx.hstack(
            rx.el.label(
                rx.hstack(
                    rx.switch(checked=S.translate_on, on_change=S.set_translate, size="1"),
                    rx.text("Translate", size="1"),
                    rx.cond(S.translating, rx.spinner(size="1")),
                    spacing="2",
                    align="center",
                ),
            ),
            rx.cond(S.translation_notice != "",
                    rx.text(S.translation_notice, size="1", color=rx.color("amber", 11),
                            role="status")),
            spacing="3",
            align="center",
            wrap="wrap",
        ),
        spacing="2",
        width="100%",
        padding_bottom="0.5em",
        border_bottom=_BORDER,
    )  # fmt: skip


def _labels_bar() -> rx.Component:
    removable = rx.foreach(
        S.header.labels,
        lambda label: rx.badge(
            label,
            rx.cond(
                S.can_reply,
                rx.icon("x", size=11, cursor="pointer", aria_label=f"Remove label {label}",
                        on_click=S.remove_label(label)),
            ),
            variant="outline", color_scheme="gray", radius="full",
        ),
    )  # fmt: skip
    return rx.flex(
        rx.icon("tag", size=13, color=_MUTED),
        removable,
        rx.cond(
            S.can_reply,
            rx.form(
                rx.hstack(
                    rx.input(name="label", placeholder="Add label", size="1", width="9em",
                             aria_label="New label", value=S.new_label,
                             on_change=S.set_new_label,
                             custom_attrs={"list": "label-choices"}),
                    rx.el.datalist(rx.foreach(S.labels_in_use,
                                              lambda x: rx.el.option(value=x)),
                                   id="label-choices"),
                    rx.icon_button(rx.icon("plus", size=12), size="1", variant="soft",
                                   type="submit", aria_label="Add label"),
                    spacing="1",
                ),
                on_submit=S.add_label,
                reset_on_submit=False,
                display="inline-block",
            ),
        ),
        gap="0.5em",
        align="center",
        wrap="wrap",
    )  # fmt: skip


def _attach_button() -> rx.Component:
    # The upload goes straight to the handler; the service checks size and type and says why.
    return rx.cond(
        ~S.note_mode,
        rx.upload.root(
            rx.tooltip(
                rx.icon_button(rx.icon("paperclip", size=15), size="1", variant="ghost",
                               type="button", aria_label="Attach a file",
                               disabled=S.send_blocked),
                content="Send a file (image, audio, video or document)",
            ),
            id=ATTACH_ID,
            multiple=False,
            disabled=S.send_blocked,
            no_drag=True,
            on_drop=S.attach_files(rx.upload_files(upload_id=ATTACH_ID)),
            custom_attrs={"data-testid": "attach"},
        ),
    )  # fmt: skip


def _send_template() -> rx.Component:
    """Outside WhatsApp's 24-hour window: the "Send a template" button and its picker."""
    return rx.cond(
        S.template_required & ~S.note_mode,
        rx.box(
            rx.button(rx.icon("file-text", size=14), "Send a template", size="1", type="button",
                      variant="soft", on_click=T.open_picker),
            template_picker_dialog(
                open=T.picker_open, labels=T.option_labels, selected_label=T.selected_label,
                header_rows=T.header_rows, value_rows=T.value_rows, preview=T.picker_preview,
                error=T.picker_error, on_open_change=T.set_picker_open, on_choose=T.choose,
                on_header_value=T.set_header_value, on_value=T.set_value, on_send=T.send,
            ),
        ),
    )  # fmt: skip


def _composer() -> rx.Component:
    suggestions = rx.cond(
        S.suggestions.length() > 0,
        rx.vstack(
            rx.foreach(
                S.suggestions,
                lambda c: rx.box(
                    rx.text(rx.text.strong("/", c.shortcut), " ", c.title, size="2"),
                    rx.text(c.preview, size="1", color=_MUTED),
                    on_click=S.pick_canned(c.id),
                    role="option",
                    cursor="pointer",
                    padding="0.4em 0.6em",
                    border_radius="6px",
                    _hover={"background": rx.color("accent", 3)},
                    custom_attrs={"data-testid": "canned-suggestion"},
                ),
            ),
            spacing="0",
            width="100%",
            role="listbox",
            aria_label="Canned responses",
            border=_BORDER,
            border_radius="8px",
            padding="0.25em",
            max_height="200px",
            overflow_y="auto",
        ),
    )
    window_notice = rx.cond(
        S.window_notice != "",
        rx.callout(
            S.window_notice,
            icon=rx.cond(S.window_open, "clock", "lock"),
            color_scheme=rx.cond(S.window_open, "amber", "red"),
            size="1",
            width="100%",
            role="status",
            custom_attrs={"data-testid": "reply-window"},
        ),
    )
    form = rx.form(
        rx.vstack(
            window_notice,
            _send_template(),
            suggestions,
            rx.text_area(
                id="composer-text",
                name="text",
                value=S.draft,
                on_change=S.set_draft,
                debounce_timeout=150,
                key=S.composer_key.to_string(),
                placeholder=rx.cond(
                    S.note_mode,
                    "Private note for your team (never sent to the customer)",
                    "Reply to the customer… type / for canned responses",
                ),
                aria_label=rx.cond(S.note_mode, "Private note", "Reply"),
                rows="3",
                width="100%",
                resize="vertical",
                background=rx.cond(S.note_mode, rx.color("amber", 2), "transparent"),
            ),
            rx.cond(S.composer_error != "",
                    rx.text(S.composer_error, color=rx.color("red", 11), size="2", role="alert")),
            rx.cond(S.draft_notice != "",
                    rx.text(S.draft_notice, size="1", color=_MUTED, role="status")),
            rx.hstack(
                rx.segmented_control.root(
                    rx.segmented_control.item("Reply", value="reply"),
                    rx.segmented_control.item("Private note", value="note"),
                    value=rx.cond(S.note_mode, "note", "reply"),
                    on_change=S.set_compose_mode,
                    size="1",
                ),
                _attach_button(),
                rx.cond(
                    S.translate_on & ~S.note_mode,
                    rx.button(rx.icon("languages", size=14), "Translate draft", size="1",
                              variant="ghost", type="button", on_click=S.translate_draft,
                              loading=S.translating),
                ),
                rx.spacer(),
                rx.button(
                    rx.cond(S.note_mode, rx.icon("lock", size=14), rx.icon("send", size=14)),
                    rx.cond(S.note_mode, "Add note", "Send"),
                    type="submit",
                    color_scheme=rx.cond(S.note_mode, "amber", "teal"),
                    disabled=S.send_blocked,
                ),
                width="100%",
                align="center",
            ),
            spacing="2",
            width="100%",
        ),
        on_submit=S.send,
        reset_on_submit=False,
        width="100%",
        aria_label="Composer",
    )  # fmt: skip
    return rx.cond(
        S.can_reply,
        form,
        rx.callout(S.viewer_reason, icon="eye", color_scheme="gray", size="1", width="100%"),
    )


def _thread_pane() -> rx.Component:
    messages = rx.auto_scroll(
        rx.cond(
            S.has_older,
            rx.center(rx.button("Load older messages", variant="ghost", size="1",
                                on_click=S.load_older)),
        ),
        rx.foreach(S.messages, message_bubble),
        display="flex",
        flex_direction="column",
        gap="0.6em",
        flex="1",
        min_height="0",
        padding="0.75em 0.25em",
        aria_label="Messages",
        role="log",
        aria_live="polite",
    )  # fmt: skip
    thread = rx.vstack(
        _thread_header(),
        messages,
        _composer(),
        spacing="2",
        height=_PANE_HEIGHT,
        width="100%",
    )
    return rx.box(
        rx.cond(
            S.thread_error != "",
            rx.callout(S.thread_error, icon="circle-alert", color_scheme="red", role="alert"),
            rx.cond(
                S.open_id > 0,
                thread,
                rx.center(
                    rx.vstack(
                        rx.icon("messages-square", size=28, color=_MUTED),
                        rx.text("Choose a conversation to read and reply.", color=_MUTED),
                        align="center",
                    ),
                    height=_PANE_HEIGHT,
                ),
            ),
        ),
        padding="0.75em",
        border=_BORDER,
        border_radius="12px",
        min_width="0",
        aria_label="Conversation",
        role="region",
    )


def _same_person() -> rx.Component:
    """Likely duplicates of the contact, and "merge with…" to find any other."""
    return rx.cond(
        S.can_reply,
        rx.vstack(
            rx.divider(),
            rx.cond(
                S.contact.duplicates.length() > 0,
                rx.vstack(
                    rx.text("Same person?", size="1", weight="bold", color=_MUTED),
                    rx.foreach(S.contact.duplicates,
                               lambda m: contact_match(m, S.choose_merge_from_card)),
                    spacing="1", width="100%", aria_label="Possible duplicates",
                ),
            ),
            rx.button(rx.icon("merge", size=14), "Merge with…", size="1", variant="outline",
                      on_click=S.set_merge_open(True)),
            spacing="2",
            width="100%",
            align="start",
        ),
    )  # fmt: skip


def _merge_dialog() -> rx.Component:
    confirm = rx.vstack(
        rx.text(
            "Merge ", rx.text.strong(S.merge_target.name), " into ", rx.text.strong(S.contact.name),
            "? Their channel ids, conversations, leads and orders move to ", S.contact.name,
            ", and ", S.merge_target.name, " is removed. This cannot be undone.",
            size="2",
        ),
        rx.hstack(
            rx.button("Back", variant="soft", color_scheme="gray", on_click=S.cancel_merge),
            rx.button("Merge contacts", color_scheme="red", on_click=S.confirm_merge),
            justify="end", width="100%",
        ),
        spacing="3",
        width="100%",
    )  # fmt: skip
    search = rx.vstack(
        rx.input(
            placeholder="Name, email or phone number",
            value=S.merge_search,
            on_change=S.set_merge_search,
            debounce_timeout=250,
            aria_label="Find the contact to merge",
            width="100%",
        ),
        rx.foreach(S.merge_results, lambda m: contact_match(m, S.choose_merge)),
        rx.cond(
            S.merge_searched & (S.merge_results.length() == 0),
            rx.text("No other contact matches.", size="2", color=_MUTED),
        ),
        spacing="2",
        width="100%",
        max_height="50vh",
        overflow_y="auto",
    )
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.text("Merge with ", S.contact.name)),
            rx.dialog.description(
                "The same person on another channel: find them, and everything of theirs "
                "moves to this contact.",
                size="2", color=_MUTED, margin_bottom="0.75em",
            ),
            rx.cond(S.merge_target.id > 0, confirm, search),
            rx.cond(S.merge_error != "",
                    rx.text(S.merge_error, color=rx.color("red", 11), size="2", role="alert")),
            max_width="480px",
        ),
        open=S.merge_open,
        on_open_change=S.set_merge_open,
    )  # fmt: skip


def _contact_pane() -> rx.Component:
    return rx.box(
        rx.cond(
            (S.open_id > 0) & (S.thread_error == ""),
            rx.vstack(
                contact_card(
                    S.contact,
                    lambda cid: S.open_conversation(cid),
                    broadcasts_switch(
                        S.contact, S.contact.opted_out, S.set_contact_receives_broadcasts
                    ),
                ),
                _same_person(),
                _merge_dialog(),
                spacing="2",
                width="100%",
            ),
        ),
        padding="0.75em",
        border=_BORDER,
        border_radius="12px",
        height=_PANE_HEIGHT,
        overflow_y="auto",
        display=["none", "none", "none", "block"],
    )


def _canned_row(c: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.text(rx.text.strong("/", c.shortcut), " ", c.title, size="2"),
            rx.text(c.preview, size="1", color=_MUTED),
            spacing="0",
            flex="1",
            min_width="0",
        ),
        rx.icon_button(rx.icon("pencil", size=14), variant="ghost", size="1",
                       aria_label="Edit /" + c.shortcut, on_click=S.edit_canned(c.id)),
        rx.icon_button(rx.icon("trash-2", size=14), variant="ghost", size="1", color_scheme="red",
                       aria_label="Delete /" + c.shortcut, on_click=S.delete_canned(c.id)),
        width="100%",
        align="center",
        padding="0.4em 0",
        border_bottom=_BORDER,
    )  # fmt: skip


def _canned_dialog() -> rx.Component:
    form, errors = S.canned_form, S.canned_errors
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Canned responses"),
            rx.dialog.description(
                "Saved replies your team inserts by typing /shortcut in the composer.",
                size="2", color=_MUTED, margin_bottom="1em",
            ),
            rx.text(S.canned_summary, size="1", color=_MUTED),
            rx.vstack(rx.foreach(S.canned, _canned_row), spacing="0", width="100%",
                      max_height="240px", overflow_y="auto"),
            rx.divider(margin_y="1em"),
            rx.heading(rx.cond(S.canned_edit_id == 0, "New canned response",
                               "Edit canned response"), size="3", as_="h3"),
            rx.form(
                rx.vstack(
                    labelled_field("Shortcut", "shortcut", error=errors.get("shortcut", ""),
                                   placeholder="opening-hours",
                                   default_value=form.get("shortcut", "")),
                    labelled_field("Title (optional)", "title", required=False,
                                   error=errors.get("title", ""), placeholder="Opening hours",
                                   default_value=form.get("title", "")),
                    labelled_textarea("Text", "content", error=errors.get("content", ""),
                                      placeholder="We are open Monday to Saturday, 7:00-19:00.",
                                      default_value=form.get("content", "")),
                    form_error(errors.get("form", "")),
                    rx.hstack(
                        rx.cond(S.canned_edit_id != 0,
                                rx.button("New instead", variant="ghost", type="button",
                                          on_click=S.new_canned)),
                        rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray",
                                                  type="button")),
                        rx.button(rx.cond(S.canned_edit_id == 0, "Add", "Save"), type="submit"),
                        justify="end",
                        spacing="3",
                        width="100%",
                    ),
                    spacing="3",
                ),
                on_submit=S.save_canned,
                reset_on_submit=False,
                key=S.canned_edit_id.to_string() + "-" + S.canned.length().to_string(),
            ),
            max_width="600px",
        ),
        open=S.canned_open,
        on_open_change=S.set_canned_open,
    )  # fmt: skip


def conversations_page() -> rx.Component:
    """The live inbox: filters and tabs, the list, the open thread and the contact card."""
    # On a phone the list and the open thread take turns (Close goes back to the list).
    when_closed = rx.cond(S.open_id > 0, _WIDE_ONLY, "")
    when_open = rx.cond(S.open_id > 0, "", _WIDE_ONLY)
    layout = rx.vstack(
        rx.box(_filters(), _tabs(), class_name=when_closed, width="100%"),
        rx.grid(
            rx.box(_list_pane(), class_name=when_closed, min_width="0"),
            rx.box(_thread_pane(), class_name=when_open, min_width="0"),
            _contact_pane(),
            columns=rx.breakpoints(initial="1fr", md="320px minmax(0, 1fr)",
                                   lg="340px minmax(0, 1fr) 260px"),
            spacing="3",
            width="100%",
        ),
        spacing="3",
        width="100%",
    )  # fmt: skip
    body = rx.box(
        _canned_dialog(),
        rx.cond(S.loaded, layout, rx.center(rx.spinner(size="3"), padding="4em")),
        width="100%",
    )
    return section_page("conversations", body, wide=True)
