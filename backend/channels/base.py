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
    # The channel's own id of the message when the dedup key is another one (Telegram's
    # update_id): later edits name the message by this.
    message_ref: str | None = None
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


@dataclass(frozen=True)
class Edit:
    """The customer changed (or deleted) a message they sent earlier.

    `external_id` is the dedup key of the edit itself (an update id, or the message id with
    the edit's number); `message_external_id` names the message that changed.
    """

    external_id: str
    message_external_id: str
    sender_id: str
    text: str = ""
    deleted: bool = False
    timestamp: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    kind: ClassVar[str] = "edit"


@dataclass(frozen=True)
class Reaction:
    """A customer reacted to a message (or took the reaction back: `emoji` empty).

    Dedup key: message id + reaction + sender, so each change of mind is its own event.
    """

    external_id: str
    message_external_id: str
    sender_id: str
    emoji: str = ""
    timestamp: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    kind: ClassVar[str] = "reaction"


@dataclass(frozen=True)
class Echo:
    """A message the business's own account sent (from the platform's app or BizBot itself).

    `sender_id` is the customer the message went to, so the echo is ordered with that
    customer's messages; it is stored as outbound and never answered.
    """

    external_id: str
    sender_id: str
    text: str = ""
    content_type: str = "text"
    attachments: list[dict[str, Any]] = field(default_factory=list)
    app_id: str | None = None
    # What the sender attached to the message; BizBot marks its own sends `bizbot:<message id>`.
    metadata: str | None = None
    timestamp: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    kind: ClassVar[str] = "echo"


@dataclass(frozen=True)
class Receipt:
    """The customer received or read our messages up to a moment (`watermark`), or the listed ones.

    Dedup key: the receipt kind, the customer and the watermark (or the message ids).
    """

    external_id: str
    sender_id: str
    status: str  # "delivered" or "read"
    watermark: str | None = None  # ISO 8601: every message sent before it is covered
    message_external_ids: list[str] = field(default_factory=list)
    timestamp: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    kind: ClassVar[str] = "receipt"


ChannelEvent = MessageIn | StatusUpdate | Edit | Reaction | Echo | Receipt | Unsupported
EVENT_TYPES: tuple[type, ...] = (
    MessageIn,
    StatusUpdate,
    Edit,
    Reaction,
    Echo,
    Receipt,
    Unsupported,
)


class BadPayload(ValueError):
    """An authentic request whose body is not what the channel documents (HTTP 400)."""


@dataclass(frozen=True)
class MediaFile:
    """A customer's file as downloaded from the channel, before BizBot stores it."""

    content: bytes
    mime_type: str
    filename: str | None = None


@dataclass(frozen=True)
class OutboundMessage:
    """A message to deliver to a customer on a channel."""

    message_id: int
    conversation_id: int
    recipient_id: str
    text: str
    quick_replies: list[str] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    # Who wrote it ("ai", "agent", "system"): Meta's HUMAN_AGENT tag is for people only.
    sender_type: str = "ai"
    # The customer's last message: channels with a reply window (WhatsApp, Meta) check it.
    customer_last_message_at: datetime | None = None
    # An approved template to send instead of free text ({"name", "language", "components"}).
    template: dict[str, Any] | None = None


@dataclass(frozen=True)
class SendResult:
    """What the channel said: the provider's message id, or why it failed."""

    external_id: str | None = None
    error: str | None = None
    retryable: bool = True
    # Seconds the platform asked us to wait before sending again (Telegram's 429 retry_after).
    retry_after: float | None = None


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


class DownloadsMedia(Protocol):
    """Channels whose customers send files implement this too (the media job calls it)."""

    def download(
        self, attachment: Mapping[str, Any], cfg: ChannelConfig, *, max_bytes: int
    ) -> MediaFile: ...


class MediaError(Exception):
    """A customer's file could not be fetched or is not allowed; the message says why."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable
