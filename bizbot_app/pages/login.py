"""`/login`."""

from __future__ import annotations

import reflex as rx

from components.layout import auth_card, labelled_field
from state.auth import LoginState


def login_page() -> rx.Component:
    """Email and password, one generic error, a link to sign up."""
    return auth_card(
        "Log in",
        "Welcome back. Log in to your business's dashboard.",
        rx.cond(
            LoginState.notice != "",
            rx.callout(LoginState.notice, icon="info", color_scheme="blue", size="1"),
        ),
        rx.form(
            rx.vstack(
                labelled_field("Email", "email", type_="email", auto_complete="username"),
                labelled_field(
                    "Password", "password", type_="password", auto_complete="current-password"
                ),
                rx.cond(
                    LoginState.error != "",
                    rx.callout(LoginState.error, icon="circle-alert", color_scheme="red",
                               size="1", role="alert"),
                ),
                rx.button("Log in", type="submit", size="3", width="100%",
                          loading=LoginState.submitting),
                spacing="3",
                width="100%",
            ),
            on_submit=LoginState.submit,
            width="100%",
        ),
        rx.text(
            "New to BizBot? ",
            rx.link("Create a business account", href="/signup"),
            size="2",
        ),
    )  # fmt: skip
