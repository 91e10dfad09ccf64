"""Ad copy, images, video scripts and campaigns the AI drafts for the business."""

from __future__ import annotations

from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field

from backend.models.base import Table, business_fk, enum_field, json_field


class AdAssetKind(StrEnum):
    """What kind of ad material an asset is."""

    COPY = "copy"
    IMAGE = "image"
    VIDEO_SCRIPT = "video_script"
    CAMPAIGN = "campaign"


class AdPlatform(StrEnum):
    """Where the ad will run."""

    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    WHATSAPP = "whatsapp"
    GOOGLE = "google"
    TIKTOK = "tiktok"


class AdAssetStatus(StrEnum):
    """Whether an ad asset is being worked on, ready to use, or put away."""

    DRAFT = "draft"
    READY = "ready"
    ARCHIVED = "archived"


class AdAsset(Table, table=True):
    """A piece of ad material drafted for the business, with the prompt that made it."""

    __table_args__ = (
        # The ref code in a click-to-chat link names one asset of the business.
        sa.UniqueConstraint("business_id", "ref_code", name="uq_adasset_business_ref_code"),
    )

    business_id: int = business_fk()
    kind: str = enum_field(AdAssetKind.COPY)
    title: str = Field(max_length=200)
    prompt: str | None = Field(default=None, sa_type=sa.Text)
    content: str | None = Field(default=None, sa_type=sa.Text)
    image_path: str | None = Field(default=None, max_length=500)
    platform: str = enum_field(AdPlatform.FACEBOOK)
    status: str = enum_field(AdAssetStatus.DRAFT)
    meta: dict = json_field()
    # Copy assets: the call to action under the headline (title) and primary text (content).
    call_to_action: str | None = Field(default=None, max_length=60)
    language: str | None = Field(default=None, max_length=8)
    product_id: int | None = Field(
        default=None, foreign_key="product.id", ondelete="SET NULL", index=True
    )
    # A short code put in the prefilled chat text; a first message carrying it is counted.
    ref_code: str | None = Field(default=None, max_length=12)


class AdConversation(Table, table=True):
    """A conversation whose customer's first message carried an ad's ref code (counted once)."""

    __table_args__ = (
        sa.UniqueConstraint("ad_asset_id", "conversation_id", name="uq_adconversation_asset_conv"),
    )

    business_id: int = business_fk()
    ad_asset_id: int = Field(foreign_key="adasset.id", ondelete="CASCADE", index=True)
    conversation_id: int = Field(foreign_key="conversation.id", ondelete="CASCADE", index=True)
