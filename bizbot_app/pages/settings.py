"""`/settings`: the business profile."""

from __future__ import annotations

import reflex as rx

from bizbot_app.pages.shell import section_page
from components.layout import labelled_field
from state.team import SettingsState


def settings_page() -> rx.Component:
    """Name, timezone, default language and currency of the business."""
    profile, errors = SettingsState.profile, SettingsState.errors
    form = rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Business profile", size="4", as_="h2"),
                labelled_field("Business name", "name", default_value=profile.get("name", ""),
                               error=errors.get("name", "")),
                labelled_field("Timezone", "timezone", default_value=profile.get("timezone", ""),
                               placeholder="Africa/Nairobi", error=errors.get("timezone", "")),
                labelled_field("Default language", "default_language",
                               default_value=profile.get("default_language", ""),
                               placeholder="en", error=errors.get("default_language", "")),
                labelled_field("Currency", "currency", default_value=profile.get("currency", ""),
                               placeholder="USD", error=errors.get("currency", "")),
                rx.cond(
                    errors.contains("form"),
                    rx.callout(errors.get("form", ""), icon="circle-alert", color_scheme="red",
                               role="alert"),
                ),
                rx.button("Save", type="submit"),
                spacing="3",
                max_width="520px",
            ),
            on_submit=SettingsState.save,
            # Re-mount the form when the profile loads so default values show.
            key=profile.get("name", ""),
        ),
    )  # fmt: skip
    links = rx.card(
        rx.vstack(
            rx.heading("More settings", size="4", as_="h2"),
            rx.link("Webhooks: send events to your own systems", href="/settings/webhooks"),
            rx.link(
                "Privacy: what is stored, retention, export and erase a customer's data",
                href="/settings/privacy",
            ),
            spacing="2",
        )
    )
    return section_page("settings", rx.vstack(form, links, spacing="4", width="100%"))
