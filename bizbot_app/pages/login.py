"""`/login`."""

from __future__ import annotations

import reflex as rx

from components.layout import auth_card, labelled_field
from state.auth import LoginState


def _error() -> rx.Component:
    return rx.cond(
        LoginState.error != "",
        rx.callout(LoginState.error, icon="circle-alert", color_scheme="red",
                   size="1", role="alert"),
    )  # fmt: skip


def _password_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            labelled_field("Email", "email", type_="email", auto_complete="username"),
            labelled_field(
                "Password", "password", type_="password", auto_complete="current-password"
            ),
            _error(),
            rx.button("Log in", type="submit", size="3", width="100%",
                      loading=LoginState.submitting),
            spacing="3",
            width="100%",
        ),
        on_submit=LoginState.submit,
        width="100%",
    )  # fmt: skip


def _code_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.text("Enter the 6-digit code from your authenticator app, or one of your "
                    "recovery codes.", size="2"),
            labelled_field("Authentication code", "code", auto_complete="one-time-code",
                           placeholder="123456"),
            _error(),
            rx.button("Verify", type="submit", size="3", width="100%",
                      loading=LoginState.submitting),
            rx.button("Back", type="button", variant="ghost", size="2",
                      on_click=LoginState.cancel_code),
            spacing="3",
            width="100%",
        ),
        on_submit=LoginState.submit_code,
        reset_on_submit=True,
        width="100%",
    )  # fmt: skip


def login_page() -> rx.Component:
    """Email and password, one generic error, a link to sign up; then the 2FA code if on."""
    return auth_card(
        "Log in",
        "Welcome back. Log in to your business's dashboard.",
        rx.cond(
            LoginState.notice != "",
            rx.callout(LoginState.notice, icon="info", color_scheme="blue", size="1"),
        ),
        rx.cond(LoginState.needs_code, _code_form(), _password_form()),
        rx.text(rx.link("Forgot password?", href="/forgot-password"), size="2"),
        rx.text(
            "New to BizBot? ",
            rx.link("Create a business account", href="/signup"),
            size="2",
        ),
    )
