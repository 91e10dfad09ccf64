"""Pieces of the Security page: the 2FA card, the API key form and tables, the audit table."""

from __future__ import annotations

import reflex as rx


def error_callout(message: rx.Var[str]) -> rx.Component:
    """A red alert when `message` is not empty."""
    return rx.cond(
        message != "",
        rx.callout(message, icon="circle-alert", color_scheme="red", size="1", role="alert"),
    )


def code_form(label: str, button: str, on_submit, *, color: str = "blue") -> rx.Component:
    """One code field and a button."""
    return rx.form(
        rx.hstack(
            rx.el.label(label, html_for=f"code-{button}", font_size="0.875em"),
            rx.input(id=f"code-{button}", name="code", auto_complete="one-time-code",
                     placeholder="123456", required=True, width="12em"),
            rx.button(button, type="submit", color_scheme=color),
            align="center",
            spacing="3",
            wrap="wrap",
        ),
        on_submit=on_submit,
        reset_on_submit=True,
    )  # fmt: skip


def two_factor_card(
    *,
    enabled: rx.Var[bool],
    recovery_left: rx.Var[int],
    enrolling: rx.Var[bool],
    qr: rx.Var[str],
    secret: rx.Var[str],
    recovery_codes: rx.Var[list[str]],
    error: rx.Var[str],
    on_start,
    on_confirm,
    on_disable,
) -> rx.Component:
    """Two-factor sign-in: status, QR enrolment, the recovery codes shown once, turning off."""
    return rx.card(
        rx.vstack(
            rx.heading("Two-factor sign-in", size="4", as_="h2"),
            rx.cond(
                enabled,
                rx.text(
                    "On: logging in asks for a code from your authenticator app. ",
                    recovery_left,
                    " recovery codes left.",
                    size="2",
                ),
                rx.text("Off: add a code from an authenticator app to your password.", size="2"),
            ),
            rx.cond(
                recovery_codes.length() > 0,
                rx.callout(
                    rx.vstack(
                        rx.text(
                            "Save these recovery codes now; each works once and they are "
                            "not shown again.",
                            weight="bold",
                        ),
                        rx.el.pre(recovery_codes.join("\n"), aria_label="Recovery codes"),
                    ),
                    icon="key-round",
                    color_scheme="amber",
                ),
            ),
            rx.cond(
                enabled,
                code_form("Code to turn off", "Turn off", on_disable, color="red"),
                rx.cond(
                    enrolling,
                    rx.vstack(
                        rx.text(
                            "Scan this QR code with your authenticator app, then enter "
                            "the code it shows.",
                            size="2",
                        ),
                        rx.image(
                            src=qr,
                            alt="QR code for your authenticator app",
                            width="200px",
                            height="200px",
                        ),
                        rx.text("Or enter this key: ", rx.code(secret), size="2"),
                        code_form("Code", "Confirm", on_confirm),
                        spacing="3",
                    ),
                    rx.button("Set up two-factor sign-in", on_click=on_start),
                ),
            ),
            error_callout(error),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _key_row(key: rx.Var[dict], on_revoke) -> rx.Component:
    return rx.table.row(
        rx.table.cell(key["name"]),
        rx.table.cell(rx.code(key["prefix"])),
        rx.table.cell(key["scopes"]),
        rx.table.cell(key["created"]),
        rx.table.cell(key["expires"]),
        rx.table.cell(key["last_used"]),
        rx.table.cell(rx.badge(key["status"])),
        rx.table.cell(
            rx.cond(
                key["status"] == "active",
                rx.button("Revoke", size="1", color_scheme="red", variant="soft",
                          on_click=on_revoke(key["id"])),
            )
        ),
    )  # fmt: skip


def api_keys_card(
    *,
    keys: rx.Var[list[dict]],
    scopes: rx.Var[list[str]],
    new_key: rx.Var[str],
    error: rx.Var[str],
    on_create,
    on_revoke,
) -> rx.Component:
    """The business's API keys: a form to make one (shown once) and the list with revoke."""
    form = rx.form(
        rx.vstack(
            rx.hstack(
                rx.el.label("Key name", html_for="key-name", font_size="0.875em"),
                rx.input(id="key-name", name="name", placeholder="e.g. CRM sync", width="16em"),
                rx.el.label("Expires in days", html_for="key-days", font_size="0.875em"),
                rx.input(id="key-days", name="expires_days", type="number", min=1,
                         placeholder="never", width="8em"),
                align="center",
                spacing="3",
                wrap="wrap",
            ),
            rx.hstack(
                rx.foreach(
                    scopes,
                    lambda s: rx.el.label(
                        rx.el.input(type="checkbox", name="scope-" + s),
                        " ",
                        s,
                        font_size="0.875em",
                    ),
                ),
                spacing="4",
                wrap="wrap",
            ),
            rx.button("Create API key", type="submit"),
            spacing="3",
        ),
        on_submit=on_create,
        reset_on_submit=True,
    )  # fmt: skip
    return rx.card(
        rx.vstack(
            rx.heading("API keys", size="4", as_="h2"),
            rx.text("Programs use these with the REST API at /api/v1 (documented at "
                    "/api/v1/openapi.json) as `Authorization: Bearer …`.", size="2"),
            form,
            error_callout(error),
            rx.cond(
                new_key != "",
                rx.callout(
                    rx.vstack(
                        rx.text("Copy this key now; it is not shown again.", weight="bold"),
                        rx.code(new_key, aria_label="New API key"),
                    ),
                    icon="key-round",
                    color_scheme="green",
                ),
            ),
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[rx.table.column_header_cell(h) for h in
                          ("Name", "Prefix", "Scopes", "Created", "Expires", "Last used",
                           "Status", "")]
                    )
                ),
                rx.table.body(rx.foreach(keys, lambda k: _key_row(k, on_revoke))),
                variant="surface",
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )  # fmt: skip


def _audit_row(entry: rx.Var[dict]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(entry["when"]),
        rx.table.cell(rx.code(entry["action"])),
        rx.table.cell(entry["actor"]),
        rx.table.cell(entry["target"]),
        rx.table.cell(entry["ip"]),
    )


AUDIT_ACTIONS = [
    "all", "login", "login.failed", "2fa.enabled", "2fa.disabled", "2fa.recovery_code_used",
    "api_key.created", "api_key.revoked", "session.revoked",
]  # fmt: skip


def audit_card(*, entries: rx.Var[list[dict]], on_filter) -> rx.Component:
    """The audit log, newest first, read-only."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Audit log", size="4", as_="h2"),
                rx.select(AUDIT_ACTIONS, default_value="all", on_change=on_filter,
                          aria_label="Filter by action", size="1"),
                justify="between",
                width="100%",
            ),
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[rx.table.column_header_cell(h)
                          for h in ("When", "Action", "Who", "Target", "IP")]
                    )
                ),
                rx.table.body(rx.foreach(entries, _audit_row)),
                variant="surface",
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )  # fmt: skip


def _session_row(item: rx.Var[dict], on_end) -> rx.Component:
    return rx.table.row(
        rx.table.cell(item["device"]),
        rx.table.cell(item["ip"]),
        rx.table.cell(item["signed_in"]),
        rx.table.cell(item["last_seen"]),
        rx.table.cell(
            rx.cond(
                item["current"] != "",
                rx.badge("This browser", color_scheme="green"),
                rx.button("Sign out", size="1", variant="soft", color_scheme="red",
                          on_click=on_end(item["id"])),
            )
        ),
    )  # fmt: skip


def sessions_card(*, sessions: rx.Var[list[dict]], on_end, on_end_others) -> rx.Component:
    """My signed-in browsers, each with a sign-out, and one button for all the others."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Where you are signed in", size="4", as_="h2"),
                rx.button("Sign out all other sessions", size="1", variant="soft",
                          on_click=on_end_others),
                justify="between",
                width="100%",
            ),
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[rx.table.column_header_cell(h)
                          for h in ("Device", "IP", "Signed in", "Last seen", "")]
                    )
                ),
                rx.table.body(rx.foreach(sessions, lambda s: _session_row(s, on_end))),
                variant="surface",
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )  # fmt: skip
