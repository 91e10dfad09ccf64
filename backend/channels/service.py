"""Channel integrations: stored encrypted, handed to adapters as a ChannelConfig."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session

from backend.channels import repository as repo
from backend.channels.base import ChannelConfig
from backend.core.crypto import decrypt, encrypt
from backend.models.channels import ChannelIntegration


class IntegrationNotFound(LookupError):
    """No such channel integration."""


def create_integration(
    session: Session,
    *,
    business_id: int,
    kind: str,
    name: str,
    credentials: dict[str, Any] | None = None,
    config: dict[str, Any] | None = None,
    public_key: str | None = None,
) -> ChannelIntegration:
    """Add a channel to a business; credentials are encrypted before they are stored."""
    integration = ChannelIntegration(
        business_id=business_id,
        kind=kind,
        name=name,
        public_key=public_key,
        credentials_encrypted=encrypt(json.dumps(credentials)) if credentials else None,
        config=config or {},
    )
    session.add(integration)
    session.flush()
    return integration


def to_config(integration: ChannelIntegration) -> ChannelConfig:
    """The adapter's view of an integration, credentials decrypted."""
    credentials = (
        json.loads(decrypt(integration.credentials_encrypted))
        if integration.credentials_encrypted
        else {}
    )
    return ChannelConfig(
        integration_id=integration.id,
        business_id=integration.business_id,
        kind=integration.kind,
        credentials=credentials,
        config=dict(integration.config or {}),
    )


def config_for_webhook(session: Session, *, integration_id: int) -> ChannelConfig:
    """The config of the integration a webhook URL names; IntegrationNotFound if none/disabled."""
    integration = repo.find_integration_for_webhook(session, integration_id=integration_id)
    if integration is None or not integration.is_enabled:
        raise IntegrationNotFound(f"no enabled channel integration {integration_id}")
    return to_config(integration)
