"""The business's customers and how each channel knows them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from backend.models.base import Table, business_fk, json_field, tz_field


class Contact(Table, table=True):
    """A customer of the business, across all the channels they use."""

    business_id: int = business_fk()
    name: str | None = Field(default=None, max_length=120)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    language: str | None = Field(default=None, max_length=16)
    avatar_url: str | None = Field(default=None, max_length=1000)
    attributes: dict = json_field()
    opted_out_at: datetime | None = tz_field()
    last_seen_at: datetime | None = tz_field()


class ContactChannelIdentity(Table, table=True):
    """A contact's id on one channel (WhatsApp number, Telegram user id, widget visitor id, …)."""

    __table_args__ = (
        sa.UniqueConstraint(
            "channel_integration_id",
            "external_user_id",
            name="uq_contactchannelidentity_integration_external",
        ),
    )

    business_id: int = business_fk()
    contact_id: int = Field(foreign_key="contact.id", ondelete="CASCADE", index=True)
    channel_integration_id: int = Field(foreign_key="channelintegration.id", ondelete="CASCADE")
    external_user_id: str = Field(max_length=255)
