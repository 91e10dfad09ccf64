"""Payment provider cards for the Integrations page: status, test result and actions."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

_MUTED = rx.color("gray", 11)


def credential_input(field: rx.Var) -> rx.Component:
    """One credential input of the add form (a password box: secrets are never shown)."""
    return rx.vstack(
        rx.el.label(field.label, html_for="cred-" + field.name.to(str), font_size="0.875em",
                    font_weight="500"),
        rx.input(id="cred-" + field.name.to(str), name="cred_" + field.name.to(str),
                 type="password", required=field.required, auto_complete="off", width="100%",
                 size="3"),
        spacing="1",
        width="100%",
    )  # fmt: skip


def provider_card(
    row: rx.Var,
    *,
    result: rx.Var[str],
    ok: rx.Var[bool],
    testing: rx.Var[bool],
    on_test: Callable[[rx.Var[int]], rx.event.EventSpec],
    on_toggle: Callable[[rx.Var[int], rx.Var[bool]], rx.event.EventSpec],
    on_remove: Callable[[rx.Var[int], rx.Var[str]], rx.event.EventSpec],
) -> rx.Component:
    """A connected provider: name, mode, currencies, keys set, webhook URL, test and switch."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(row.label, size="3", as_="h3"),
                rx.cond(row.is_test_mode, rx.badge("Test mode", color_scheme="amber"),
                        rx.badge("Live", color_scheme="grass")),
                rx.spacer(),
                rx.switch(checked=row.is_enabled, on_change=lambda v: on_toggle(row.id, v),
                          aria_label=row.label.to(str) + " enabled"),
                align="center", width="100%",
            ),
            rx.text("Currencies: ", row.currencies, size="2", color=_MUTED),
            rx.cond(row.keys_set != "", rx.text("Keys set: ", row.keys_set, size="2",
                                                color=_MUTED)),
            rx.cond(row.missing != "", rx.text("Missing: ", row.missing, size="2",
                                               color=rx.color("red", 11))),
            rx.hstack(rx.text("Webhook URL", size="2", weight="medium"),
                      rx.code(row.webhook_url, size="1", word_break="break-all"),
                      align="center", spacing="2", wrap="wrap"),
            rx.cond(
                result != "",
                rx.callout(result, icon=rx.cond(ok, "circle-check", "circle-alert"),
                           color_scheme=rx.cond(ok, "grass", "red"), size="1", width="100%",
                           role="status"),
            ),
            rx.hstack(
                rx.button(rx.icon("plug-zap", size=15), "Test connection", variant="soft",
                          loading=testing, on_click=on_test(row.id)),
                rx.button(rx.icon("trash-2", size=15), "Remove", variant="soft",
                          color_scheme="red", on_click=on_remove(row.id, row.label)),
                spacing="2",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        aria_label=row.label.to(str) + " payment provider",
    )  # fmt: skip


def payment_providers_section(
    rows: rx.Var[list],
    render: Callable[[rx.Var], rx.Component],
    *,
    on_add: rx.event.EventSpec,
    on_mount: rx.event.EventSpec,
    dialogs: rx.Component,
) -> rx.Component:
    """The "Payment providers" section: one card per connected account and an Add button."""
    return rx.vstack(
        dialogs,
        rx.hstack(
            rx.vstack(
                rx.heading("Payment providers", size="5", as_="h2"),
                rx.text("Customers pay your orders' payment links through these accounts. A "
                        "provider is switched on once its connection test succeeds.",
                        size="2", color=_MUTED),
                spacing="1",
            ),
            rx.spacer(),
            rx.button(rx.icon("circle-plus", size=16), "Add payment provider", on_click=on_add),
            width="100%", align="center", wrap="wrap",
        ),
        rx.cond(
            rows.length() > 0,
            rx.grid(rx.foreach(rows, render), columns=rx.breakpoints(initial="1", md="2"),
                    spacing="3", width="100%"),
            rx.text("No payment provider yet: add one so orders from the chat can be paid.",
                    size="2", color=_MUTED),
        ),
        spacing="3",
        width="100%",
        on_mount=on_mount,
    )  # fmt: skip
