"""Channel integrations as the owner manages them: the website chat widget's settings and keys,
and the messaging channels' credentials, connection tests and webhooks.

A business has at most one widget: a `ChannelIntegration` of kind "widget" whose `config`
holds exactly the keys of `widget.DEFAULTS`, and whose encrypted credentials hold the identity
secret (`{"identity_secret": …}`). The widget runtime reads both; this module only writes them.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from backend.auth.permissions import Actor, Permission
from backend.billing import service as billing
from backend.channels import service as channels
from backend.channels import widget
from backend.channels.base import ChannelConfig, ConnectionInfo
from backend.channels.registry import get_adapter
from backend.channels.widget import WidgetSettingsError
from backend.core.config import settings
from backend.core.crypto import DecryptionError, decrypt, encrypt
from backend.events import publish
from backend.integrations import repository as repo
from backend.models.base import utcnow
from backend.models.channels import ChannelIntegration

__all__ = [
    "CHANNEL_FIELDS",
    "CHANNEL_KINDS",
    "WIDGET_NAME",
    "ChannelSetup",
    "ChannelSetupError",
    "WidgetSettings",
    "WidgetSettingsError",
    "add_channel",
    "channel_config",
    "check_channel",
    "create_identity_secret",
    "disconnect_channel",
    "get_channels",
    "get_widget",
    "record_check",
    "remove_identity_secret",
    "rotate_widget_key",
    "save_channel",
    "save_widget",
    "unregister_channel",
]

log = logging.getLogger(__name__)

WIDGET_NAME = "Website chat"
_SECRET = "identity_secret"  # noqa: S105 (the credentials key, not a secret)
_HEX = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_DEFAULT_PORTS = {"http": ":80", "https": ":443"}
_NOT_SET_UP = "Set up the website widget first: fill in its settings and save them."


@dataclass(frozen=True)
class WidgetSettings:
    """The business's website widget as the Integrations page shows it."""

    integration_id: int
    enabled: bool
    public_key: str
    title: str
    greeting: str
    color: str
    position: str
    language: str  # "auto" or one of widget.LANGUAGES
    prechat: dict[str, str]  # field -> "off" | "optional" | "required"
    allowed_origins: list[str]
    identity_required: bool
    has_identity_secret: bool
    snippet: str


# --- helpers -----------------------------------------------------------------------------------


def _credentials(integration: ChannelIntegration) -> dict[str, Any]:
    if not integration.credentials_encrypted:
        return {}
    try:
        return json.loads(decrypt(integration.credentials_encrypted))
    except DecryptionError:
        # Unreadable (SECRET_KEY changed): the secret is unusable, so the page offers a new one.
        return {}


def _set_credentials(integration: ChannelIntegration, credentials: dict[str, Any]) -> None:
    integration.credentials_encrypted = encrypt(json.dumps(credentials)) if credentials else None


def _view(integration: ChannelIntegration) -> WidgetSettings:
    cfg = widget.settings_of(integration.config)
    public_key = integration.public_key or ""
    return WidgetSettings(
        integration_id=integration.id,
        enabled=integration.is_enabled,
        public_key=public_key,
        title=cfg["title"],
        greeting=cfg["greeting"],
        color=cfg["color"],
        position=cfg["position"],
        language=cfg["language"],
        prechat={field: cfg["prechat"][field] for field in widget.PRECHAT_FIELDS},
        allowed_origins=list(cfg["allowed_origins"]),
        identity_required=bool(cfg["identity_required"]),
        has_identity_secret=bool(_credentials(integration).get(_SECRET)),
        snippet=widget.snippet(settings.public_url, public_key),
    )


def _announce(session: Session, integration: ChannelIntegration) -> None:
    publish(
        session,
        "integration.updated",
        business_id=integration.business_id,
        integration_id=integration.id,
        kind=widget.KIND,
    )


def _existing(session: Session, actor: Actor) -> ChannelIntegration:
    actor.require(Permission.INTEGRATIONS_MANAGE)
    integration = repo.get_widget(session, business_id=actor.business_id)
    if integration is None:
        raise WidgetSettingsError(_NOT_SET_UP, field="form")
    return integration


def _title(title: str) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise WidgetSettingsError(
            "Enter a title for the chat window, e.g. “Chat with us”.", field="title"
        )
    if len(title) > widget.MAX_TITLE:
        raise WidgetSettingsError(
            f"Keep the title under {widget.MAX_TITLE} characters (it is {len(title)}).",
            field="title",
        )
    return title


def _greeting(greeting: str) -> str:
    greeting = (greeting or "").replace("\r\n", "\n").strip()
    if len(greeting) > widget.MAX_GREETING:
        raise WidgetSettingsError(
            f"Keep the greeting under {widget.MAX_GREETING} characters (it is {len(greeting)}).",
            field="greeting",
        )
    return greeting


def _color(color: str) -> str:
    match = _HEX.match((color or "").strip())
    if not match:
        raise WidgetSettingsError(
            f"{(color or '').strip()!r} is not a colour: write it as a hex code like #2563eb.",
            field="color",
        )
    digits = match.group(1).lower()
    return "#" + (digits if len(digits) == 6 else "".join(c * 2 for c in digits))


def _choice(value: str, allowed: Iterable[str], *, field: str, label: str) -> str:
    value = (value or "").strip().lower()
    allowed = tuple(allowed)
    if value not in allowed:
        raise WidgetSettingsError(
            f"The {label} must be one of {', '.join(allowed)} (got {value or 'nothing'!r}).",
            field=field,
        )
    return value


def _prechat(prechat: Mapping[str, str]) -> dict[str, str]:
    unknown = sorted(set(prechat) - set(widget.PRECHAT_FIELDS))
    if unknown:
        raise WidgetSettingsError(
            f"The pre-chat form can ask for {', '.join(widget.PRECHAT_FIELDS)}, not "
            f"{', '.join(map(repr, unknown))}.",
            field="prechat",
        )
    return {
        field: _choice(
            prechat.get(field) or "off",
            widget.PRECHAT_MODES,
            field="prechat",
            label=f"pre-chat {field} field",
        )
        for field in widget.PRECHAT_FIELDS
    }


def _origins(patterns: Iterable[str]) -> list[str]:
    origins: list[str] = []
    for pattern in patterns:
        if not (pattern or "").strip():
            continue
        origin = widget.normalize_origin_pattern(pattern)
        scheme = origin.split("://", 1)[0]
        # https://shop.example.com:443 is https://shop.example.com: keep one spelling.
        origin = origin.removesuffix(_DEFAULT_PORTS[scheme])
        if origin not in origins:
            origins.append(origin)
    if len(origins) > widget.MAX_ORIGINS:
        raise WidgetSettingsError(
            f"List at most {widget.MAX_ORIGINS} origins (there are {len(origins)}); use a "
            "wildcard such as https://*.example.com to cover many subdomains.",
            field="origins",
        )
    return origins


# --- the Integrations page ---------------------------------------------------------------------


def get_widget(session: Session, *, actor: Actor) -> WidgetSettings | None:
    """The business's website widget, or None when it has not been set up yet."""
    actor.require(Permission.INTEGRATIONS_MANAGE)
    integration = repo.get_widget(session, business_id=actor.business_id)
    return None if integration is None else _view(integration)


def save_widget(
    session: Session,
    *,
    actor: Actor,
    enabled: bool,
    title: str,
    greeting: str,
    color: str,
    position: str,
    language: str,
    prechat: Mapping[str, str],
    allowed_origins: Iterable[str],
    identity_required: bool,
) -> WidgetSettings:
    """Validate and store the widget's settings, creating the widget on its first save."""
    actor.require(Permission.INTEGRATIONS_MANAGE)
    config = {
        "title": _title(title),
        "greeting": _greeting(greeting),
        "color": _color(color),
        "position": _choice(position, widget.POSITIONS, field="position", label="position"),
        "language": _choice(
            language, ("auto", *widget.LANGUAGES), field="language", label="language"
        ),
        "prechat": _prechat(prechat),
        "allowed_origins": _origins(allowed_origins),
        "identity_required": bool(identity_required),
    }
    if enabled and not config["allowed_origins"]:
        raise WidgetSettingsError(
            "List at least one allowed origin (the address of the site that shows the widget, "
            "e.g. https://shop.example.com), or turn the widget off.",
            field="origins",
        )
    repo.lock_business(session, business_id=actor.business_id)
    integration = repo.get_widget(session, business_id=actor.business_id)
    if config["identity_required"] and (
        integration is None or not _credentials(integration).get(_SECRET)
    ):
        raise WidgetSettingsError(
            "Generate an identity secret and sign visitor ids on your server before requiring "
            "verified visitors.",
            field="identity_required",
        )
    if integration is None:
        integration = channels.create_integration(
            session,
            business_id=actor.business_id,
            kind=widget.KIND,
            name=WIDGET_NAME,
            public_key=widget.new_public_key(),
        )
        integration.connected_at = utcnow()
    integration.is_enabled = bool(enabled)
    integration.config = config  # a new dict: JSONB columns do not track changes in place
    repo.save(session, integration)
    _announce(session, integration)
    return _view(integration)


def rotate_widget_key(session: Session, *, actor: Actor) -> WidgetSettings:
    """Give the widget a new public key; the old one stops working at once."""
    integration = _existing(session, actor)
    integration.public_key = widget.new_public_key()
    repo.save(session, integration)
    _announce(session, integration)
    return _view(integration)


def create_identity_secret(session: Session, *, actor: Actor) -> str:
    """A new identity secret, replacing any old one; returned once and never shown again."""
    integration = _existing(session, actor)
    secret = widget.new_identity_secret()
    _set_credentials(integration, {**_credentials(integration), _SECRET: secret})
    repo.save(session, integration)
    _announce(session, integration)
    return secret


def remove_identity_secret(session: Session, *, actor: Actor) -> WidgetSettings:
    """Forget the identity secret and stop requiring verified visitors."""
    integration = _existing(session, actor)
    credentials = _credentials(integration)
    credentials.pop(_SECRET, None)
    _set_credentials(integration, credentials)
    integration.config = {**widget.settings_of(integration.config), "identity_required": False}
    repo.save(session, integration)
    _announce(session, integration)
    return _view(integration)


# --- messaging channels: WhatsApp, Telegram, Instagram, Messenger ------------------------------

CHANNEL_KINDS = ("whatsapp", "telegram", "instagram", "messenger")
CHANNEL_LABELS = {
    "whatsapp": "WhatsApp",
    "telegram": "Telegram",
    "instagram": "Instagram",
    "messenger": "Messenger",
}
_VERIFY_TOKEN = "verify_token"  # noqa: S105 (a field name)
_WEBHOOK_SECRET = "webhook_secret"  # noqa: S105 (a field name)
_NUMERIC_ID = re.compile(r"^\d{3,32}$")
_TOKEN = re.compile(r"^\S{8,4096}$")
_BOT_TOKEN = re.compile(r"^\d{3,20}:[\w-]{10,200}$")
_VERIFY = re.compile(r"^[\x21-\x7e]{8,200}$")


@dataclass(frozen=True)
class ChannelField:
    """One setting of a messaging channel's setup form (and of `channel add --config`)."""

    name: str
    label: str
    help: str
    secret: bool = False
    required: bool = True


CHANNEL_FIELDS: dict[str, tuple[ChannelField, ...]] = {
    "whatsapp": (
        ChannelField("phone_number_id", "Phone number ID",
                     "WhatsApp Manager → API Setup: the number's ID (digits), not the number."),
        ChannelField("waba_id", "WhatsApp Business Account ID",
                     "The account (WABA) that owns the number; BizBot subscribes it to webhooks."),
        ChannelField("access_token", "Access token",
                     "A permanent system-user token with whatsapp_business_messaging.",
                     secret=True),
        ChannelField("app_secret", "App secret",
                     "Your Meta app's secret (App settings → Basic): checks every webhook.",
                     secret=True),
        ChannelField(_VERIFY_TOKEN, "Verify token",
                     "Any phrase you choose, typed into Meta's webhook setup too. Leave empty "
                     "and BizBot makes one.", required=False),
    ),
    "telegram": (
        ChannelField("bot_token", "Bot token",
                     "From @BotFather: 123456789:AA… BizBot registers its webhook itself.",
                     secret=True),
    ),
    "messenger": (
        ChannelField("page_id", "Facebook Page ID", "Page settings → About: the Page ID (digits)."),
        ChannelField("page_access_token", "Page access token",
                     "A long-lived Page token with pages_messaging.", secret=True),
        ChannelField("app_secret", "App secret",
                     "Your Meta app's secret (App settings → Basic): checks every webhook.",
                     secret=True),
        ChannelField(_VERIFY_TOKEN, "Verify token",
                     "Any phrase you choose, typed into Meta's webhook setup too. Leave empty "
                     "and BizBot makes one.", required=False),
    ),
    "instagram": (
        ChannelField("ig_account_id", "Instagram account ID",
                     "The professional account's ID (digits), linked to your Facebook Page."),
        ChannelField("page_access_token", "Page access token",
                     "The linked Page's token with instagram_manage_messages.", secret=True),
        ChannelField("app_secret", "App secret",
                     "Your Meta app's secret (App settings → Basic): checks every webhook.",
                     secret=True),
        ChannelField(_VERIFY_TOKEN, "Verify token",
                     "Any phrase you choose, typed into Meta's webhook setup too. Leave empty "
                     "and BizBot makes one.", required=False),
    ),
}  # fmt: skip


class ChannelSetupError(ValueError):
    """A channel setting is missing or malformed; `field` names it, the message says the fix."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ChannelSetup:
    """One messaging channel as the Integrations page shows it (never a secret's value)."""

    kind: str
    label: str
    integration_id: int | None
    connected: bool  # saved, turned on, with credentials
    values: dict[str, str]  # the non-secret fields
    secrets_set: list[str]  # secret fields that have a saved value
    verify_token: str
    webhook_url: str
    display_name: str | None
    last_error: str | None
    connected_at: str | None


def _field(kind: str, name: str) -> ChannelField:
    return next(f for f in CHANNEL_FIELDS[kind] if f.name == name)


def _check_kind(kind: str) -> str:
    if kind not in CHANNEL_KINDS:
        raise ChannelSetupError(
            f"Unknown channel {kind!r}: use one of {', '.join(CHANNEL_KINDS)}.", field="kind"
        )
    return kind


def _clean_value(kind: str, name: str, value: str) -> str:
    field = _field(kind, name)
    value = (value or "").strip()
    if not value:
        if field.required:
            raise ChannelSetupError(f"Enter the {field.label.lower()}.", field=name)
        return ""
    if name in ("phone_number_id", "waba_id", "page_id", "ig_account_id"):
        if not _NUMERIC_ID.match(value):
            raise ChannelSetupError(
                f"The {field.label.lower()} is a number of digits only (got {value[:40]!r}): "
                "copy the ID, not a name or a phone number.",
                field=name,
            )
    elif name == "bot_token":
        if not _BOT_TOKEN.match(value):
            raise ChannelSetupError(
                "That is not a Telegram bot token: it looks like 123456789:AAH… (copy it "
                "whole from @BotFather).",
                field=name,
            )
    elif name == _VERIFY_TOKEN:
        if not _VERIFY.match(value):
            raise ChannelSetupError(
                "Use 8 to 200 letters, digits or symbols, without spaces, for the verify token.",
                field=name,
            )
    elif not _TOKEN.match(value):
        raise ChannelSetupError(
            f"The {field.label.lower()} has spaces or is too short: paste it again, whole.",
            field=name,
        )
    return value


def clean_channel_values(
    kind: str, values: Mapping[str, Any], *, keep: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """Checked credentials for `kind`; an empty secret keeps the saved one (`keep`)."""
    _check_kind(kind)
    known = {f.name for f in CHANNEL_FIELDS[kind]}
    unknown = sorted(set(values) - known - {_WEBHOOK_SECRET})
    if unknown:
        raise ChannelSetupError(
            f"{CHANNEL_LABELS[kind]} has no setting {', '.join(map(repr, unknown))}; its "
            f"settings are {', '.join(sorted(known))}.",
            field=unknown[0],
        )
    keep = keep or {}
    cleaned: dict[str, str] = {}
    for field in CHANNEL_FIELDS[kind]:
        raw = str(values.get(field.name) or "")
        if field.secret and not raw.strip() and keep.get(field.name):
            cleaned[field.name] = str(keep[field.name])
            continue
        cleaned[field.name] = _clean_value(kind, field.name, raw)
    if kind == "telegram":
        cleaned[_WEBHOOK_SECRET] = str(keep.get(_WEBHOOK_SECRET) or secrets.token_urlsafe(32))
    elif not cleaned.get(_VERIFY_TOKEN):
        cleaned[_VERIFY_TOKEN] = str(keep.get(_VERIFY_TOKEN) or secrets.token_urlsafe(18))
    return cleaned


def _channel_view(kind: str, integration: ChannelIntegration | None) -> ChannelSetup:
    label = CHANNEL_LABELS[kind]
    if integration is None:
        return ChannelSetup(kind=kind, label=label, integration_id=None, connected=False,
                            values={}, secrets_set=[], verify_token="", webhook_url="",
                            display_name=None, last_error=None, connected_at=None)  # fmt: skip
    credentials = _credentials(integration)
    fields = CHANNEL_FIELDS[kind]
    return ChannelSetup(
        kind=kind,
        label=label,
        integration_id=integration.id,
        connected=integration.is_enabled and bool(credentials),
        values={f.name: str(credentials.get(f.name) or "") for f in fields if not f.secret},
        secrets_set=[f.name for f in fields if f.secret and credentials.get(f.name)],
        verify_token=str(credentials.get(_VERIFY_TOKEN) or ""),
        webhook_url=channels.webhook_url(kind, integration.id),
        display_name=(integration.config or {}).get("display_name"),
        last_error=integration.last_error,
        connected_at=integration.connected_at.isoformat() if integration.connected_at else None,
    )


def _announce_channel(session: Session, integration: ChannelIntegration) -> None:
    publish(session, "integration.updated", business_id=integration.business_id,
            integration_id=integration.id, kind=integration.kind)  # fmt: skip


def get_channels(session: Session, *, actor: Actor) -> list[ChannelSetup]:
    """The four messaging channels of the business, set up or not, in the page's order."""
    actor.require(Permission.INTEGRATIONS_MANAGE)
    return [
        _channel_view(kind, repo.get_channel(session, business_id=actor.business_id, kind=kind))
        for kind in CHANNEL_KINDS
    ]


def save_channel(
    session: Session, *, actor: Actor, kind: str, values: Mapping[str, Any]
) -> ChannelSetup:
    """Check and store a channel's credentials (encrypted), creating it on the first save."""
    actor.require(Permission.INTEGRATIONS_MANAGE)
    _check_kind(kind)
    repo.lock_business(session, business_id=actor.business_id)
    integration = repo.get_channel(session, business_id=actor.business_id, kind=kind)
    keep = _credentials(integration) if integration is not None else {}
    credentials = clean_channel_values(kind, values, keep=keep)
    if integration is None or not integration.is_enabled:  # one more channel in use
        _check_channel_limit(session, actor.business_id)
    if integration is None:
        integration = channels.create_integration(
            session, business_id=actor.business_id, kind=kind, name=CHANNEL_LABELS[kind]
        )
    _set_credentials(integration, credentials)
    integration.is_enabled = True
    integration.last_error = None
    repo.save(session, integration)
    _announce_channel(session, integration)
    return _channel_view(kind, integration)


def channel_config(session: Session, *, actor: Actor, kind: str) -> ChannelConfig:
    """The saved channel as its adapter sees it (for a connection test outside the session)."""
    actor.require(Permission.INTEGRATIONS_MANAGE)
    integration = repo.get_channel(session, business_id=actor.business_id, kind=_check_kind(kind))
    if integration is None or not integration.is_enabled or not _credentials(integration):
        raise ChannelSetupError(f"Save the {CHANNEL_LABELS[kind]} settings first.", field="form")
    return channels.to_config(integration)


def check_channel(cfg: ChannelConfig, *, register: bool) -> ConnectionInfo:
    """Call the platform: the account's display name or its exact error; with `register`,
    also point its webhooks at BizBot (Telegram setWebhook, Meta subscribed_apps)."""
    adapter = get_adapter(cfg.kind)
    info = adapter.connect(cfg)
    if not info.ok or not register or not hasattr(adapter, "register"):
        return info
    registered = adapter.register(cfg, channels.webhook_url(cfg.kind, cfg.integration_id))
    if not registered.ok:
        return ConnectionInfo(ok=False, display_name=info.display_name, error=registered.error)
    return info


def unregister_channel(cfg: ChannelConfig) -> None:
    """Ask the platform to stop calling BizBot (Telegram's deleteWebhook); best effort, since a
    disconnected channel's webhook refuses everything anyway."""
    adapter = get_adapter(cfg.kind)
    if not hasattr(adapter, "unregister"):
        return
    try:
        adapter.unregister(cfg)
    except Exception:  # The platform may be unreachable or the token already revoked.
        log.warning("could not unregister %s integration %s", cfg.kind, cfg.integration_id,
                    exc_info=True)  # fmt: skip


def record_check(
    session: Session, *, actor: Actor, kind: str, info: ConnectionInfo
) -> ChannelSetup:
    """Keep a connection test's outcome: the display name, or the error the owner must fix."""
    actor.require(Permission.INTEGRATIONS_MANAGE)
    integration = repo.get_channel(session, business_id=actor.business_id, kind=_check_kind(kind))
    if integration is None:
        raise ChannelSetupError(f"Save the {CHANNEL_LABELS[kind]} settings first.", field="form")
    _apply_check(integration, info)
    repo.save(session, integration)
    _announce_channel(session, integration)
    return _channel_view(kind, integration)


def _apply_check(integration: ChannelIntegration, info: ConnectionInfo) -> None:
    if info.display_name:
        integration.config = {**(integration.config or {}), "display_name": info.display_name}
    if info.ok:
        integration.last_error = None
        integration.connected_at = utcnow()
    else:
        integration.last_error = info.error


def disconnect_channel(session: Session, *, actor: Actor, kind: str) -> ChannelSetup:
    """Turn the channel off and forget its credentials; its conversations and contacts stay."""
    actor.require(Permission.INTEGRATIONS_MANAGE)
    integration = repo.get_channel(session, business_id=actor.business_id, kind=_check_kind(kind))
    if integration is None:
        return _channel_view(kind, None)
    integration.is_enabled = False
    _set_credentials(integration, {})
    integration.connected_at, integration.last_error = None, None
    integration.config = {}
    repo.save(session, integration)
    _announce_channel(session, integration)
    return _channel_view(kind, integration)


def _check_channel_limit(session: Session, business_id: int) -> None:
    """Refuse another channel beyond the plan's (the website widget is always included)."""
    try:
        billing.check_limit(session, business_id=business_id, what="channels")
    except billing.PlanLimitReached as reached:
        raise ChannelSetupError(str(reached), field="form") from None


def add_channel(
    session: Session, *, business_id: int, kind: str, config: Mapping[str, Any],
    name: str | None = None,
) -> ChannelIntegration:  # fmt: skip
    """A new integration from a script (`channel add`): the setup form's fields, checked."""
    if repo.get_business(session, business_id=business_id) is None:
        raise ChannelSetupError(f"There is no business {business_id}.", field="business")
    credentials = clean_channel_values(kind, config)
    _check_channel_limit(session, business_id)
    integration = channels.create_integration(
        session, business_id=business_id, kind=kind, name=name or CHANNEL_LABELS[kind],
        credentials=credentials,
    )  # fmt: skip
    return integration


def note_check(session: Session, *, integration_id: int, info: ConnectionInfo) -> None:
    """Keep a scripted set-up's connection test on its integration (the CLI)."""
    integration = repo.get_integration_by_id(session, integration_id=integration_id)
    if integration is not None:
        _apply_check(integration, info)
        repo.save(session, integration)
