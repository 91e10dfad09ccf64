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
    "2fa.required_on", "2fa.required_off", "api_key.created", "api_key.revoked",
    "session.revoked", "password.changed", "password.reset_requested", "password.reset",
    "email.verified", "member.invited", "member.joined", "member.invitation_revoked",
    "member.role_changed", "member.removed", "allowlist.changed", "ip.refused",
    "secrets.rotated",
]  # fmt: skip


def audit_card(*, entries: rx.Var[list[dict]], on_filter, on_search=None) -> rx.Component:
    """The audit log, newest first, read-only; filtered by action and searched by text."""
    search = rx.form(
        rx.hstack(
            rx.input(name="q", placeholder="Search: email, IP, action…", size="1",
                     aria_label="Search the audit log", width="16em"),
            rx.button("Search", type="submit", size="1", variant="soft"),
            spacing="2",
        ),
        on_submit=on_search,
    ) if on_search is not None else rx.fragment()  # fmt: skip
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Audit log", size="4", as_="h2"),
                rx.hstack(
                    search,
                    rx.select(AUDIT_ACTIONS, default_value="all", on_change=on_filter,
                              aria_label="Filter by action", size="1"),
                    spacing="2",
                    wrap="wrap",
                ),
                justify="between",
                width="100%",
                wrap="wrap",
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


def verify_banner(*, show: rx.Var[bool], email: rx.Var[str], notice: rx.Var[str],
                  on_resend) -> rx.Component:  # fmt: skip
    """Asks a member to confirm their email, with a "resend" button, until they do."""
    return rx.cond(
        show,
        rx.callout(
            rx.hstack(
                rx.text("Please confirm your email ", rx.text.strong(email),
                        " with the link we sent you."),
                rx.button("Resend the link", size="1", variant="soft", on_click=on_resend),
                rx.cond(notice != "", rx.text(notice, size="1")),
                align="center",
                spacing="3",
                wrap="wrap",
            ),
            icon="mail-warning",
            color_scheme="amber",
            width="100%",
        ),
    )  # fmt: skip


def password_card(*, error: rx.Var[str], on_submit) -> rx.Component:
    """Change my password: the current one, the new one twice."""

    def field(label: str, name: str, complete: str) -> rx.Component:
        return rx.vstack(
            rx.el.label(label, html_for=f"pw-{name}", font_size="0.875em"),
            rx.input(id=f"pw-{name}", name=name, type="password", auto_complete=complete,
                     required=True, width="100%"),
            spacing="1",
            width="100%",
        )  # fmt: skip

    return rx.card(
        rx.vstack(
            rx.heading("Password", size="4", as_="h2"),
            rx.text("Changing it signs you out everywhere except this browser.", size="2"),
            rx.form(
                rx.vstack(
                    field("Current password", "current_password", "current-password"),
                    field("New password", "new_password", "new-password"),
                    field("New password again", "confirm", "new-password"),
                    error_callout(error),
                    rx.button("Change password", type="submit"),
                    spacing="3",
                    width="100%",
                    max_width="24em",
                ),
                on_submit=on_submit,
                reset_on_submit=True,
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def business_rules_card(
    *,
    require_two_factor: rx.Var[bool],
    on_require: rx.EventHandler,
    policy_error: rx.Var[str],
    allowlist: rx.Var[str],
    allowlist_error: rx.Var[str],
    on_save_allowlist,
) -> rx.Component:
    """Owners: two-factor sign-in for every member, and the IP allowlist."""
    return rx.card(
        rx.vstack(
            rx.heading("Business rules", size="4", as_="h2"),
            rx.hstack(
                rx.switch(id="require-2fa", checked=require_two_factor,
                          on_change=on_require),
                rx.el.label("Require two-factor sign-in for every member", html_for="require-2fa",
                            font_size="0.875em"),
                align="center",
                spacing="2",
            ),
            error_callout(policy_error),
            rx.divider(),
            rx.text("IP allowlist: the dashboard and the API answer only from these ranges "
                    "(one per line, e.g. 203.0.113.0/24 or 2001:db8::/32). Empty: any address.",
                    size="2"),
            rx.form(
                rx.vstack(
                    rx.text_area(name="allowlist", default_value=allowlist, rows="4",
                                 aria_label="IP allowlist", width="100%",
                                 placeholder="203.0.113.0/24"),
                    error_callout(allowlist_error),
                    rx.button("Save allowlist", type="submit"),
                    spacing="2",
                    width="100%",
                ),
                on_submit=on_save_allowlist,
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )  # fmt: skip
