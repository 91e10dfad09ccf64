"""Which adapter serves which channel kind."""

from __future__ import annotations

import importlib

from backend.channels.base import ChannelAdapter

# Channel modules in backend/channels/, imported the first time their kind is needed.
BUILT_IN = ("widget", "whatsapp", "telegram", "messenger", "instagram")

_adapters: dict[str, ChannelAdapter] = {}


class UnknownChannel(LookupError):
    """No adapter is registered for a channel kind."""


def register(adapter: ChannelAdapter) -> ChannelAdapter:
    """Make `adapter` serve its `kind` (replacing any earlier one)."""
    _adapters[adapter.kind] = adapter
    return adapter


def get_adapter(kind: str) -> ChannelAdapter:
    """The adapter for `kind`, or UnknownChannel naming the kinds that exist."""
    if kind not in _adapters and kind in BUILT_IN:
        importlib.import_module(f"backend.channels.{kind}")
    try:
        return _adapters[kind]
    except KeyError:
        known = ", ".join(sorted({*_adapters, *BUILT_IN})) or "none yet"
        msg = f"no channel adapter for {kind!r} (registered: {known})"
        raise UnknownChannel(msg) from None
