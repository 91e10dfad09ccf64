"""The website chat widget as a channel: its settings, who may embed it, and its adapter.

The widget's messages come in through the widget API (`backend/api/widget.py`) rather than a
provider's webhook, and its replies reach the visitor over the live stream, so "sending" one
only records that it is ready for the visitor's browser.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

from backend.channels import registry
from backend.channels.base import (
    ChannelConfig,
    ChannelEvent,
    ConnectionInfo,
    MessageIn,
    OutboundMessage,
    SendResult,
)

KIND = "widget"
# Languages the widget's own chrome (buttons, placeholders, notices) is written in.
LANGUAGES = ("en", "fr", "es", "pt", "sw", "ar")
POSITIONS = ("right", "left")
PRECHAT_FIELDS = ("name", "email", "phone")
PRECHAT_MODES = ("off", "optional", "required")
MAX_ORIGINS = 50
MAX_TITLE = 60
MAX_GREETING = 500
DEFAULTS: dict[str, Any] = {
    "title": "Chat with us",
    "greeting": "Hi! How can we help you today?",
    "color": "#2563eb",
    "position": "right",
    "language": "auto",
    "prechat": {"name": "off", "email": "off", "phone": "off"},
    "allowed_origins": [],
    "identity_required": False,
}
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_HOST = re.compile(r"^(\*\.)?([a-z0-9]([a-z0-9-]*[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")


class WidgetSettingsError(ValueError):
    """A widget setting is invalid; `field` names it and the message says how to fix it."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


def new_public_key() -> str:
    """A fresh public key for a widget integration (not a secret: it sits in the page's HTML)."""
    return "wk_" + secrets.token_urlsafe(18)


def new_identity_secret() -> str:
    """A fresh secret the business's server uses to sign visitor ids (HMAC-SHA256)."""
    return secrets.token_urlsafe(32)


def settings_of(config: Mapping[str, Any] | None) -> dict[str, Any]:
    """The widget's stored settings with defaults filled in for anything missing."""
    merged = {**DEFAULTS, **(config or {})}
    merged["prechat"] = {**DEFAULTS["prechat"], **(merged.get("prechat") or {})}
    merged["allowed_origins"] = list(merged.get("allowed_origins") or [])
    return merged


def normalize_origin_pattern(pattern: str) -> str:
    """One allowed-origin pattern, checked and lower-cased, or WidgetSettingsError.

    Forms: `https://shop.example.com`, `https://*.example.com` (any subdomain),
    `http://localhost:*` (any port), `http://127.0.0.1:8000`. No path, query or fragment.
    """
    raw = pattern.strip().rstrip("/").lower()
    hint = "write it as scheme://host[:port], e.g. https://shop.example.com or http://localhost:*"
    match = re.fullmatch(r"(https?)://([^/:?#]+)(?::(\*|\d{1,5}))?", raw)
    if not match:
        raise WidgetSettingsError(f"{pattern.strip()!r} is not an origin: {hint}.", field="origins")
    scheme, host, port = match.groups()
    if not _HOST.match(host) and not re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", host):
        raise WidgetSettingsError(
            f"{pattern.strip()!r} has an invalid host {host!r}: {hint}.", field="origins"
        )
    if port not in (None, "*") and not 0 < int(port) < 65536:
        raise WidgetSettingsError(f"{pattern.strip()!r}: port must be 1-65535.", field="origins")
    return f"{scheme}://{host}" + (f":{port}" if port else "")


def origin_allowed(origin: str | None, patterns: Iterable[str]) -> bool:
    """Whether a browser's `Origin` header matches one of the allowed-origin patterns."""
    if not origin:
        return False
    try:
        parts = urlsplit(origin.strip().lower())
        port = parts.port
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        return False
    default_port = 443 if parts.scheme == "https" else 80
    for pattern in patterns:
        match = re.fullmatch(r"(https?)://([^/:]+)(?::(\*|\d+))?", pattern)
        if not match or match.group(1) != parts.scheme:
            continue
        host, want_port = match.group(2), match.group(3)
        if host.startswith("*."):
            if not parts.hostname.endswith(host[1:]):
                continue
        elif host != parts.hostname:
            continue
        if want_port == "*" or (port or default_port) == int(want_port or default_port):
            return True
    return False


def snippet(public_url: str, public_key: str) -> str:
    """The one script tag a business adds to its site."""
    return (
        f'<script src="{public_url.rstrip("/")}/widget.js" '
        f'data-bizbot-key="{public_key}" async></script>'
    )


class WidgetAdapter:
    """Adapter for the website widget: parsing what the widget API received, and 'sending'."""

    kind: ClassVar[str] = KIND

    def challenge(self, query: Mapping[str, str], cfg: ChannelConfig) -> str:
        """The widget has no webhook handshake."""
        raise NotImplementedError("the website widget has no webhook verification handshake")

    def verify(self, headers: Mapping[str, str], body: bytes, cfg: ChannelConfig) -> None:
        """Origin and visitor token are checked by the widget API before anything is parsed."""

    def parse(self, body: bytes, cfg: ChannelConfig) -> list[ChannelEvent]:
        """A visitor's message as the widget API hands it over: JSON with id, visitor and text."""
        data = json.loads(body)
        return [
            MessageIn(
                external_id=str(data["client_id"]),
                sender_id=str(data["visitor_id"]),
                text=str(data.get("text") or ""),
                sender_name=data.get("name") or None,
                timestamp=datetime.now(UTC),
            )
        ]

    def send(self, msg: OutboundMessage, cfg: ChannelConfig) -> SendResult:
        """The visitor's browser receives replies over the live stream; nothing to call."""
        return SendResult(external_id=f"widget-{msg.message_id}")

    def connect(self, cfg: ChannelConfig) -> ConnectionInfo:
        """The widget is always reachable; it is ready once origins are listed."""
        origins = settings_of(cfg.config)["allowed_origins"]
        if not origins:
            return ConnectionInfo(ok=False, error="List at least one allowed origin.")
        return ConnectionInfo(ok=True, display_name=settings_of(cfg.config)["title"])


adapter = registry.register(WidgetAdapter())
