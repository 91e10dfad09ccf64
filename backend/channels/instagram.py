"""Instagram direct messages: Messenger's adapter with Instagram's webhook object and ids.

Story replies arrive as messages with the story attached; story mentions as messages that
only reference the story (its CDN URL is kept, never its content, as Meta requires).
"""

from __future__ import annotations

from typing import ClassVar

from backend.channels import registry
from backend.channels.base import ChannelConfig
from backend.channels.messenger import MetaMessagingAdapter


class InstagramAdapter(MetaMessagingAdapter):
    """Instagram professional accounts' direct messages (Messenger API for Instagram)."""

    kind: ClassVar[str] = "instagram"
    platform: ClassVar[str] = "Instagram"
    webhook_object: ClassVar[str] = "instagram"
    account_field: ClassVar[str] = "ig_account_id"
    profile_fields: ClassVar[str] = "name,username"

    def _account_path(self, cfg: ChannelConfig) -> str:
        account = cfg.credentials.get("ig_account_id")
        return str(account) if account else "me"


KIND = InstagramAdapter.kind

adapter = registry.register(InstagramAdapter())
