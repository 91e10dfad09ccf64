"""Channel integrations as the owner manages them: the website chat widget's settings and keys.

A business has at most one widget: a `ChannelIntegration` of kind "widget" whose `config`
holds exactly the keys of `widget.DEFAULTS`, and whose encrypted credentials hold the identity
secret (`{"identity_secret": …}`). The widget runtime reads both; this module only writes them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from backend.auth.permissions import Actor, Permission
from backend.channels import service as channels
from backend.channels import widget
from backend.channels.widget import WidgetSettingsError
from backend.core.config import settings
from backend.core.crypto import DecryptionError, decrypt, encrypt
from backend.events import publish
from backend.integrations import repository as repo
from backend.models.base import utcnow
from backend.models.channels import ChannelIntegration

__all__ = [
    "WIDGET_NAME",
    "WidgetSettings",
    "WidgetSettingsError",
    "create_identity_secret",
    "get_widget",
    "remove_identity_secret",
    "rotate_widget_key",
    "save_widget",
]

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
