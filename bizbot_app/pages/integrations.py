"""`/integrations`: the website chat widget's settings, and the channels still to come."""

from __future__ import annotations

import reflex as rx

from bizbot_app.pages.shell import section_page
from components.integrations import (
    channel_card,
    choice_control,
    code_box,
    colour_field,
    confirm_dialog,
    copy_button,
    secret_dialog,
    select_control,
    setting,
    switch_row,
    text_box,
    text_field,
    widget_preview,
)
from components.knowledge import form_error
from state.integrations import LANGUAGE_CHOICES, MAX_TITLE, PRECHAT_LABELS, IntegrationsState

S = IntegrationsState
_MUTED = rx.color("gray", 11)
_MODES = (("off", "Off"), ("optional", "Optional"), ("required", "Required"))
_CHANNELS = (
    ("message-circle", "WhatsApp", "WhatsApp Business Cloud API numbers"),
    ("send", "Telegram", "Telegram bots"),
    ("camera", "Instagram", "Instagram direct messages"),
    ("messages-square", "Messenger", "Facebook Page conversations on Messenger"),
)


def _subheading(text: str) -> rx.Component:
    return rx.heading(text, size="3", as_="h3", margin_top="0.5em")


def _appearance() -> rx.Component:
    errors = S.errors
    return rx.vstack(
        _subheading("Appearance"),
        setting(
            "Title", text_field("field-title", "title", value=S.title, on_change=S.set_title,
                                error=errors.get("title", ""), placeholder="Chat with us",
                                max_length=MAX_TITLE),
            field_id="field-title", error=errors.get("title", ""),
        ),
        setting(
            "Greeting", text_box("field-greeting", "greeting", value=S.greeting,
                                 on_change=S.set_greeting, error=errors.get("greeting", ""),
                                 placeholder="Hi! How can we help you today?"),
            field_id="field-greeting", error=errors.get("greeting", ""),
            help_text="The first message visitors see. Leave it empty for none.",
        ),
        setting(
            "Colour", colour_field("field-color", "color", value=S.color,
                                   swatch=S.preview_color, on_change=S.set_color,
                                   error=errors.get("color", "")),
            field_id="field-color", error=errors.get("color", ""),
            help_text="The launcher button and the chat window's header.",
        ),
        setting(
            "Position",
            choice_control("Position", (("left", "Bottom left"), ("right", "Bottom right")),
                           value=S.position, on_change=S.set_position),
            error=errors.get("position", ""),
        ),
        setting(
            "Language",
            select_control("field-language", [(c.value, c.label) for c in LANGUAGE_CHOICES],
                           value=S.language, on_change=S.set_language),
            field_id="field-language", error=errors.get("language", ""),
            help_text="The language of the widget's buttons and notices. The assistant "
                      "always answers in the language the visitor writes in.",
        ),
        spacing="4",
        width="100%",
    )  # fmt: skip


def _prechat() -> rx.Component:
    rows = [
        rx.hstack(
            rx.text(label, size="2", width="5em"),
            choice_control(f"Ask for {label.lower()}", _MODES, value=S.prechat.get(field, "off"),
                           on_change=lambda mode, field=field: S.set_prechat(field, mode)),
            align="center",
            spacing="3",
        )
        for field, label in PRECHAT_LABELS.items()
    ]  # fmt: skip
    return rx.vstack(
        _subheading("Pre-chat form"),
        rx.text(
            "What visitors fill in before their first message. With every field off, they "
            "start chatting at once.",
            size="1",
            color=_MUTED,
        ),
        *rows,
        rx.cond(
            S.errors.contains("prechat"),
            rx.text(S.errors["prechat"], color=rx.color("red", 11), size="2", role="alert"),
        ),
        spacing="2",
        width="100%",
    )


def _origins_help() -> rx.Component:
    return rx.vstack(
        rx.text(
            "The websites allowed to show this widget, one per line, as scheme://host[:port] "
            "with no path. Other sites using your snippet are refused.",
            size="1",
            color=_MUTED,
        ),
        rx.el.ul(
            *[
                rx.el.li(rx.code(example), " ", rx.text(meaning, as_="span", color=_MUTED))
                for example, meaning in (
                    ("https://shop.example.com", "that site only"),
                    ("https://*.example.com", "any subdomain of example.com"),
                    ("http://localhost:*", "any port, for testing on your computer"),
                )
            ],
            font_size="0.75em",
            margin="0",
            padding_left="1.2em",
        ),
        spacing="1",
    )


def _access() -> rx.Component:
    errors = S.errors
    return rx.vstack(
        _subheading("Where it may appear"),
        setting(
            "Allowed origins",
            text_box("field-origins", "origins_text", value=S.origins_text,
                     on_change=S.set_origins_text, error=errors.get("origins", ""),
                     placeholder="https://shop.example.com", rows="4", monospace=True),
            field_id="field-origins", help_text=_origins_help(), error=errors.get("origins", ""),
        ),
        spacing="3",
        width="100%",
    )  # fmt: skip


def _identity() -> rx.Component:
    secret_state = rx.cond(
        S.has_identity_secret,
        rx.hstack(
            rx.badge(rx.icon("key-round", size=12), "Secret set", color_scheme="grass"),
            rx.button(rx.icon("refresh-cw", size=15), "Replace secret", variant="soft",
                      type="button", on_click=S.set_replace_secret_open(True)),
            rx.button(rx.icon("trash-2", size=15), "Remove secret", variant="soft",
                      color_scheme="red", type="button",
                      on_click=S.set_remove_secret_open(True)),
            align="center", spacing="2", wrap="wrap",
        ),
        rx.hstack(
            rx.badge("No secret", color_scheme="gray"),
            rx.button(rx.icon("key-round", size=15), "Generate secret", variant="soft",
                      type="button", disabled=~S.configured, on_click=S.generate_secret),
            rx.cond(~S.configured,
                    rx.text("Save the widget first.", size="1", color=_MUTED)),
            align="center", spacing="2", wrap="wrap",
        ),
    )  # fmt: skip
    return rx.vstack(
        _subheading("Identity verification"),
        rx.text(
            "For signed-in customers: your server signs each customer's id with a secret, so "
            "nobody can chat as someone else. The widget guide (docs/widget.md) has the "
            "server code.",
            size="1",
            color=_MUTED,
        ),
        secret_state,
        switch_row(
            "Require verified visitors",
            "Only visitors whose id your server signed may chat.",
            field_id="field-identity-required",
            checked=S.identity_required,
            on_change=S.set_identity_required,
            disabled=~S.has_identity_secret,
            error=S.errors.get("identity_required", ""),
        ),
        spacing="3",
        width="100%",
    )


def _embed() -> rx.Component:
    return rx.vstack(
        _subheading("Add it to your site"),
        rx.cond(
            S.configured,
            rx.vstack(
                rx.text(
                    "Paste this line before </body> on every page that should show the chat.",
                    size="1",
                    color=_MUTED,
                ),
                code_box(S.snippet, label="Embed snippet"),
                rx.hstack(
                    copy_button("Copy snippet", S.copy_snippet),
                    rx.button(
                        rx.icon("rotate-cw", size=15), "Rotate key", variant="soft",
                        color_scheme="orange", type="button", on_click=S.set_rotate_open(True),
                    ),
                    spacing="2",
                    wrap="wrap",
                ),
                spacing="2",
                width="100%",
            ),
            rx.text("Save the settings to get the snippet for your site.", size="2",
                    color=_MUTED),
        ),
        spacing="2",
        width="100%",
    )  # fmt: skip


def _widget_card() -> rx.Component:
    header = rx.hstack(
        rx.center(
            rx.icon("globe", size=20, color=rx.color("accent", 11)),
            width="40px", height="40px", border_radius="10px", background=rx.color("accent", 3),
            flex_shrink="0",
        ),
        rx.vstack(
            rx.hstack(
                rx.heading("Website chat widget", size="4", as_="h2"),
                rx.cond(
                    S.configured,
                    rx.cond(S.enabled,
                            rx.badge("On", color_scheme="grass"),
                            rx.badge("Off", color_scheme="gray")),
                    rx.badge("Not set up", color_scheme="gray"),
                ),
                align="center", spacing="2",
            ),
            rx.text("A chat button on your own website, answered by your assistant and team.",
                    size="2", color=_MUTED),
            spacing="1",
        ),
        align="start", spacing="3",
    )  # fmt: skip
    settings_column = rx.vstack(
        switch_row(
            "Show the widget on my site",
            "When off, nobody can chat: visitors who open the chat are told it is not available.",
            field_id="field-enabled",
            checked=S.enabled,
            on_change=S.set_enabled,
        ),
        _appearance(),
        _prechat(),
        _access(),
        _identity(),
        form_error(S.errors.get("form", "")),
        rx.hstack(
            rx.button(rx.icon("save", size=16), "Save", type="submit", size="3"),
            justify="start",
            width="100%",
        ),
        spacing="5",
        flex="1",
        min_width="0",
        max_width="620px",
    )
    preview_column = rx.vstack(
        rx.text("Preview", size="2", weight="medium"),
        widget_preview(
            color=S.preview_color,
            ink=S.preview_ink,
            title=S.preview_title,
            greeting=S.greeting,
            position=S.position,
        ),
        spacing="2",
        width=["100%", "100%", "260px"],
        position=["static", "static", "sticky"],
        top="1.5em",
    )
    return rx.card(
        rx.vstack(
            header,
            rx.separator(size="4"),
            _embed(),
            rx.separator(size="4"),
            rx.form(
                rx.flex(
                    settings_column,
                    preview_column,
                    direction=rx.breakpoints(initial="column-reverse", md="row"),
                    spacing="6",
                    align="start",
                    width="100%",
                ),
                on_submit=S.save,
                reset_on_submit=False,
                width="100%",
            ),
            spacing="4",
            width="100%",
        ),
        size="3",
        width="100%",
    )


def _channels() -> rx.Component:
    return rx.vstack(
        rx.heading("Messaging channels", size="4", as_="h2"),
        rx.text(
            "Connecting WhatsApp, Telegram, Instagram and Messenger arrives with the "
            "messaging-channels release. Until then, customers reach you through the website "
            "chat widget.",
            size="2",
            color=_MUTED,
        ),
        rx.grid(
            *[
                channel_card(icon, name, f"{what}: setup arrives with the messaging-channels "
                             "release.")
                for icon, name, what in _CHANNELS
            ],
            columns=rx.breakpoints(initial="1", sm="2"),
            spacing="3",
            width="100%",
        ),
        spacing="3",
        width="100%",
    )  # fmt: skip


def _dialogs() -> rx.Component:
    return rx.fragment(
        confirm_dialog(
            title="Rotate the widget key?",
            description=(
                "The snippet gets a new key and the current one stops working at once: every "
                "site still using the old snippet says the chat is not available until you "
                "paste the new snippet there."
            ),
            action="Rotate key",
            open_=S.rotate_open,
            on_open_change=S.set_rotate_open,
            on_confirm=S.rotate_key,
            color_scheme="orange",
        ),
        confirm_dialog(
            title="Replace the identity secret?",
            description=(
                "A new secret is created and the current one stops working at once: update "
                "your server with the new one, or signed-in visitors cannot be verified."
            ),
            action="Replace secret",
            open_=S.replace_secret_open,
            on_open_change=S.set_replace_secret_open,
            on_confirm=S.generate_secret,
            color_scheme="orange",
        ),
        confirm_dialog(
            title="Remove the identity secret?",
            description=(
                "Visitors are no longer verified and “Require verified visitors” is turned "
                "off. Stop setting userId and userHash on your site first: pages that still "
                "send them are refused once the secret is gone."
            ),
            action="Remove secret",
            open_=S.remove_secret_open,
            on_open_change=S.set_remove_secret_open,
            on_confirm=S.remove_secret,
        ),
        secret_dialog(
            secret=S.new_secret,
            open_=S.secret_open,
            on_open_change=S.set_secret_open,
            on_copy=S.copy_secret,
        ),
    )


def integrations_page() -> rx.Component:
    """The website chat widget's settings, snippet and keys; the channels still to come."""
    body = rx.box(
        _dialogs(),
        rx.cond(
            S.loaded,
            rx.vstack(_widget_card(), _channels(), spacing="6", width="100%"),
            rx.cond(
                S.errors.contains("form"),
                form_error(S.errors.get("form", "")),
                rx.center(rx.spinner(size="3"), padding="4em", aria_label="Loading"),
            ),
        ),
        width="100%",
    )
    return section_page("integrations", body)
