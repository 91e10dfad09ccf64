"""A channel adapter for pipeline tests: it speaks no provider API, it records what is sent.

Real channels (WhatsApp, Telegram, …) have their own adapters and fake provider servers; the
pipeline does not know which channel it serves, so its tests use this one.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from backend.channels.base import (
    ChannelConfig,
    ChannelEvent,
    ConnectionInfo,
    OutboundMessage,
    SendResult,
)


@dataclass
class RecordingChannel:
    """Records every message sent; `fail_with` makes sends fail (retryable) with that error."""

    kind: ClassVar[str] = "test"
    sent: list[OutboundMessage] = field(default_factory=list)
    fail_with: str | None = None
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def challenge(self, query: Mapping[str, str], cfg: ChannelConfig) -> str:
        return query.get("challenge", "")

    def verify(self, headers: Mapping[str, str], body: bytes, cfg: ChannelConfig) -> None:
        return None

    def parse(self, body: bytes, cfg: ChannelConfig) -> list[ChannelEvent]:
        return []

    def send(self, msg: OutboundMessage, cfg: ChannelConfig) -> SendResult:
        if self.fail_with:
            return SendResult(error=self.fail_with, retryable=True)
        self.sent.append(msg)
        return SendResult(external_id=f"out-{next(self._ids)}")

    def connect(self, cfg: ChannelConfig) -> ConnectionInfo:
        return ConnectionInfo(ok=True, display_name="Test channel")
