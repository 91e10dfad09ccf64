"""Which adapter serves which channel kind."""

from __future__ import annotations

from backend.channels.base import ChannelAdapter

_adapters: dict[str, ChannelAdapter] = {}


class UnknownChannel(LookupError):
    """No adapter is registered for a channel kind."""


def register(adapter: ChannelAdapter) -> ChannelAdapter:
    """Make `adapter` serve its `kind` (replacing any earlier one)."""
    _adapters[adapter.kind] = adapter
    return adapter


def get_adapter(kind: str) -> ChannelAdapter:
    """The adapter for `kind`, or UnknownChannel naming the kinds that exist."""
    try:
        return _adapters[kind]
    except KeyError:
        known = ", ".join(sorted(_adapters)) or "none yet"
        msg = f"no channel adapter for {kind!r} (registered: {known})"
        raise UnknownChannel(msg) from None
