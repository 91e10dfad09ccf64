"""`/signup`."""

from __future__ import annotations

import reflex as rx

from components.empty_state import empty_state
from components.layout import auth_card, labelled_field
from state.auth import SignupState


def _form() -> rx.Component:
    errors = SignupState.errors
    return rx.form(
        rx.vstack(
            labelled_field("Business name", "business_name", auto_complete="organization",
                           error=errors.get("business_name", "")),
            labelled_field("Your name", "name", auto_complete="name",
                           error=errors.get("name", "")),
            labelled_field("Email", "email", type_="email", auto_complete="email",
                           error=errors.get("email", "")),
            labelled_field("Password", "password", type_="password",
                           auto_complete="new-password", error=errors.get("password", ""),
                           placeholder="At least 8 characters, hard to guess"),
            rx.cond(
                errors.contains("form"),
                rx.callout(errors.get("form", ""), icon="circle-alert", color_scheme="red",
                           size="1", role="alert"),
            ),
            rx.button("Create account", type="submit", size="3", width="100%",
                      loading=SignupState.submitting),
            spacing="3",
            width="100%",
        ),
        on_submit=SignupState.submit,
        width="100%",
    )  # fmt: skip


def signup_page() -> rx.Component:
    """Business name, your name, email and password."""
    return auth_card(
        "Create your business account",
        "Set up BizBot for your business. You will be its owner.",
        rx.cond(
            SignupState.signup_open,
            _form(),
            empty_state(
                "lock",
                "Sign-up is closed",
                "This BizBot only accepts new members by invitation. Ask an owner to invite you.",
            ),
        ),
        rx.text("Already have an account? ", rx.link("Log in", href="/login"), size="2"),
    )
