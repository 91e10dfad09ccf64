"""`/settings`: business profile and logo, hours, email (SMTP), data retention, danger zone;
and `/business-deleted`, where the browser lands after the business is deleted."""

from __future__ import annotations

import reflex as rx

from bizbot_app.pages.shell import section_page
from components.knowledge import upload_zone
from components.layout import auth_card, labelled_field
from components.settings import search_field, select_field, weekday_row
from state.settings import (
    ACCEPTED_LOGOS,
    CURRENCIES,
    LANGUAGES,
    LOGO_UPLOAD_ID,
    MAX_LOGO_BYTES,
    TIMEZONES,
    SettingsState,
)

S = SettingsState


def _form_error(errors) -> rx.Component:
    return rx.cond(
        errors.contains("form"),
        rx.callout(errors.get("form", ""), icon="circle-alert", color_scheme="red", role="alert"),
    )


def _profile_card() -> rx.Component:
    profile, errors = S.profile, S.errors
    form = rx.form(
        rx.vstack(
            rx.heading("Business profile", size="4", as_="h2"),
            labelled_field("Business name", "name", default_value=profile.get("name", ""),
                           error=errors.get("name", "")),
            search_field("Timezone", "timezone", TIMEZONES,
                         default_value=profile.get("timezone", ""),
                         placeholder="Type to search, e.g. Africa/Nairobi",
                         error=errors.get("timezone", "")),
            select_field("Default language", "default_language", LANGUAGES,
                         default_value=profile.get("default_language", ""),
                         error=errors.get("default_language", "")),
            select_field("Currency", "currency", CURRENCIES,
                         default_value=profile.get("currency", ""),
                         error=errors.get("currency", "")),
            _form_error(errors),
            rx.button("Save profile", type="submit"),
            rx.cond(S.saved, rx.text("Business profile saved.", size="2", role="status",
                                     color=rx.color("green", 11))),
            spacing="3",
            width="100%",
        ),
        on_submit=S.save,
        reset_on_submit=False,
        # Re-mount the form when the profile loads so default values show.
        key=profile.get("name", "") + profile.get("timezone", ""),
    )  # fmt: skip
    logo = rx.vstack(
        rx.text("Logo", weight="medium", size="2"),
        rx.hstack(
            rx.cond(
                S.business_logo_url != "",
                rx.image(src=S.business_logo_url, alt="The business's logo", height="64px",
                         width="64px", object_fit="contain", id="settings-logo",
                         border=f"1px solid {rx.color('gray', 5)}", border_radius="6px"),
                rx.text("No logo yet.", size="2", color=rx.color("gray", 11)),
            ),
            rx.cond(
                S.business_logo_url != "",
                rx.button("Remove logo", variant="soft", color_scheme="gray",
                          on_click=S.remove_logo, type="button"),
            ),
            align="center", spacing="3",
        ),
        upload_zone(
            LOGO_UPLOAD_ID, accept=ACCEPTED_LOGOS, max_size=MAX_LOGO_BYTES,
            formats="PNG, JPEG or WebP · up to 1 MB (SVG is not accepted)",
            percent=rx.Var.create(0),
            on_drop=S.receive_logo(rx.upload_files(upload_id=LOGO_UPLOAD_ID)),
            on_refused=S.logo_refused,
        ),
        rx.cond(S.logo_note != "", rx.text(S.logo_note, size="2", aria_live="polite",
                                           id="logo-note")),
        spacing="2", width="100%",
    )  # fmt: skip
    return rx.card(rx.vstack(form, rx.separator(), logo, spacing="4", max_width="560px"))


def _hours_card() -> rx.Component:
    errors = S.hours_errors
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Business hours", size="4", as_="h2"),
                rx.text("Times are in ", rx.code(S.hours_timezone), ". Out of hours the "
                        "assistant sends the reply below. This is where they are edited; the AI "
                        "Rules page shows them.", size="2", color=rx.color("gray", 11)),
                rx.cond(S.hours_always_open, rx.text(
                    "No day is marked open, so the assistant treats the business as always open.",
                    size="2", color=rx.color("gray", 11))),
                rx.foreach(S.hours, lambda day: weekday_row(day, errors)),
                rx.text("Several ranges in a day: 08:00-12:00, 14:00-18:00.", size="1",
                        color=rx.color("gray", 11)),
                rx.el.label("Out-of-hours reply", html_for="field-out_of_hours_message",
                            font_size="0.875em", font_weight="500"),
                rx.text_area(name="out_of_hours_message", id="field-out_of_hours_message",
                             default_value=S.hours_message, width="100%", rows="3",
                             placeholder="Thanks! We are closed now and will answer at 9:00."),
                rx.cond(errors.contains("out_of_hours_message"),
                        rx.text(errors.get("out_of_hours_message", ""), role="alert",
                                color=rx.color("red", 11), size="2")),
                _form_error(errors),
                rx.button("Save hours", type="submit"),
                spacing="3", width="100%",
            ),
            on_submit=S.save_hours,
            reset_on_submit=False,
            key=S.hours_version,
        ),
        max_width="560px",
    )  # fmt: skip


def _smtp_card() -> rx.Component:
    smtp, errors = S.smtp, S.smtp_errors
    return rx.card(
        rx.vstack(
            rx.heading("Email (SMTP)", size="4", as_="h2"),
            rx.text(
                rx.cond(S.smtp_default_server != "",
                        "Leave the server empty to use the default (" + S.smtp_default_server
                        + ").",
                        "Leave the server empty to use the default set in .env (none is set)."),
                " Notifications and invitations of this business go through this server.",
                size="2", color=rx.color("gray", 11),
            ),
            rx.form(
                rx.vstack(
                    labelled_field("SMTP server", "smtp_host", required=False,
                                   default_value=smtp.get("host", ""),
                                   placeholder="smtp.example.com",
                                   error=errors.get("smtp_host", "")),
                    labelled_field("Port", "smtp_port", required=False,
                                   default_value=smtp.get("port", "587"),
                                   error=errors.get("smtp_port", "")),
                    select_field("Security", "smtp_security",
                                 rx.Var.create([{"value": "starttls", "label": "STARTTLS"},
                                                {"value": "ssl", "label": "SSL/TLS"},
                                                {"value": "none", "label": "None"}]),
                                 default_value=smtp.get("security", "starttls"),
                                 error=errors.get("smtp_security", "")),
                    labelled_field("Username", "smtp_username", required=False,
                                   default_value=smtp.get("username", ""),
                                   auto_complete="off", error=errors.get("smtp_username", "")),
                    labelled_field("Password", "smtp_password", type_="password",
                                   required=False, auto_complete="new-password",
                                   placeholder=rx.cond(S.smtp_password_set,
                                                       "Set — type a new one to change it",
                                                       "Not set"),
                                   error=errors.get("smtp_password", "")),
                    labelled_field("From address", "smtp_from", required=False,
                                   default_value=smtp.get("from_address", ""),
                                   placeholder="Sunrise Bakery <hello@sunrise.example>",
                                   error=errors.get("smtp_from", "")),
                    _form_error(errors),
                    rx.button("Save email settings", type="submit"),
                    spacing="3", width="100%",
                ),
                on_submit=S.save_smtp,
                # Not reset on submit: a wrong field keeps what was typed. A successful save
                # bumps smtp_version, which re-mounts the form (the password field empties).
                key=S.smtp_version,
            ),
            rx.hstack(
                rx.button("Send test email", variant="soft", on_click=S.send_test_email,
                          loading=S.smtp_testing, type="button"),
                rx.text("to ", S.user_email, size="2", color=rx.color("gray", 11)),
                align="center", spacing="2",
            ),
            rx.cond(S.smtp_notice != "",
                    rx.callout(S.smtp_notice, id="smtp-notice",
                               icon=rx.cond(S.smtp_notice_ok, "circle-check", "circle-alert"),
                               color_scheme=rx.cond(S.smtp_notice_ok, "green", "red"),
                               role="status")),
            spacing="3", width="100%",
        ),
        max_width="560px",
    )  # fmt: skip


def _retention_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Data retention", size="4", as_="h2"),
            rx.text(S.retention_text, size="2", id="retention-text"),
            rx.link("Change on the Privacy page", href="/settings/privacy", size="2"),
            rx.separator(),
            rx.heading("More settings", size="4", as_="h2"),
            rx.link("Webhooks: send events to your own systems", href="/settings/webhooks"),
            rx.link("Privacy: what is stored, retention, export and erase a customer's data",
                    href="/settings/privacy"),
            spacing="2",
        ),
        max_width="560px",
    )  # fmt: skip


def _danger_card() -> rx.Component:
    errors = S.delete_errors
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Danger zone", size="4", as_="h2", color=rx.color("red", 11)),
                rx.text("Deleting the business removes its conversations, contacts, knowledge, "
                        "orders, channels, files and team access for good. Members keep their "
                        "own accounts. This cannot be undone.", size="2"),
                labelled_field("Type the business name to confirm", "confirm_name",
                               auto_complete="off", error=errors.get("confirm_name", ""),
                               placeholder=S.profile.get("name", "")),
                labelled_field("Your current password", "password", type_="password",
                               auto_complete="current-password",
                               error=errors.get("password", "")),
                rx.cond(S.delete_needs_code,
                        labelled_field("Two-factor code", "code", auto_complete="one-time-code",
                                       error=errors.get("code", ""))),
                _form_error(errors),
                rx.button("Delete this business", type="submit", color_scheme="red"),
                spacing="3", width="100%",
            ),
            on_submit=S.delete_business,
            reset_on_submit=False,
        ),
        max_width="560px",
        border=f"1px solid {rx.color('red', 7)}",
    )  # fmt: skip


def settings_page() -> rx.Component:
    """Profile, logo, hours, email, retention and the danger zone of the business (owners)."""
    return section_page(
        "settings",
        rx.vstack(
            _profile_card(),
            _hours_card(),
            _smtp_card(),
            _retention_card(),
            _danger_card(),
            spacing="4",
            width="100%",
        ),
    )


def business_deleted_page() -> rx.Component:
    """Where the browser lands after the business was deleted."""
    return auth_card(
        "The business was deleted",
        "",
        rx.text(
            rx.cond(S.deleted_name != "", S.deleted_name, "The business"),
            " and everything it stored were deleted. A confirmation is on its way by email.",
            size="2",
        ),
        rx.text(
            "Your own account stays: you can still accept invitations to other businesses.",
            size="2",
        ),
        rx.link("Go to the login page", href="/login", size="2"),
    )
