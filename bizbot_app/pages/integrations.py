"""`/integrations`: the website chat widget's settings, and the messaging channels' setup."""

from __future__ import annotations

import reflex as rx

from bizbot_app.pages.sales import payment_providers_panel
from bizbot_app.pages.shell import section_page
from components.integrations import (
    channel_setup_card,
    channel_status,
    choice_control,
    code_box,
    colour_field,
    confirm_dialog,
    copy_button,
    copy_row,
    secret_dialog,
    secret_input,
    select_control,
    setting,
    switch_row,
    text_box,
    text_field,
    widget_preview,
)
from components.knowledge import form_error
from state.integrations import (
    CHANNEL_FORMS,
    LANGUAGE_CHOICES,
    MAX_TITLE,
    PRECHAT_LABELS,
    ChannelForm,
    FormField,
    IntegrationsState,
)

S = IntegrationsState
_MUTED = rx.color("gray", 11)
_MODES = (("off", "Off"), ("optional", "Optional"), ("required", "Required"))


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


def _channel_field(form: ChannelForm, field: FormField) -> rx.Component:
    field_id = f"{form.kind}-{field.name}"
    key = f"{form.kind}.{field.name}"
    error = S.channel_errors.get(key, "")
    value = S.channel_values.get(key, "")

    def on_change(text, key=key):
        return S.set_channel_value(key, text)

    if field.secret:
        control = secret_input(
            field_id, value=value, on_change=on_change, error=error,
            saved=S.channels[form.kind].secrets_set.contains(field.name),
        )  # fmt: skip
    else:
        control = text_field(field_id, field_id, value=value, on_change=on_change, error=error)
    label = field.label if field.required else f"{field.label} (optional)"
    return setting(label, control, field_id=field_id, help_text=field.help, error=error)


def _webhook(form: ChannelForm) -> rx.Component:
    card = S.channels[form.kind]
    url_help = (
        "BizBot gave this address to Telegram with setWebhook: nothing to do."
        if form.kind == "telegram"
        else "Paste it as the Callback URL of your Meta app's webhook "
        f"({'WhatsApp → Configuration' if form.kind == 'whatsapp' else 'Messenger → Settings'})."
    )
    rows = [
        copy_row("Webhook URL", card.webhook_url, help_text=url_help,
                 on_copy=S.copy_text(card.webhook_url, "Webhook URL")),
    ]  # fmt: skip
    if form.kind != "telegram":
        rows.append(
            copy_row(
                "Verify token",
                card.verify_token,
                help_text="Paste it as the Verify token beside the Callback URL.",
                on_copy=S.copy_text(card.verify_token, "Verify token"),
            )
        )
    return rx.vstack(rx.separator(size="4"), *rows, spacing="3", width="100%")


def _facebook(kind: str) -> rx.Component | None:
    if kind not in ("whatsapp", "messenger", "instagram"):
        return None
    return rx.cond(
        S.meta_available,
        rx.hstack(
            rx.button(rx.icon("log-in", size=15), "Connect with Facebook", type="button",
                      variant="outline", on_click=S.connect_with_facebook(kind)),
            rx.text("or fill in the form by hand", size="1", color=_MUTED),
            align="center", spacing="2", wrap="wrap",
        ),
    )  # fmt: skip


def _meta_result() -> rx.Component:
    return rx.cond(
        S.meta_outcome != "",
        rx.callout(
            rx.hstack(
                rx.text(S.meta_message, size="2"),
                rx.spacer(),
                rx.icon_button(rx.icon("x", size=14), size="1", variant="ghost",
                               on_click=S.dismiss_meta, aria_label="Dismiss"),
                width="100%", align="start",
            ),
            icon=rx.cond(S.meta_outcome == "connected", "circle-check", "triangle-alert"),
            color_scheme=rx.cond(S.meta_outcome == "connected", "grass", "red"),
            role=rx.cond(S.meta_outcome == "connected", "status", "alert"),
            width="100%",
            custom_attrs={"data-testid": "meta-result"},
        ),
    )  # fmt: skip


def _channel(form: ChannelForm) -> rx.Component:
    card = S.channels[form.kind]
    busy = S.channel_busy.contains(form.kind)
    return channel_setup_card(
        icon=form.icon,
        label=form.label,
        description=form.description,
        status=channel_status(connected=card.connected, saved=card.saved,
                              failed=card.last_error != "", busy=busy),
        display_name=card.display_name,
        fields=[_channel_field(form, field) for field in form.fields],
        form_error=S.channel_errors.get(f"{form.kind}.form", ""),
        last_error=card.last_error,
        saved=card.saved,
        busy=busy,
        on_submit=lambda data, kind=form.kind: S.save_channel(kind, data),
        on_test=S.test_channel(form.kind),
        on_disconnect=S.ask_disconnect(form.kind),
        webhook=_webhook(form),
        quick_connect=_facebook(form.kind),
    )  # fmt: skip


def _channels() -> rx.Component:
    return rx.vstack(
        rx.heading("Messaging channels", size="4", as_="h2"),
        rx.text(
            "Connect the apps your customers already use. BizBot checks every message's "
            "signature, answers from your knowledge and hands over to your team the same way "
            "on every channel. docs/channels.md walks through each platform's setup.",
            size="2",
            color=_MUTED,
        ),
        _meta_result(),
        rx.grid(
            *[_channel(form) for form in CHANNEL_FORMS],
            columns=rx.breakpoints(initial="1", lg="2"),
            spacing="4",
            width="100%",
        ),
        spacing="3",
        width="100%",
    )


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
        confirm_dialog(
            title="Disconnect this channel?",
            description=(
                "BizBot forgets its credentials and stops taking its messages; Telegram is told "
                "to stop calling. Conversations and contacts stay. Connect it again any time."
            ),
            action="Disconnect",
            open_=S.disconnect_open,
            on_open_change=S.set_disconnect_open,
            on_confirm=S.disconnect_channel,
        ),
    )


def integrations_page() -> rx.Component:
    """The website chat widget's settings, snippet and keys; the messaging channels' setup."""
    body = rx.box(
        _dialogs(),
        rx.cond(
            S.loaded,
            rx.vstack(
                _widget_card(), _channels(), payment_providers_panel(), spacing="6", width="100%"
            ),
            rx.cond(
                S.errors.contains("form"),
                form_error(S.errors.get("form", "")),
                rx.center(rx.spinner(size="3"), padding="4em", aria_label="Loading"),
            ),
        ),
        width="100%",
    )
    return section_page("integrations", body)
