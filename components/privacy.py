"""Pieces of the Privacy page: what is stored, the retention form, contacts with export/erase."""

from __future__ import annotations

import reflex as rx

STORED = [
    ("Messages", "Every message with your customers on every channel, with the AI's sources "
     "and your team's private notes. Kept until you delete the conversation, the contact is "
     "erased, or the retention period below purges it."),
    ("Contacts and channel ids", "Name, email and phone when given, and each channel's id "
     "for the person (WhatsApp number, Telegram or Messenger id, website visitor id)."),
    ("Files", "Images, voice notes and documents customers send, on BizBot's disk; deleted "
     "with their conversation or when the contact is erased."),
    ("Leads, orders and payments", "Leads until erased. Orders and payments are kept for "
     "accounting; erasing a contact removes the customer from them."),
    ("Raw webhook bodies", "What the channels sent, kept for audit and replay for "
     "WEBHOOK_RETENTION_DAYS (30 by default), then purged."),
    ("Audit log", "Who did what (logins, keys, exports, erasures), never editable; erasing a "
     "contact redacts their details inside it."),
    ("Outgoing webhooks", "The events sent to your own systems, with their answers."),
]  # fmt: skip


def _error(message: rx.Var[str]) -> rx.Component:
    return rx.cond(
        message != "",
        rx.callout(message, icon="circle-alert", color_scheme="red", size="1", role="alert"),
    )


def stored_card() -> rx.Component:
    """What BizBot stores, in plain words."""
    return rx.card(
        rx.vstack(
            rx.heading("What BizBot stores", size="4", as_="h2"),
            *[
                rx.box(rx.text(title, weight="bold", size="2"), rx.text(text, size="2"))
                for title, text in STORED
            ],
            spacing="3",
        ),
        width="100%",
    )


def retention_card(
    *, days: rx.Var[str], last_purge: rx.Var[str], error: rx.Var[str], on_save
) -> rx.Component:
    """The retention period: conversations idle longer are purged every hour."""
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Retention", size="4", as_="h2"),
                rx.text("Purge conversations (their messages and files) with no activity for "
                        "this many days. Leave empty to keep everything.", size="2"),
                rx.hstack(
                    rx.el.label("Days", html_for="retention-days", font_size="0.875em"),
                    rx.input(id="retention-days", name="days", type="number", min=1,
                             default_value=days, placeholder="off", width="8em", key=days),
                    rx.button("Save", type="submit"),
                    align="center",
                    spacing="3",
                ),
                rx.text(last_purge, size="1", color_scheme="gray"),
                _error(error),
                spacing="3",
            ),
            on_submit=on_save,
        ),
        width="100%",
    )  # fmt: skip


def _contact_row(c: rx.Var[dict], on_export, on_ask_erase) -> rx.Component:
    return rx.table.row(
        rx.table.cell(c["id"]),
        rx.table.cell(c["name"]),
        rx.table.cell(c["email"]),
        rx.table.cell(c["phone"]),
        rx.table.cell(c["conversations"]),
        rx.table.cell(
            rx.hstack(
                rx.button("Export (JSON download)", size="1", variant="soft",
                          on_click=on_export(c["id"])),
                rx.cond(
                    c["erased"] == "",
                    rx.button("Erase", size="1", variant="soft", color_scheme="red",
                              on_click=on_ask_erase(c["id"], c["name"])),
                    rx.badge("erased", color_scheme="gray"),
                ),
                spacing="2",
            )
        ),
    )  # fmt: skip


def contacts_card(
    *,
    matches: rx.Var[list[dict]],
    error: rx.Var[str],
    summary: rx.Var[str],
    erase_id: rx.Var[str],
    erase_label: rx.Var[str],
    on_search,
    on_export,
    on_ask_erase,
    on_erase,
    on_cancel,
) -> rx.Component:
    """Find a contact; export their data or erase them after typing ERASE."""
    confirm = rx.cond(
        erase_id != "",
        rx.callout(
            rx.form(
                rx.vstack(
                    rx.text("Erase contact ", erase_id, " (", erase_label, ")? Their messages "
                            "become [erased], files, channel ids and leads are deleted, orders "
                            "are kept without them. This cannot be undone.", weight="bold"),
                    rx.hstack(
                        rx.el.label("Type ERASE to confirm", html_for="erase-confirm",
                                    font_size="0.875em"),
                        rx.input(id="erase-confirm", name="confirm", auto_complete="off",
                                 width="10em"),
                        rx.button("Erase contact", type="submit", color_scheme="red"),
                        rx.button("Cancel", type="button", variant="soft", on_click=on_cancel),
                        align="center",
                        spacing="3",
                        wrap="wrap",
                    ),
                    spacing="2",
                ),
                on_submit=on_erase,
                reset_on_submit=True,
            ),
            icon="triangle-alert",
            color_scheme="red",
        ),
    )  # fmt: skip
    return rx.card(
        rx.vstack(
            rx.heading("A customer's data", size="4", as_="h2"),
            rx.text("Answer a request to see or delete someone's data.", size="2"),
            rx.form(
                rx.hstack(
                    rx.el.label("Search contacts", html_for="privacy-query", font_size="0.875em"),
                    rx.input(id="privacy-query", name="query",
                             placeholder="name, email, phone or id", width="20em"),
                    rx.button("Search", type="submit", variant="soft"),
                    align="center",
                    spacing="3",
                ),
                on_submit=on_search,
            ),
            _error(error),
            rx.cond(summary != "", rx.callout(summary, icon="check", color_scheme="green")),
            confirm,
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[rx.table.column_header_cell(h) for h in
                          ("Id", "Name", "Email", "Phone", "Conversations", "")]
                    )
                ),
                rx.table.body(
                    rx.foreach(matches, lambda c: _contact_row(c, on_export, on_ask_erase))
                ),
                variant="surface",
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )  # fmt: skip
