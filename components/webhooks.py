"""Pieces of the Webhooks page: the endpoint form and table, the deliveries and their attempts."""

from __future__ import annotations

import reflex as rx


def _error(message: rx.Var[str]) -> rx.Component:
    return rx.cond(
        message != "",
        rx.callout(message, icon="circle-alert", color_scheme="red", size="1", role="alert"),
    )


def secret_callout(secret: rx.Var[str], url: rx.Var[str], on_hide) -> rx.Component:
    """The signing secret of a new (or rotated) endpoint, shown this once."""
    return rx.cond(
        secret != "",
        rx.callout(
            rx.vstack(
                rx.text("Signing secret for ", rx.code(url),
                        ": copy it now, it is not shown again.", weight="bold"),
                rx.code(secret, aria_label="Signing secret"),
                rx.button("I have copied it", size="1", variant="soft", on_click=on_hide),
                spacing="2",
            ),
            icon="key-round",
            color_scheme="green",
        ),
    )  # fmt: skip


def endpoint_form(*, event_types: rx.Var[list[str]], error: rx.Var[str], on_add) -> rx.Component:
    """URL, description and the events to send."""
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Add an endpoint", size="4", as_="h2"),
                rx.text("BizBot POSTs each chosen event as signed JSON to your URL (https).",
                        size="2"),
                rx.hstack(
                    rx.el.label("URL", html_for="webhook-url", font_size="0.875em"),
                    rx.input(id="webhook-url", name="url", placeholder="https://example.com/hooks",
                             width="28em", required=True),
                    rx.el.label("Description", html_for="webhook-description",
                                font_size="0.875em"),
                    rx.input(id="webhook-description", name="description",
                             placeholder="e.g. CRM", width="14em"),
                    align="center",
                    spacing="3",
                    wrap="wrap",
                ),
                rx.hstack(
                    rx.foreach(
                        event_types,
                        lambda e: rx.el.label(rx.el.input(type="checkbox", name="event-" + e),
                                              " ", e, font_size="0.875em"),
                    ),
                    spacing="4",
                    wrap="wrap",
                ),
                _error(error),
                rx.button("Add endpoint", type="submit"),
                spacing="3",
            ),
            on_submit=on_add,
            reset_on_submit=True,
        ),
        width="100%",
    )  # fmt: skip


def _endpoint_row(e: rx.Var[dict], on_test, on_rotate, on_toggle, on_delete) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(e["url"])),
        rx.table.cell(e["events"]),
        rx.table.cell(rx.code(e["secret_hint"])),
        rx.table.cell(
            rx.vstack(
                rx.badge(e["status"], color_scheme=rx.cond(e["status"] == "on", "green", "gray")),
                rx.text(e["reason"], size="1", color_scheme="gray"),
                spacing="1",
            )
        ),
        rx.table.cell(e["last_success"]),
        rx.table.cell(
            rx.hstack(
                rx.button("Send test", size="1", variant="soft", on_click=on_test(e["id"])),
                rx.button("Rotate secret", size="1", variant="soft",
                          on_click=on_rotate(e["id"])),
                rx.cond(
                    e["status"] == "on",
                    rx.button("Disable", size="1", variant="soft", color_scheme="orange",
                              on_click=on_toggle(e["id"], False)),
                    rx.button("Enable", size="1", variant="soft", color_scheme="green",
                              on_click=on_toggle(e["id"], True)),
                ),
                rx.button("Delete", size="1", variant="soft", color_scheme="red",
                          on_click=on_delete(e["id"])),
                spacing="2",
                wrap="wrap",
            )
        ),
    )  # fmt: skip


def endpoints_table(
    *, endpoints: rx.Var[list[dict]], on_test, on_rotate, on_toggle, on_delete
) -> rx.Component:
    """The business's endpoints with their actions."""
    return rx.card(
        rx.vstack(
            rx.heading("Endpoints", size="4", as_="h2"),
            rx.cond(
                endpoints.length() > 0,
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            *[rx.table.column_header_cell(h) for h in
                              ("URL", "Events", "Secret", "Status", "Last success", "")]
                        )
                    ),
                    rx.table.body(
                        rx.foreach(endpoints, lambda e: _endpoint_row(
                            e, on_test, on_rotate, on_toggle, on_delete))
                    ),
                    variant="surface",
                    width="100%",
                ),
                rx.text("No endpoints yet.", size="2", color_scheme="gray"),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )  # fmt: skip


def _delivery_row(d: rx.Var[dict], on_details, on_retry) -> rx.Component:
    return rx.table.row(
        rx.table.cell(d["when"]),
        rx.table.cell(rx.code(d["event"])),
        rx.table.cell(rx.code(d["url"])),
        rx.table.cell(rx.badge(d["status"], color_scheme=rx.match(
            d["status"], ("succeeded", "green"), ("failed", "red"), "amber"))),
        rx.table.cell(d["code"]),
        rx.table.cell(d["attempts"]),
        rx.table.cell(rx.text(d["error"], size="1")),
        rx.table.cell(
            rx.hstack(
                rx.button("Attempts", size="1", variant="soft", on_click=on_details(d["id"])),
                rx.cond(
                    d["status"] == "failed",
                    rx.button("Retry", size="1", variant="soft", color_scheme="blue",
                              on_click=on_retry(d["id"])),
                ),
                spacing="2",
            )
        ),
    )  # fmt: skip


def _attempt_row(a: rx.Var[dict]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(a["number"]),
        rx.table.cell(a["when"]),
        rx.table.cell(a["code"]),
        rx.table.cell(a["duration"]),
        rx.table.cell(a["result"]),
        rx.table.cell(rx.code(a["body"], white_space="pre-wrap", font_size="0.75em")),
    )


def deliveries_card(
    *,
    deliveries: rx.Var[list[dict]],
    attempts: rx.Var[list[dict]],
    open_delivery: rx.Var[str],
    on_details,
    on_retry,
    on_refresh,
) -> rx.Component:
    """Recent deliveries, newest first; the attempts (status, answer, error) of the open one."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Deliveries", size="4", as_="h2"),
                rx.button("Refresh", size="1", variant="soft", on_click=on_refresh),
                justify="between",
                width="100%",
            ),
            rx.text("Failed attempts are retried after 1 min, 5 min, 30 min, 2 h and 6 h.",
                    size="2"),
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[rx.table.column_header_cell(h) for h in
                          ("When", "Event", "Endpoint", "Status", "HTTP", "Attempts", "Error",
                           "")]
                    )
                ),
                rx.table.body(rx.foreach(deliveries, lambda d: _delivery_row(d, on_details,
                                                                             on_retry))),
                variant="surface",
                width="100%",
            ),
            rx.cond(
                open_delivery != "",
                rx.vstack(
                    rx.heading("Attempts of delivery ", open_delivery, size="3", as_="h3"),
                    rx.table.root(
                        rx.table.header(
                            rx.table.row(
                                *[rx.table.column_header_cell(h) for h in
                                  ("#", "When", "HTTP", "Took", "Result", "Response (first 2 KB)")]
                            )
                        ),
                        rx.table.body(rx.foreach(attempts, _attempt_row)),
                        variant="surface",
                        width="100%",
                    ),
                    width="100%",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )  # fmt: skip
