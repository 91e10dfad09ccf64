"""Channel integrations: stored encrypted, handed to adapters as a ChannelConfig."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session

from backend.channels import repository as repo
from backend.channels import webhook_cache  # noqa: F401  (its commit hooks keep webhook configs fresh)
from backend.channels.base import ChannelConfig
from backend.channels.meta import ago
from backend.core.config import settings
from backend.core.crypto import DecryptionError, decrypt, encrypt
from backend.models.channels import ChannelIntegration, WebhookDelivery


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


# --- webhooks ----------------------------------------------------------------------------------

WEBHOOK_KINDS = ("whatsapp", "telegram", "messenger", "instagram")


class WebhookRefused(Exception):
    """A webhook request BizBot will not take; `status` is the HTTP answer, `code` a short name."""

    def __init__(self, message: str, *, status: int, code: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


def webhook_url(kind: str, integration_id: int) -> str:
    """The address a platform calls for this integration (from PUBLIC_URL)."""
    return f"{settings.public_url}/webhooks/{kind}/{integration_id}"


def webhook_config(session: Session, *, integration_id: int, kind: str) -> ChannelConfig:
    """The config of the enabled integration a webhook URL names, or WebhookRefused saying why."""
    integration = repo.find_integration_for_webhook(session, integration_id=integration_id)
    if integration is None:
        raise WebhookRefused(
            f"No channel integration {integration_id}: check the webhook URL in Integrations.",
            status=404, code="unknown_integration",
        )  # fmt: skip
    if integration.kind != kind:
        raise WebhookRefused(
            f"Integration {integration_id} is a {integration.kind} channel, not {kind}: its "
            f"webhook URL is {webhook_url(integration.kind, integration_id)}.",
            status=404, code="wrong_channel",
        )  # fmt: skip
    if not integration.is_enabled:
        raise WebhookRefused(
            f"Channel integration {integration_id} is disconnected or turned off; connect it "
            "again in Integrations.",
            status=410, code="disabled",
        )  # fmt: skip
    try:
        return to_config(integration)
    except DecryptionError as exc:  # BizBot's own problem: let the platform retry later.
        raise WebhookRefused(str(exc), status=503, code="credentials_unreadable") from exc


def record_delivery(
    session: Session,
    *,
    cfg: ChannelConfig,
    body: bytes,
    content_type: str | None,
    outcome: str,
    error: str | None = None,
    event_count: int = 0,
    new_event_ids: list[int] | None = None,
) -> WebhookDelivery:
    """Keep an authentic webhook request's raw body with what became of it."""
    return repo.add_delivery(
        session,
        WebhookDelivery(
            business_id=cfg.business_id,
            channel_integration_id=cfg.integration_id,
            body=body,
            content_type=(content_type or "")[:120] or None,
            outcome=outcome,
            error=error,
            event_count=event_count,
            new_event_ids=list(new_event_ids or []),
        ),
    )


def purge_deliveries(session: Session, *, now: datetime | None = None) -> int:
    """Delete raw webhook bodies older than WEBHOOK_RETENTION_DAYS; how many went."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=settings.webhook_retention_days)
    total = 0
    while True:
        deleted = repo.purge_deliveries(session, older_than=cutoff)
        total += deleted
        if deleted == 0:
            return total


# --- reply windows -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplyWindow:
    """Whether free text can reach the customer now, and what the composer should say."""

    open: bool
    closes_at: datetime | None = None
    template_required: bool = False
    notice: str | None = None


_WHATSAPP_WINDOW = timedelta(hours=24)
_META_WINDOW = timedelta(hours=24)
_HUMAN_AGENT_WINDOW = timedelta(days=7)
# The composer warns with the time left when a window closes within this.
CLOSING_SOON = timedelta(hours=1)
_UNTIL_THEN = (
    "until then add a private note for your team; you can reply freely as soon as the "
    "customer writes again."
)


def _last_wrote(last: datetime | None, now: datetime, platform: str) -> str:
    if last is None:
        return f"The customer has not written on {platform} yet"
    return f"The customer last wrote {ago(last, now=now)}"


def _minutes_left(closes: datetime, now: datetime) -> str:
    minutes = max(1, math.ceil((closes - now).total_seconds() / 60))
    return f"{minutes} minute{'s' * (minutes != 1)}"


def reply_window(
    *, kind: str | None, last_customer_message_at: datetime | None, now: datetime | None = None
) -> ReplyWindow:
    """The channel's customer-service window for an agent's reply (the composer shows it)."""
    now = now or datetime.now(UTC)
    last = last_customer_message_at
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=UTC)
    if kind == "whatsapp":
        closes = last + _WHATSAPP_WINDOW if last else None
        if closes and now < closes:
            soon = closes - now <= CLOSING_SOON
            return ReplyWindow(
                open=True, closes_at=closes,
                notice=(
                    f"WhatsApp's 24-hour window closes in {_minutes_left(closes, now)}: after "
                    "that only an approved template message can reach the customer."
                ) if soon else None,
            )  # fmt: skip
        return ReplyWindow(
            open=False, closes_at=closes, template_required=True,
            notice=(
                f"{_last_wrote(last, now, 'WhatsApp')}; WhatsApp only allows template messages "
                "outside 24 hours: send an approved template (Send a template), or add a private "
                "note for your team; you can reply freely as soon as the customer writes again."
            ),
        )  # fmt: skip
    if kind in ("messenger", "instagram"):
        platform = "Messenger" if kind == "messenger" else "Instagram"
        closes = last + _META_WINDOW if last else None
        if closes and now < closes:
            soon = closes - now <= CLOSING_SOON
            return ReplyWindow(
                open=True, closes_at=closes,
                notice=(
                    f"{platform}'s 24-hour window closes in {_minutes_left(closes, now)}: after "
                    "that only a person may reply (with the Human Agent tag), up to 7 days "
                    "after the customer's last message."
                ) if soon else None,
            )  # fmt: skip
        tagged = last + _HUMAN_AGENT_WINDOW if last else None
        if tagged and now < tagged:
            left = (
                f" It closes in {_minutes_left(tagged, now)}."
                if tagged - now <= CLOSING_SOON
                else ""
            )
            return ReplyWindow(
                open=True, closes_at=tagged,
                notice=(
                    f"{platform}'s 24-hour window has closed: your reply goes out with the "
                    "Human Agent tag, allowed for a person (not the AI) until 7 days after the "
                    f"customer's last message.{left}"
                ),
            )  # fmt: skip
        return ReplyWindow(
            open=False, closes_at=tagged,
            notice=(
                f"{_last_wrote(last, now, platform)}; {platform} allows no messages more than "
                "7 days after the customer's last one. " + _UNTIL_THEN[0].upper() + _UNTIL_THEN[1:]
            ),
        )  # fmt: skip
    return ReplyWindow(open=True)
