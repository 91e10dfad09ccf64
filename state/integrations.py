"""The Integrations page: the website chat widget's settings, its key and identity secret, and
the messaging channels (WhatsApp, Telegram, Instagram, Messenger): credentials, connection test,
webhook address and verify token, disconnect."""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from typing import Any

import reflex as rx

from backend.auth.permissions import PermissionDenied
from backend.channels import widget
from backend.channels.base import ConnectionInfo
from backend.core.db import session_scope
from backend.integrations import meta_oauth
from backend.integrations import service as integrations
from backend.integrations.service import (
    CHANNEL_FIELDS,
    CHANNEL_KINDS,
    ChannelSetup,
    ChannelSetupError,
    WidgetSettings,
    WidgetSettingsError,
)
from state.base import BaseState, hard_redirect

FIELDS = (
    "title",
    "greeting",
    "color",
    "position",
    "language",
    "prechat",
    "origins",
    "identity_required",
)
LANGUAGE_NAMES = {
    "en": "English",
    "fr": "Français",
    "es": "Español",
    "pt": "Português",
    "sw": "Kiswahili",
    "ar": "العربية",
}
MAX_TITLE = widget.MAX_TITLE
PRECHAT_LABELS = {"name": "Name", "email": "Email", "phone": "Phone"}


@dataclass(frozen=True)
class Choice:
    """One option of a select: the stored value and what the owner reads."""

    value: str
    label: str


LANGUAGE_CHOICES = [Choice("auto", "Auto: the visitor's browser language")] + [
    Choice(code, f"{LANGUAGE_NAMES.get(code, code)} ({code})") for code in widget.LANGUAGES
]


@dataclass(frozen=True)
class FormField:
    """One input of a messaging channel's setup form."""

    name: str
    label: str
    help: str
    secret: bool
    required: bool


@dataclass(frozen=True)
class ChannelForm:
    """A messaging channel's card: what it is and the fields of its form (fixed per kind)."""

    kind: str
    label: str
    icon: str
    description: str
    fields: tuple[FormField, ...]


_DESCRIPTIONS = {
    "whatsapp": ("message-circle", "A WhatsApp Business number on Meta's Cloud API."),
    "telegram": ("send", "A Telegram bot made with @BotFather."),
    "instagram": ("camera", "Direct messages of an Instagram professional account."),
    "messenger": ("messages-square", "Conversations with your Facebook Page on Messenger."),
}
CHANNEL_FORMS = [
    ChannelForm(
        kind=kind,
        label=integrations.CHANNEL_LABELS[kind],
        icon=_DESCRIPTIONS[kind][0],
        description=_DESCRIPTIONS[kind][1],
        fields=tuple(
            FormField(f.name, f.label, f.help, f.secret, f.required) for f in CHANNEL_FIELDS[kind]
        ),
    )
    for kind in CHANNEL_KINDS
]


@dataclass
class ChannelCard:
    """A messaging channel's state as the page shows it (plain data, never a secret)."""

    kind: str = ""
    label: str = ""
    saved: bool = False
    connected: bool = False
    display_name: str = ""
    last_error: str = ""
    webhook_url: str = ""
    verify_token: str = ""
    secrets_set: list[str] = dataclasses.field(default_factory=list)


def _card(view: ChannelSetup) -> ChannelCard:
    return ChannelCard(
        kind=view.kind,
        label=view.label,
        saved=view.integration_id is not None and view.connected,
        connected=view.connected and bool(view.connected_at) and not view.last_error,
        display_name=view.display_name or "",
        last_error=view.last_error or "",
        webhook_url=view.webhook_url if view.connected else "",
        verify_token=view.verify_token if view.connected else "",
        secrets_set=list(view.secrets_set),
    )


def _key(kind: str, name: str) -> str:
    return f"{kind}.{name}"


def _check(token: str | None, kind: str) -> tuple[ChannelSetup | None, str]:
    """In a worker thread: call the platform with the saved settings and keep the outcome."""
    from backend.auth import service as auth

    with session_scope() as session:
        info = auth.resolve_session(session, token=token)
        if info is None:
            return None, "Your session has ended; log in again."
        actor = info.actor
        cfg = integrations.channel_config(session, actor=actor, kind=kind)
    result: ConnectionInfo = integrations.check_channel(cfg, register=True)
    with session_scope() as session:
        return integrations.record_check(session, actor=actor, kind=kind, info=result), ""


def _disconnect(token: str | None, kind: str) -> tuple[ChannelSetup | None, str]:
    """In a worker thread: tell the platform to stop (Telegram), then forget the credentials."""
    from backend.auth import service as auth

    with session_scope() as session:
        info = auth.resolve_session(session, token=token)
        if info is None:
            return None, "Your session has ended; log in again."
        actor = info.actor
        try:
            cfg = integrations.channel_config(session, actor=actor, kind=kind)
        except ChannelSetupError:
            cfg = None
    if cfg is not None:
        integrations.unregister_channel(cfg)
    with session_scope() as session:
        return integrations.disconnect_channel(session, actor=actor, kind=kind), ""


def _origins_text(origins: list[str]) -> str:
    return "\n".join(origins)


def readable_ink(color: str) -> str:
    """White or near-black, whichever contrasts more with `color` (as the widget itself picks)."""

    def channel(i: int) -> float:
        c = int(color[i : i + 2], 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    lum = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
    return "#ffffff" if 1.05 / (lum + 0.05) >= (lum + 0.05) / 0.0595 else "#111827"


class IntegrationsState(BaseState):
    """The widget form (kept here until saved), its key, snippet and identity secret."""

    loaded: bool = False
    configured: bool = False  # the widget has been saved at least once

    enabled: bool = True
    title: str = widget.DEFAULTS["title"]
    greeting: str = widget.DEFAULTS["greeting"]
    color: str = widget.DEFAULTS["color"]
    position: str = widget.DEFAULTS["position"]
    language: str = widget.DEFAULTS["language"]
    prechat: dict[str, str] = dict(widget.DEFAULTS["prechat"])
    origins_text: str = ""
    identity_required: bool = False
    has_identity_secret: bool = False
    public_key: str = ""
    snippet: str = ""
    errors: dict[str, str] = {}

    rotate_open: bool = False
    remove_secret_open: bool = False
    replace_secret_open: bool = False
    # Shown once, right after it is generated; cleared when its dialog closes.
    new_secret: str = ""
    secret_open: bool = False

    # Messaging channels: one card each, the form's typed values and errors by "kind.field".
    channels: dict[str, ChannelCard] = {}
    channel_values: dict[str, str] = {}
    channel_errors: dict[str, str] = {}
    channel_busy: list[str] = []
    # The channel the disconnect confirmation is about (kept after the dialog closes, since
    # closing it and confirming arrive in either order).
    disconnect_kind: str = ""
    disconnect_open: bool = False

    # "Connect with Facebook": offered when the installation has a Meta app; the callback
    # comes back to /integrations?meta=connected|error&kind=…&message=….
    meta_available: bool = False
    meta_outcome: str = ""
    meta_message: str = ""

    @rx.var
    def preview_color(self) -> str:
        """The colour the preview shows: the typed one once it is a full hex code."""
        value = self.color.strip()
        if len(value) == 7 and value.startswith("#"):
            try:
                int(value[1:], 16)
            except ValueError:
                return widget.DEFAULTS["color"]
            return value
        return widget.DEFAULTS["color"]

    @rx.var
    def preview_ink(self) -> str:
        """The text colour on the preview's header and launcher."""
        return readable_ink(self.preview_color)

    @rx.var
    def preview_title(self) -> str:
        """The chat window's title in the preview."""
        return " ".join(self.title.split()) or widget.DEFAULTS["title"]

    @rx.var
    def origin_count(self) -> int:
        """How many origins the textarea lists."""
        return sum(1 for line in self.origins_text.splitlines() if line.strip())

    # --- reading ---------------------------------------------------------------------------

    def _show(self, view: WidgetSettings | None) -> None:
        """Fill the form from the stored widget (or the defaults before its first save)."""
        self.configured = view is not None
        if view is None:
            defaults = widget.DEFAULTS
            self.enabled, self.title, self.greeting = True, defaults["title"], defaults["greeting"]
            self.color, self.position = defaults["color"], defaults["position"]
            self.language, self.prechat = defaults["language"], dict(defaults["prechat"])
            self.origins_text, self.identity_required = "", False
            self.has_identity_secret, self.public_key, self.snippet = False, "", ""
            return
        self.enabled, self.title, self.greeting = view.enabled, view.title, view.greeting
        self.color, self.position, self.language = view.color, view.position, view.language
        self.prechat = dict(view.prechat)
        self.origins_text = _origins_text(view.allowed_origins)
        self.identity_required = view.identity_required
        self._show_keys(view)

    def _show_keys(self, view: WidgetSettings) -> None:
        """Take the key, snippet and secret state, leaving unsaved form edits alone."""
        self.configured = True
        self.public_key, self.snippet = view.public_key, view.snippet
        self.has_identity_secret = view.has_identity_secret
        if not view.has_identity_secret:
            self.identity_required = False

    @rx.event
    def load(self):
        """Guard the page and read the widget's settings."""
        actor = self._enter("integrations")
        if actor is None:
            return None if self.signed_in else self._login_redirect()
        self.rotate_open = self.remove_secret_open = self.replace_secret_open = False
        self.secret_open, self.new_secret, self.errors = False, "", {}
        try:
            with session_scope() as session:
                view = integrations.get_widget(session, actor=actor)
                setups = integrations.get_channels(session, actor=actor)
        except PermissionDenied as exc:
            self.errors = {"form": str(exc)}
            return None
        self._show(view)
        self._show_channels(setups, reset_form=True)
        self.meta_available = meta_oauth.available()
        query = self.router.url.query_parameters
        outcome = str(query.get("meta", ""))
        self.meta_outcome = outcome if outcome in ("connected", "error") else ""
        self.meta_message = str(query.get("message", ""))[:500] if self.meta_outcome else ""
        self.loaded = True
        return None

    @rx.event
    def connect_with_facebook(self, kind: str):
        """Go to Facebook Login for this channel (BizBot's route signs who asked)."""
        if kind not in meta_oauth.KINDS:
            return None
        return hard_redirect(f"/api/integrations/meta/start?kind={kind}")

    @rx.event
    def dismiss_meta(self):
        """Hide the Facebook Login result."""
        self.meta_outcome, self.meta_message = "", ""

    # --- the form --------------------------------------------------------------------------

    def _clear_error(self, field: str) -> None:
        if field in self.errors:
            self.errors = {k: v for k, v in self.errors.items() if k != field}

    @rx.event
    def set_enabled(self, value: bool):
        """Turn the widget on or off (saved with Save)."""
        self.enabled = bool(value)
        self._clear_error("origins")

    @rx.event
    def set_title(self, value: str):
        """The chat window's title as typed."""
        self.title = value
        self._clear_error("title")

    @rx.event
    def set_greeting(self, value: str):
        """The greeting as typed."""
        self.greeting = value
        self._clear_error("greeting")

    @rx.event
    def set_color(self, value: str):
        """The colour, from the picker or the hex field."""
        self.color = value
        self._clear_error("color")

    @rx.event
    def set_position(self, value: str | list[str]):
        """Bottom left or bottom right."""
        if value and isinstance(value, str):  # a segmented control never reports "none"
            self.position = value
            self._clear_error("position")

    @rx.event
    def set_language(self, value: str):
        """Auto or a fixed language for the widget's own words."""
        self.language = value
        self._clear_error("language")

    @rx.event
    def set_prechat(self, field: str, mode: str | list[str]):
        """Whether the pre-chat form asks for `field`: off, optional or required."""
        if mode and isinstance(mode, str):
            self.prechat = {**self.prechat, field: mode}
            self._clear_error("prechat")

    @rx.event
    def set_origins_text(self, value: str):
        """The allowed origins, one per line, as typed."""
        self.origins_text = value
        self._clear_error("origins")

    @rx.event
    def set_identity_required(self, value: bool):
        """Whether only visitors signed by the business's server may chat (saved with Save)."""
        self.identity_required = bool(value)
        self._clear_error("identity_required")

    @rx.event
    def save(self, form: dict[str, Any]):
        """Save the widget's settings; errors show under the field they name."""
        self.errors = {}
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        # The text fields' values as the browser holds them (a keystroke may still be in flight).
        for name in ("title", "greeting", "color", "origins_text"):
            if name in form:
                setattr(self, name, str(form[name]))
        try:
            with session_scope() as session:
                view = integrations.save_widget(
                    session,
                    actor=actor,
                    enabled=self.enabled,
                    title=self.title,
                    greeting=self.greeting,
                    color=self.color,
                    position=self.position,
                    language=self.language,
                    prechat=self.prechat,
                    allowed_origins=self.origins_text.splitlines(),
                    identity_required=self.identity_required,
                )
        except WidgetSettingsError as exc:
            field = exc.field if exc.field in FIELDS else "form"
            self.errors = {field: str(exc)}
            return rx.toast.error("Not saved: fix the setting marked in red.")
        except PermissionDenied as exc:
            self.errors = {"form": str(exc)}
            return None
        first = not self.configured
        self._show(view)
        if first:
            return rx.toast.success("Website chat widget created: add the snippet to your site.")
        return rx.toast.success("Widget settings saved.")

    @rx.event
    def copy_snippet(self):
        """Put the embed snippet on the clipboard."""
        return [rx.set_clipboard(self.snippet), rx.toast.success("Snippet copied.")]

    # --- the key ---------------------------------------------------------------------------

    @rx.event
    def set_rotate_open(self, is_open: bool):
        """Open or close the rotate-key confirmation."""
        self.rotate_open = is_open

    @rx.event
    def rotate_key(self):
        """Give the widget a new key (after confirmation); the old snippet stops working."""
        self.rotate_open = False
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        try:
            with session_scope() as session:
                view = integrations.rotate_widget_key(session, actor=actor)
        except (WidgetSettingsError, PermissionDenied) as exc:
            return rx.toast.error(str(exc))
        self._show_keys(view)
        return rx.toast.success("New key created: replace the snippet on your site now.")

    # --- identity secret -------------------------------------------------------------------

    @rx.event
    def set_replace_secret_open(self, is_open: bool):
        """Open or close the confirmation before replacing the secret."""
        self.replace_secret_open = is_open

    @rx.event
    def set_remove_secret_open(self, is_open: bool):
        """Open or close the confirmation before removing the secret."""
        self.remove_secret_open = is_open

    @rx.event
    def set_secret_open(self, is_open: bool):
        """Close the dialog that shows the new secret, forgetting the secret."""
        self.secret_open = is_open
        if not is_open:
            self.new_secret = ""

    @rx.event
    def generate_secret(self):
        """Create (or replace) the identity secret and show it once."""
        self.replace_secret_open = False
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        try:
            with session_scope() as session:
                secret = integrations.create_identity_secret(session, actor=actor)
        except (WidgetSettingsError, PermissionDenied) as exc:
            return rx.toast.error(str(exc))
        self.new_secret, self.secret_open = secret, True
        self.has_identity_secret = True
        self._clear_error("identity_required")
        return None

    @rx.event
    def copy_secret(self):
        """Put the new secret on the clipboard."""
        return [rx.set_clipboard(self.new_secret), rx.toast.success("Secret copied.")]

    @rx.event
    def remove_secret(self):
        """Remove the identity secret (after confirmation); verification turns off."""
        self.remove_secret_open = False
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        try:
            with session_scope() as session:
                view = integrations.remove_identity_secret(session, actor=actor)
        except (WidgetSettingsError, PermissionDenied) as exc:
            return rx.toast.error(str(exc))
        self._show_keys(view)
        return rx.toast.success("Identity secret removed; visitors are no longer verified.")

    # --- messaging channels ------------------------------------------------------------------

    def _show_channels(self, setups: list[ChannelSetup], *, reset_form: bool = False) -> None:
        self.channels = {**self.channels, **{v.kind: _card(v) for v in setups}}
        if reset_form:
            values: dict[str, str] = {}
            for view in setups:
                for name, value in view.values.items():
                    values[_key(view.kind, name)] = value
            self.channel_values = values
            self.channel_errors = {}
            self.channel_busy = []
            self.disconnect_kind, self.disconnect_open = "", False

    def _show_channel(self, view: ChannelSetup, *, reset_form: bool = False) -> None:
        self.channels = {**self.channels, view.kind: _card(view)}
        fields = {_key(view.kind, f.name) for f in CHANNEL_FIELDS[view.kind]}
        values = {k: v for k, v in self.channel_values.items() if k not in fields or not reset_form}
        if reset_form:
            for field in CHANNEL_FIELDS[view.kind]:
                values[_key(view.kind, field.name)] = view.values.get(field.name, "")
        self.channel_values = values
        self._clear_channel_errors(view.kind)

    def _clear_channel_errors(self, kind: str) -> None:
        self.channel_errors = {
            k: v for k, v in self.channel_errors.items() if not k.startswith(f"{kind}.")
        }

    def _busy(self, kind: str, busy: bool) -> None:
        others = [k for k in self.channel_busy if k != kind]
        self.channel_busy = [*others, kind] if busy else others

    @rx.event
    def set_channel_value(self, key: str, value: str):
        """A channel setting as typed (key: "kind.field")."""
        self.channel_values = {**self.channel_values, key: value}
        if key in self.channel_errors:
            self.channel_errors = {k: v for k, v in self.channel_errors.items() if k != key}

    @rx.event
    def save_channel(self, kind: str, form: dict[str, Any] | None = None):
        """Check and store the channel's settings, then test the connection in the background."""
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        if kind not in CHANNEL_KINDS:
            return None
        self._clear_channel_errors(kind)
        # The inputs' values as the browser holds them (a keystroke may still be in flight).
        for field in CHANNEL_FIELDS[kind]:
            typed = (form or {}).get(f"{kind}-{field.name}")
            if typed is not None:
                self.channel_values = {**self.channel_values, _key(kind, field.name): str(typed)}
        values = {
            f.name: self.channel_values.get(_key(kind, f.name), "") for f in CHANNEL_FIELDS[kind]
        }
        try:
            with session_scope() as session:
                view = integrations.save_channel(session, actor=actor, kind=kind, values=values)
        except ChannelSetupError as exc:
            field = exc.field if any(f.name == exc.field for f in CHANNEL_FIELDS[kind]) else "form"
            self.channel_errors = {**self.channel_errors, _key(kind, field): str(exc)}
            return rx.toast.error("Not saved: fix the setting marked in red.")
        except PermissionDenied as exc:
            self.channel_errors = {**self.channel_errors, _key(kind, "form"): str(exc)}
            return None
        self._show_channel(view, reset_form=True)
        return IntegrationsState.test_channel(kind)

    @rx.event(background=True)
    async def test_channel(self, kind: str):
        """Call the platform with the saved settings: the account's name, or its exact error."""
        async with self:
            if kind in self.channel_busy or kind not in CHANNEL_KINDS:
                return
            self._busy(kind, True)
            token = self._session_token()
        view, problem = None, ""
        try:
            view, problem = await asyncio.to_thread(_check, token, kind)
        except (ChannelSetupError, PermissionDenied) as exc:
            problem = str(exc)
        async with self:
            self._busy(kind, False)
            if view is not None:
                self.channels = {**self.channels, kind: _card(view)}
            if problem:
                self.channel_errors = {**self.channel_errors, _key(kind, "form"): problem}
                return rx.toast.error(problem)
            card = self.channels[kind]
            if card.last_error:
                return rx.toast.error(f"{card.label} is not connected: see the error shown.")
            return rx.toast.success(f"{card.label} connected: {card.display_name}.")

    @rx.event
    def ask_disconnect(self, kind: str):
        """Open the confirmation before disconnecting a channel."""
        self.disconnect_kind, self.disconnect_open = kind, True

    @rx.event
    def set_disconnect_open(self, is_open: bool):
        """Open or close the disconnect confirmation."""
        self.disconnect_open = bool(is_open)

    @rx.event(background=True)
    async def disconnect_channel(self):
        """Disconnect the channel named in the confirmation; its conversations stay."""
        async with self:
            kind, self.disconnect_kind, self.disconnect_open = self.disconnect_kind, "", False
            if kind not in CHANNEL_KINDS:
                return
            self._busy(kind, True)
            token = self._session_token()
        try:
            view, problem = await asyncio.to_thread(_disconnect, token, kind)
        except PermissionDenied as exc:
            view, problem = None, str(exc)
        async with self:
            self._busy(kind, False)
            if view is None:
                return rx.toast.error(problem)
            self._show_channel(view, reset_form=True)
            return rx.toast.success(f"{view.label} disconnected.")

    @rx.event
    def copy_text(self, text: str, what: str):
        """Put a webhook URL or verify token on the clipboard."""
        return [rx.set_clipboard(text), rx.toast.success(f"{what} copied.")]
