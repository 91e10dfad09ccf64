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

    business_id: int = business_fk()
    kind: str = enum_field(AdAssetKind.COPY)
    title: str = Field(max_length=200)
    prompt: str | None = Field(default=None, sa_type=sa.Text)
    content: str | None = Field(default=None, sa_type=sa.Text)
    image_path: str | None = Field(default=None, max_length=500)
    platform: str = enum_field(AdPlatform.FACEBOOK)
    status: str = enum_field(AdAssetStatus.DRAFT)
    meta: dict = json_field()
