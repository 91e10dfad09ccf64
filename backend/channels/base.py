"""The channel adapter contract: how a channel's webhooks come in and its messages go out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol


class MissingSignature(Exception):
    """The request carries no signature (HTTP 401)."""


class InvalidSignature(Exception):
    """The signature does not match the raw body (HTTP 403)."""


@dataclass(frozen=True)
class ChannelConfig:
    """One integration's settings, credentials decrypted, as an adapter needs them."""

    integration_id: int
    business_id: int
    kind: str
    credentials: Mapping[str, Any] = field(default_factory=dict)
    config: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MessageIn:
    """A customer's message; `external_id` is the provider's id of it (the dedup key)."""

    external_id: str
    sender_id: str  # phone number, chat id, PSID, visitor token …
    text: str = ""
    sender_name: str | None = None
    content_type: str = "text"
    attachments: list[dict[str, Any]] = field(default_factory=list)
    timestamp: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    kind: ClassVar[str] = "message"


@dataclass(frozen=True)
class StatusUpdate:
    """The channel reports delivery of one of our messages (sent, delivered, read, failed)."""

    external_id: str  # the dedup key of this status event
    message_external_id: str
    status: str
    error: str | None = None
    timestamp: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    kind: ClassVar[str] = "status"


@dataclass(frozen=True)
class Unsupported:
    """An event BizBot keeps but does not act on (stored as such, never dropped)."""

    external_id: str
    sender_id: str | None = None
    description: str = ""
    timestamp: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    kind: ClassVar[str] = "unsupported"


ChannelEvent = MessageIn | StatusUpdate | Unsupported


@dataclass(frozen=True)
class OutboundMessage:
    """A message to deliver to a customer on a channel."""

    message_id: int
    conversation_id: int
    recipient_id: str
    text: str
    quick_replies: list[str] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class SendResult:
    """What the channel said: the provider's message id, or why it failed."""

    external_id: str | None = None
    error: str | None = None
    retryable: bool = True


@dataclass(frozen=True)
class ConnectionInfo:
    """The result of a connection test: the account's display name, or the exact error."""

    ok: bool
    display_name: str | None = None
    error: str | None = None


class ChannelAdapter(Protocol):
    """What every channel module implements (see ARCHITECTURE.md)."""

    kind: ClassVar[str]

    def challenge(self, query: Mapping[str, str], cfg: ChannelConfig) -> str: ...

    def verify(self, headers: Mapping[str, str], body: bytes, cfg: ChannelConfig) -> None: ...

    def parse(self, body: bytes, cfg: ChannelConfig) -> list[ChannelEvent]: ...

    def send(self, msg: OutboundMessage, cfg: ChannelConfig) -> SendResult: ...

    def connect(self, cfg: ChannelConfig) -> ConnectionInfo: ...
