"""`/templates`: WhatsApp message templates, their review by Meta, and a live preview."""

from __future__ import annotations

import reflex as rx

from bizbot_app.pages.shell import section_page
from components.templates import field_error, labelled_select, template_card, whatsapp_preview
from state.templates import BroadcastsState, TemplatesState

S = TemplatesState
B = BroadcastsState
_MUTED = rx.color("gray", 11)


def _label(text: str, html_for: str) -> rx.Component:
    return rx.el.label(text, html_for=html_for, font_size="0.875em", font_weight="500")


def _text_field(label: str, field: str, value, *, placeholder: str = "") -> rx.Component:
    return rx.vstack(
        _label(label, f"template-{field}"),
        rx.input(
            id=f"template-{field}", value=value, placeholder=placeholder, width="100%",
            on_change=lambda v: S.set_field(field, v),
        ),
        field_error(S.errors[field]),
        spacing="1", width="100%",
    )  # fmt: skip


def _example(row: rx.Var, handler) -> rx.Component:
    return rx.hstack(
        rx.text(row.label, size="2", width="3em"),
        rx.input(
            value=row.value, placeholder="Example", width="100%",
            aria_label="Example for " + row.label,
            on_change=lambda v: handler(row.index, v),
        ),
        width="100%", align="center",
    )  # fmt: skip


def _button_row(row: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.badge(row.type_label, variant="soft"),
            rx.input(
                value=row.text, placeholder="Button label", width="100%",
                aria_label="Button label", on_change=lambda v: S.set_button_text(row.index, v),
            ),
            rx.cond(
                row.type != "quick_reply",
                rx.input(
                    value=row.value, width="100%",
                    placeholder=rx.cond(row.type == "url", "https://…", "+254700000001"),
                    on_change=lambda v: S.set_button_value(row.index, v),
                ),
            ),
            rx.icon_button(
                rx.icon("x", size=14), size="1", variant="ghost", aria_label="Remove button",
                on_click=S.remove_button(row.index),
            ),
            width="100%", align="center",
        ),
        field_error(S.errors["buttons." + row.index.to_string()]),
        width="100%", spacing="1",
    )  # fmt: skip


def _form() -> rx.Component:
    fields = rx.vstack(
        rx.heading(S.form_title, size="4", as_="h3"),
        _text_field("Name", "name", S.name, placeholder="order_ready"),
        rx.hstack(
            rx.vstack(
                _label("Language", "template-language"),
                rx.input(id="template-language", value=S.language, placeholder="en_US",
                         on_change=lambda v: S.set_field("language", v)),
                field_error(S.errors["language"]),
                spacing="1",
            ),
            rx.vstack(
                _label("Category", "template-category"),
                rx.select(["marketing", "utility", "authentication"], value=S.category,
                          on_change=lambda v: S.set_field("category", v),
                          id="template-category"),
                field_error(S.errors["category"]),
                spacing="1",
            ),
            spacing="4",
        ),
        _text_field("Header (optional)", "header_text", S.header_text,
                    placeholder="Order {{1}}"),
        rx.foreach(S.header_example_rows, lambda r: _example(r, S.set_header_example)),
        field_error(S.errors["header_examples"]),
        rx.vstack(
            _label("Body", "template-body"),
            rx.text_area(
                id="template-body", value=S.body, rows="5", width="100%",
                placeholder="Hi {{1}}, your order {{2}} is ready for pickup.",
                on_change=lambda v: S.set_field("body", v),
            ),
            rx.text("Variables are {{1}}, {{2}}, … in order; give an example for each.",
                    size="1", color=_MUTED),
            field_error(S.errors["body"]),
            spacing="1", width="100%",
        ),
        rx.foreach(S.body_example_rows, lambda r: _example(r, S.set_body_example)),
        field_error(S.errors["body_examples"]),
        _text_field("Footer (optional)", "footer", S.footer),
        rx.vstack(
            _label("Buttons", "template-buttons"),
            rx.foreach(S.button_rows, _button_row),
            rx.hstack(
                rx.button("+ Quick reply", size="1", variant="soft",
                          on_click=S.add_button("quick_reply")),
                rx.button("+ Link", size="1", variant="soft", on_click=S.add_button("url")),
                rx.button("+ Call", size="1", variant="soft",
                          on_click=S.add_button("phone_number")),
                spacing="2",
            ),
            field_error(S.errors["buttons"]),
            spacing="2", width="100%",
        ),
        field_error(S.errors["form"]),
        rx.hstack(
            rx.button("Save draft", on_click=S.save),
            rx.button("Cancel", variant="soft", color_scheme="gray", on_click=S.close_form),
            spacing="2",
        ),
        spacing="3", width="100%",
    )  # fmt: skip
    preview = rx.vstack(
        rx.text("Preview", weight="medium", size="2"),
        whatsapp_preview(S.preview, S.preview_buttons),
        width="100%",
    )
    return rx.card(
        rx.flex(
            rx.box(fields, flex="1", min_width="280px"),
            rx.box(preview, flex="1", min_width="260px"),
            gap="5",
            wrap="wrap",
        ),
        width="100%",
    )


_RECIPIENT_COLORS = {"failed": "red", "opted_out": "gray", "read": "green",
                     "delivered": "green", "sent": "blue", "queued": "amber"}  # fmt: skip


def _recipient_row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(r.name),
        rx.table.cell(
            rx.badge(r.status_label, color_scheme=rx.match(
                r.status, *_RECIPIENT_COLORS.items(), "gray"), variant="soft",
                data_testid="recipient-status"),
        ),
        rx.table.cell(rx.text(r.error, size="1", color=_MUTED)),
        data_testid="broadcast-recipient",
    )  # fmt: skip


def _broadcast_row(row: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text(row.name, weight="bold"),
                rx.badge(row.status, variant="soft"),
                rx.spacer(),
                rx.text(row.summary, size="2", color=_MUTED, data_testid="broadcast-summary"),
                width="100%", wrap="wrap",
            ),
            rx.table.root(
                rx.table.header(rx.table.row(
                    rx.table.column_header_cell("Contact"),
                    rx.table.column_header_cell("Status"),
                    rx.table.column_header_cell(""),
                )),
                rx.table.body(rx.foreach(row.recipients, _recipient_row)),
                size="1", width="100%",
            ),
            rx.cond(
                row.shown_label != "",
                rx.hstack(
                    rx.text(row.shown_label, size="1", color=_MUTED,
                            data_testid="broadcast-shown"),
                    rx.cond(
                        row.can_show_more,
                        rx.button("Show more", size="1", variant="ghost",
                                  on_click=B.show_more_recipients(row.id)),
                    ),
                    align="center", spacing="2",
                ),
            ),
            spacing="2", width="100%",
        ),
        width="100%", data_testid="broadcast-card",
    )  # fmt: skip


def _broadcasts() -> rx.Component:
    form = rx.card(
        rx.vstack(
            rx.heading("Broadcast an approved template", size="4", as_="h2"),
            rx.text("To every contact on your WhatsApp number with a conversation label and/or "
                    "a lead stage. Contacts who opted out (they wrote STOP, or an agent opted "
                    "them out) are skipped; messages go out at most 20 a second.",
                    size="2", color=_MUTED),
            rx.hstack(
                labelled_select(B.choice_labels, value=B.b_template, label="Template",
                                on_change=lambda v: B.set_b("b_template", v)),
                rx.input(value=B.b_name, placeholder="Broadcast name", aria_label="Broadcast name",
                         on_change=lambda v: B.set_b("b_name", v)),
                rx.input(value=B.b_label, placeholder="Label (optional)", aria_label="Label",
                         on_change=lambda v: B.set_b("b_label", v)),
                labelled_select(["any", "new", "contacted", "qualified", "won", "lost"],
                                value=rx.cond(B.b_stage != "", B.b_stage, "any"),
                                on_change=lambda v: B.set_b("b_stage", v), label="Lead stage"),
                labelled_select(B.channel_labels, value=B.b_channel, label="WhatsApp number",
                                on_change=lambda v: B.set_b("b_channel", v)),
                wrap="wrap", spacing="2",
            ),
            rx.cond(B.b_preview != "",
                    rx.text(B.b_preview, size="2", data_testid="broadcast-preview")),
            rx.foreach(B.b_header_rows, lambda r: _example(r, B.set_b_header_value)),
            rx.foreach(B.b_value_rows, lambda r: _example(r, B.set_b_value)),
            field_error(B.b_error),
            rx.cond(B.b_notice != "", rx.text(B.b_notice, size="2")),
            rx.button(rx.icon("megaphone", size=16), "Send broadcast",
                      on_click=B.start_broadcast, loading=B.b_starting),
            spacing="3", width="100%",
        ),
        width="100%",
    )  # fmt: skip
    return rx.vstack(
        form,
        rx.foreach(B.broadcasts, _broadcast_row),
        width="100%",
        spacing="3",
        on_mount=B.load_broadcasts,
    )


def _body() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Message templates", size="6", as_="h2"),
            rx.spacer(),
            rx.button(rx.icon("refresh-cw", size=16), "Sync now", variant="soft",
                      on_click=S.sync_now, loading=S.busy),
            rx.button(rx.icon("circle-plus", size=16), "New template", on_click=S.new_template),
            width="100%", align="center", wrap="wrap",
        ),
        rx.text(
            "Outside WhatsApp's 24-hour window only a template Meta approved can reach a "
            "customer. Write one, submit it, and BizBot tells you when Meta decides.",
            size="2", color=_MUTED,
        ),
        rx.cond(S.notice != "", rx.callout(S.notice, icon="info", size="1")),
        rx.cond(S.error != "",
                rx.callout(S.error, icon="triangle-alert", color_scheme="red", size="1")),
        rx.cond(S.form_open, _form()),
        rx.cond(
            S.rows.length() > 0,
            rx.vstack(
                rx.foreach(
                    S.rows,
                    lambda row: template_card(
                        row, can_manage=S.section_allowed, on_edit=S.edit_template,
                        on_submit=S.submit, on_delete=S.delete, busy=S.busy,
                    ),
                ),
                width="100%", spacing="3",
            ),
            rx.cond(~S.form_open,
                    rx.text("No templates yet: create your first one.", color=_MUTED)),
        ),
        _broadcasts(),
        spacing="4", width="100%",
    )  # fmt: skip


def templates_page() -> rx.Component:
    """The Templates section."""
    return section_page("templates", _body(), wide=True)
