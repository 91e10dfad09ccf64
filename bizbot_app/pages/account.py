"""Pages emailed links open, and the two gates: `/forgot-password`, `/reset-password`,
`/verify-email`, `/invite`, `/two-factor-setup`, `/access-denied`."""

from __future__ import annotations

import reflex as rx

from components.layout import auth_card, labelled_field
from components.security import error_callout
from state.auth import (
    AccessDeniedState,
    ForgotPasswordState,
    InviteState,
    ResetPasswordState,
    TwoFactorSetupState,
    VerifyEmailState,
)


def _back_to_login() -> rx.Component:
    return rx.text(rx.link("Back to log in", href="/login"), size="2")


def forgot_password_page() -> rx.Component:
    """Ask for a reset link by email."""
    form = rx.form(
        rx.vstack(
            labelled_field("Email", "email", type_="email", auto_complete="username"),
            error_callout(ForgotPasswordState.error),
            rx.button("Email me a reset link", type="submit", size="3", width="100%"),
            spacing="3",
            width="100%",
        ),
        on_submit=ForgotPasswordState.submit,
        width="100%",
    )
    return auth_card(
        "Forgot your password?",
        "Enter the email you log in with; we will send you a link to choose a new password.",
        rx.cond(
            ForgotPasswordState.sent_message != "",
            rx.callout(
                ForgotPasswordState.sent_message,
                icon="mail",
                color_scheme="green",
                size="1",
                role="status",
            ),
            form,
        ),
        _back_to_login(),
    )


def reset_password_page() -> rx.Component:
    """Choose a new password through the emailed link."""
    form = rx.form(
        rx.vstack(
            rx.text("New password for ", rx.text.strong(ResetPasswordState.email), size="2"),
            labelled_field("New password", "password", type_="password",
                           auto_complete="new-password"),
            labelled_field("New password again", "confirm", type_="password",
                           auto_complete="new-password"),
            error_callout(ResetPasswordState.error),
            rx.button("Set new password", type="submit", size="3", width="100%"),
            spacing="3",
            width="100%",
        ),
        on_submit=ResetPasswordState.submit,
        width="100%",
    )  # fmt: skip
    done = rx.callout(
        "Your password is changed and every session of your account has ended. "
        "Log in with the new password.",
        icon="circle-check", color_scheme="green", size="1", role="status",
    )  # fmt: skip
    return auth_card(
        "Choose a new password",
        "The link from your email works once.",
        rx.cond(
            ResetPasswordState.link_error != "",
            rx.vstack(
                error_callout(ResetPasswordState.link_error),
                rx.link("Ask for a new link", href="/forgot-password"),
            ),
            rx.cond(ResetPasswordState.done, done, form),
        ),
        _back_to_login(),
    )


def verify_email_page() -> rx.Component:
    """The result of opening a verification link."""
    return auth_card(
        "Email confirmation",
        "",
        rx.cond(
            VerifyEmailState.ok,
            rx.callout(
                VerifyEmailState.message,
                icon="circle-check",
                color_scheme="green",
                size="1",
                role="status",
            ),
            rx.cond(
                VerifyEmailState.message != "",
                rx.vstack(
                    error_callout(VerifyEmailState.message),
                    rx.text("You can send a new link from the dashboard.", size="2"),
                ),
            ),
        ),
        rx.link("Open the dashboard", href="/"),
    )


def invite_page() -> rx.Component:
    """Accept an invitation: a new account, or an existing account's password."""
    form = rx.form(
        rx.vstack(
            rx.text("Join ", rx.text.strong(InviteState.business), " as ",
                    rx.text.strong(InviteState.role), " with ", rx.text.strong(InviteState.email),
                    ".", size="2"),
            rx.cond(
                InviteState.has_account,
                labelled_field("Your BizBot password", "password", type_="password",
                               auto_complete="current-password"),
                rx.fragment(
                    labelled_field("Your name", "name", auto_complete="name"),
                    labelled_field("Choose a password", "password", type_="password",
                                   auto_complete="new-password"),
                ),
            ),
            error_callout(InviteState.error),
            rx.button("Accept invitation", type="submit", size="3", width="100%",
                      loading=InviteState.submitting),
            spacing="3",
            width="100%",
        ),
        on_submit=InviteState.submit,
        width="100%",
    )  # fmt: skip
    return auth_card(
        "You are invited",
        "Accept to open the business's dashboard.",
        rx.cond(InviteState.link_error != "", error_callout(InviteState.link_error), form),
    )


def two_factor_setup_page() -> rx.Component:
    """Enrolment that a business requiring 2FA sends its members to."""
    codes = rx.vstack(
        rx.callout("Two-factor sign-in is on. Keep these recovery codes somewhere safe; each "
                   "works once if you lose your phone.", icon="circle-check",
                   color_scheme="green", size="1"),
        rx.code_block(TwoFactorSetupState.recovery_codes.join("\n"), width="100%"),
        rx.link(rx.button("Continue to the dashboard", size="3"), href="/"),
        spacing="3",
        width="100%",
    )  # fmt: skip
    enrol = rx.vstack(
        rx.text("Scan this QR code with an authenticator app, then enter the code it shows.",
                size="2"),
        rx.cond(TwoFactorSetupState.qr != "",
                rx.image(src=TwoFactorSetupState.qr, alt="QR code for your authenticator app",
                         width="180px")),
        rx.text("Or type this key: ", rx.code(TwoFactorSetupState.secret), size="1"),
        rx.form(
            rx.vstack(
                labelled_field("Authentication code", "code", auto_complete="one-time-code",
                               placeholder="123456"),
                error_callout(TwoFactorSetupState.error),
                rx.button("Turn on two-factor sign-in", type="submit", size="3", width="100%"),
                width="100%",
            ),
            on_submit=TwoFactorSetupState.confirm,
            reset_on_submit=True,
            width="100%",
        ),
        spacing="3",
        width="100%",
    )  # fmt: skip
    return auth_card(
        "Set up two-factor sign-in",
        "This business requires two-factor sign-in for every member.",
        rx.cond(TwoFactorSetupState.recovery_codes.length() > 0, codes, enrol),
        rx.link("Log out", href="/api/auth/logout", size="2"),
    )


def access_denied_page() -> rx.Component:
    """The business's IP allowlist does not include this address."""
    return auth_card(
        "Access not allowed from here",
        "",
        rx.callout(
            AccessDeniedState.gate_message,
            icon="shield-alert",
            color_scheme="red",
            size="2",
            role="alert",
        ),
        rx.link("Log out", href="/api/auth/logout", size="2"),
    )
