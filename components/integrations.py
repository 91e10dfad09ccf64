"""Pieces of the Integrations page: settings rows, colour field, widget preview, channel cards."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import reflex as rx

_MUTED = rx.color("gray", 11)
_MONO = "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace"


def field_error(field_id: str, error: rx.Var[str] | str) -> rx.Component:
    """The red message under a field, linked to it by `{field_id}-error`."""
    return rx.cond(
        error != "",
        rx.text(error, id=f"{field_id}-error", color=rx.color("red", 11), size="2", role="alert"),
    )


def setting(
    label: str,
    control: rx.Component,
    *,
    field_id: str = "",
    help_text: str | rx.Component = "",
    error: rx.Var[str] | str = "",
) -> rx.Component:
    """A labelled control with an optional sentence of help and its error under it."""
    label_el = (
        rx.el.label(label, html_for=field_id, font_size="0.875em", font_weight="500")
        if field_id
        else rx.text(label, size="2", weight="medium")
    )
    help_el = (
        rx.text(help_text, size="1", color=_MUTED) if isinstance(help_text, str) else help_text
    )
    return rx.vstack(
        label_el,
        *([help_el] if help_text else []),
        control,
        field_error(field_id or label.lower().replace(" ", "-"), error),
        spacing="1",
        width="100%",
    )


def switch_row(
    label: str,
    description: str,
    *,
    field_id: str,
    checked: rx.Var[bool],
    on_change: Callable[[rx.Var[bool]], rx.event.EventSpec],
    disabled: rx.Var[bool] | bool = False,
    error: rx.Var[str] | str = "",
) -> rx.Component:
    """A switch with its label and a line saying what it does."""
    return rx.vstack(
        rx.hstack(
            rx.switch(
                id=field_id,
                # Named, as Reflex 0.10 wants of form controls; the state holds its value.
                name=field_id,
                checked=checked,
                on_change=on_change,
                disabled=disabled,
                aria_describedby=f"{field_id}-help",
            ),
            rx.vstack(
                rx.el.label(label, html_for=field_id, font_size="0.875em", font_weight="500"),
                rx.text(description, id=f"{field_id}-help", size="1", color=_MUTED),
                spacing="0",
            ),
            align="start",
            spacing="3",
        ),
        field_error(field_id, error),
        spacing="1",
        width="100%",
    )


def text_field(
    field_id: str,
    name: str,
    *,
    value: rx.Var[str],
    on_change: Callable[[rx.Var[str]], rx.event.EventSpec],
    error: rx.Var[str] | str = "",
    placeholder: str = "",
    max_length: int | None = None,
) -> rx.Component:
    """A controlled one-line input that reports its error for screen readers."""
    return rx.input(
        id=field_id,
        name=name,
        value=value,
        on_change=on_change,
        placeholder=placeholder,
        max_length=max_length,
        size="3",
        width="100%",
        auto_complete="off",
        aria_invalid=rx.cond(error != "", "true", "false"),
        aria_describedby=f"{field_id}-error",
    )


def text_box(
    field_id: str,
    name: str,
    *,
    value: rx.Var[str],
    on_change: Callable[[rx.Var[str]], rx.event.EventSpec],
    error: rx.Var[str] | str = "",
    placeholder: str = "",
    rows: str = "3",
    monospace: bool = False,
) -> rx.Component:
    """A controlled text area that reports its error for screen readers."""
    return rx.text_area(
        id=field_id,
        name=name,
        value=value,
        on_change=on_change,
        placeholder=placeholder,
        rows=rows,
        size="3",
        width="100%",
        resize="vertical",
        spell_check=not monospace,
        font_family=_MONO if monospace else None,
        aria_invalid=rx.cond(error != "", "true", "false"),
        aria_describedby=f"{field_id}-error",
    )


def colour_field(
    field_id: str,
    name: str,
    *,
    value: rx.Var[str],
    swatch: rx.Var[str],
    on_change: Callable[[rx.Var[str]], rx.event.EventSpec],
    error: rx.Var[str] | str = "",
) -> rx.Component:
    """A colour picker and the same colour as a hex code, kept in step."""
    return rx.hstack(
        rx.el.input(
            type="color",
            value=swatch,
            on_change=on_change,
            aria_label="Pick a colour",
            width="44px",
            height="40px",
            padding="2px",
            cursor="pointer",
            border=f"1px solid {rx.color('gray', 7)}",
            border_radius="8px",
            background="transparent",
        ),
        rx.input(
            id=field_id,
            name=name,
            value=value,
            on_change=on_change,
            placeholder="#2563eb",
            max_length=7,
            size="3",
            width="9em",
            font_family=_MONO,
            auto_complete="off",
            spell_check=False,
            aria_invalid=rx.cond(error != "", "true", "false"),
            aria_describedby=f"{field_id}-error",
        ),
        align="center",
        spacing="2",
    )


def choice_control(
    label: str,
    options: Sequence[tuple[str, str]],
    *,
    value: rx.Var[str],
    on_change: Callable[[rx.Var[str]], rx.event.EventSpec],
) -> rx.Component:
    """A segmented control over a few (value, label) options."""
    return rx.segmented_control.root(
        *[rx.segmented_control.item(text, value=key) for key, text in options],
        value=value,
        on_change=on_change,
        aria_label=label,
        size="2",
    )


def select_control(
    field_id: str,
    options: Sequence[tuple[str, str]],
    *,
    value: rx.Var[str],
    on_change: Callable[[rx.Var[str]], rx.event.EventSpec],
) -> rx.Component:
    """A drop-down over (value, label) options."""
    return rx.select.root(
        rx.select.trigger(id=field_id, min_width="18em"),
        rx.select.content(*[rx.select.item(text, value=key) for key, text in options]),
        value=value,
        on_change=on_change,
        size="3",
    )


def widget_preview(
    *,
    color: rx.Var[str],
    ink: rx.Var[str],
    title: rx.Var[str],
    greeting: rx.Var[str],
    position: rx.Var[str],
) -> rx.Component:
    """A small picture of the chat window and its launcher, in the chosen colour and corner."""
    window = rx.box(
        rx.hstack(
            rx.icon("message-circle", size=16, color=ink),
            rx.text(title, size="2", weight="bold", color=ink, truncate=True),
            align="center",
            spacing="2",
            background=color,
            padding="0.6em 0.8em",
        ),
        rx.box(
            rx.cond(
                greeting != "",
                rx.box(
                    rx.text(greeting, size="1", white_space="pre-wrap", style={
                        "display": "-webkit-box", "-webkit-line-clamp": "4",
                        "-webkit-box-orient": "vertical", "overflow": "hidden",
                    }),
                    background=rx.color("gray", 3),
                    border_radius="10px",
                    padding="0.5em 0.7em",
                    max_width="85%",
                ),
            ),
            padding="0.7em",
            height="110px",
            background="white",
        ),
        width="210px",
        border_radius="12px",
        overflow="hidden",
        box_shadow="0 6px 20px rgba(15, 23, 42, 0.18)",
        border=f"1px solid {rx.color('gray', 5)}",
    )  # fmt: skip
    launcher = rx.center(
        rx.icon("message-circle", size=22, color=ink),
        width="48px",
        height="48px",
        border_radius="50%",
        background=color,
        box_shadow="0 4px 12px rgba(15, 23, 42, 0.25)",
    )
    align = rx.cond(position == "left", "start", "end")
    return rx.box(
        rx.vstack(window, launcher, align=align, spacing="3", width="100%"),
        role="img",
        aria_label="Preview of the chat widget",
        padding="1em",
        width="100%",
        border_radius="12px",
        background=rx.color("gray", 2),
        border=f"1px dashed {rx.color('gray', 6)}",
    )


def code_box(code: rx.Var[str], *, label: str) -> rx.Component:
    """Code to copy, in a scrolling monospace box."""
    return rx.el.pre(
        rx.el.code(code),
        aria_label=label,
        font_family=_MONO,
        font_size="0.8125em",
        white_space="pre-wrap",
        word_break="break-all",
        padding="0.9em 1em",
        margin="0",
        width="100%",
        border_radius="8px",
        background=rx.color("gray", 3),
        border=f"1px solid {rx.color('gray', 5)}",
    )


def copy_button(label: str, on_click: rx.event.EventSpec) -> rx.Component:
    """A soft button with a copy icon."""
    return rx.button(
        rx.icon("copy", size=15), label, variant="soft", type="button", on_click=on_click
    )


def confirm_dialog(
    *,
    title: str,
    description: str,
    action: str,
    open_: rx.Var[bool],
    on_open_change: Callable[[rx.Var[bool]], rx.event.EventSpec],
    on_confirm: rx.event.EventSpec,
    color_scheme: str = "red",
) -> rx.Component:
    """A yes/no confirmation before something that cannot be undone."""
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(description, size="2"),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button(action, color_scheme=color_scheme, on_click=on_confirm)
                ),
                justify="end",
                spacing="3",
                margin_top="1em",
            ),
            max_width="480px",
        ),
        open=open_,
        on_open_change=on_open_change,
    )


def secret_dialog(
    *,
    secret: rx.Var[str],
    open_: rx.Var[bool],
    on_open_change: Callable[[rx.Var[bool]], rx.event.EventSpec],
    on_copy: rx.event.EventSpec,
) -> rx.Component:
    """The new identity secret, shown this once, with a copy button."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Your identity secret"),
            rx.dialog.description(
                "Copy it into your server's configuration now: BizBot stores it encrypted and "
                "will not show it again. Never put it in your web pages.",
                size="2", color=_MUTED, margin_bottom="1em",
            ),
            rx.vstack(
                code_box(secret, label="Identity secret"),
                rx.hstack(
                    copy_button("Copy secret", on_copy),
                    rx.dialog.close(rx.button("Done", type="button")),
                    justify="end",
                    spacing="3",
                    width="100%",
                ),
                spacing="3",
            ),
            max_width="560px",
        ),
        open=open_,
        on_open_change=on_open_change,
    )  # fmt: skip


# --- messaging channels ------------------------------------------------------------------------


def secret_input(
    field_id: str,
    *,
    value: rx.Var[str],
    on_change: Callable[[rx.Var[str]], rx.event.EventSpec],
    saved: rx.Var[bool],
    error: rx.Var[str] | str = "",
) -> rx.Component:
    """A password-style input that says when a value is already saved (left empty: kept)."""
    return rx.input(
        id=field_id,
        name=field_id,
        type="password",
        value=value,
        on_change=on_change,
        placeholder=rx.cond(saved, "Saved: leave empty to keep it", ""),
        size="3",
        width="100%",
        auto_complete="new-password",
        spell_check=False,
        aria_invalid=rx.cond(error != "", "true", "false"),
        aria_describedby=f"{field_id}-error",
    )


def copy_row(
    label: str, value: rx.Var[str], *, on_copy: rx.event.EventSpec, help_text: str
) -> rx.Component:
    """A value the owner copies into the platform's settings, with its copy button."""
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        rx.text(help_text, size="1", color=_MUTED),
        rx.hstack(
            rx.box(code_box(value, label=label), flex="1", min_width="0"),
            copy_button(f"Copy {label[:1].lower()}{label[1:]}", on_copy),
            align="center",
            spacing="2",
            width="100%",
        ),
        spacing="1",
        width="100%",
    )


def channel_status(
    *, connected: rx.Var[bool], saved: rx.Var[bool], failed: rx.Var[bool], busy: rx.Var[bool]
) -> rx.Component:
    """The channel's badge: testing, connected, error, saved or not connected."""
    return rx.cond(
        busy,
        rx.badge(rx.spinner(size="1"), "Testing…", color_scheme="blue"),
        rx.cond(
            connected,
            rx.badge("Connected", color_scheme="grass"),
            rx.cond(
                failed,
                rx.badge("Not working", color_scheme="red"),
                rx.cond(
                    saved,
                    rx.badge("Saved", color_scheme="blue"),
                    rx.badge("Not connected", color_scheme="gray"),
                ),
            ),
        ),
    )


def channel_setup_card(
    *,
    icon: str,
    label: str,
    description: str,
    status: rx.Component,
    display_name: rx.Var[str],
    fields: Sequence[rx.Component],
    form_error: rx.Var[str],
    last_error: rx.Var[str],
    saved: rx.Var[bool],
    busy: rx.Var[bool],
    on_submit: rx.event.EventSpec,
    on_test: rx.event.EventSpec,
    on_disconnect: rx.event.EventSpec,
    webhook: rx.Component,
    quick_connect: rx.Component | None = None,
) -> rx.Component:
    """One messaging channel: its status, setup form, webhook details and actions
    (`quick_connect`: e.g. "Connect with Facebook", shown above the form)."""
    header = rx.hstack(
        rx.center(
            rx.icon(icon, size=20, color=rx.color("accent", 11)),
            width="40px",
            height="40px",
            border_radius="10px",
            background=rx.color("accent", 3),
            flex_shrink="0",
        ),
        rx.vstack(
            rx.hstack(
                rx.heading(label, size="4", as_="h3"),
                status,
                align="center",
                spacing="2",
                wrap="wrap",
            ),
            rx.text(description, size="2", color=_MUTED),
            rx.cond(
                display_name != "",
                rx.text(
                    rx.text("Account: ", as_="span", color=_MUTED),
                    rx.text(display_name, as_="span", weight="medium"),
                    size="2",
                ),
            ),
            spacing="1",
        ),
        align="start",
        spacing="3",
    )
    problem = rx.cond(
        last_error != "",
        rx.callout(
            rx.text(
                rx.text(f"{label} said: ", as_="span", weight="bold"),
                last_error,
            ),
            icon="triangle-alert",
            color_scheme="red",
            role="alert",
            size="1",
            width="100%",
        ),
    )
    actions = rx.hstack(
        rx.button(
            rx.icon("plug", size=16), "Save and connect", type="submit", loading=busy, size="2"
        ),
        rx.button(
            rx.icon("refresh-cw", size=15),
            "Test connection",
            variant="soft",
            type="button",
            disabled=~saved | busy,
            on_click=on_test,
        ),
        rx.cond(
            saved,
            rx.button(
                rx.icon("unplug", size=15),
                "Disconnect",
                variant="soft",
                color_scheme="red",
                type="button",
                on_click=on_disconnect,
            ),
        ),
        spacing="2",
        wrap="wrap",
    )
    return rx.card(
        rx.vstack(
            header,
            problem,
            quick_connect if quick_connect is not None else rx.fragment(),
            rx.form(
                rx.vstack(
                    *fields,
                    rx.cond(
                        form_error != "",
                        rx.text(form_error, color=rx.color("red", 11), size="2", role="alert"),
                    ),
                    actions,
                    spacing="3",
                    width="100%",
                ),
                on_submit=on_submit,
                reset_on_submit=False,
                width="100%",
            ),
            rx.cond(saved, webhook),
            spacing="4",
            width="100%",
        ),
        role="region",
        aria_label=f"{label} channel",
        size="2",
        width="100%",
    )
