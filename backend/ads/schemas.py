"""Plain data the ads domain hands out (never ORM rows)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = [
    "CTA_MAX",
    "LANGUAGES",
    "LIMITS",
    "PLATFORMS",
    "TONES",
    "AdBrief",
    "AdError",
    "AdLink",
    "AdVariant",
    "AssetView",
    "Generation",
    "ProductOption",
]

# The platforms the studio writes for, with what the page calls them.
PLATFORMS: dict[str, str] = {
    "whatsapp": "WhatsApp click-to-chat",
    "instagram": "Instagram",
    "facebook": "Facebook",
}
LANGUAGES: dict[str, str] = {
    "en": "English",
    "fr": "Français",
    "es": "Español",
    "pt": "Português",
    "sw": "Kiswahili",
}
TONES: dict[str, str] = {
    "friendly": "Friendly",
    "professional": "Professional",
    "playful": "Playful",
}
MIN_VARIANTS, MAX_VARIANTS = 1, 5
CTA_MAX = 30


@dataclass(frozen=True)
class Limits:
    """How long a headline and a primary text may be on a platform (characters)."""

    headline: int
    primary_text: int


# Meta's recommended lengths: past them the text is cut off in the feed ("… See more").
LIMITS: dict[str, Limits] = {
    "facebook": Limits(headline=40, primary_text=125),
    "instagram": Limits(headline=40, primary_text=125),
    # A message shared on WhatsApp (status, groups, broadcasts) has room for a little more.
    "whatsapp": Limits(headline=60, primary_text=250),
}


class AdError(ValueError):
    """Bad input for an ad; `field` names the form field, the message the fix."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class AdBrief:
    """What to write ads about, checked and filled from the catalogue (no database needed)."""

    business_name: str
    platform: str
    language: str
    count: int
    tone: str
    product_id: int | None
    name: str  # the product's name, or the offer's first words
    price: str  # e.g. "12.50 USD"; "" for an offer
    description: str
    offer: str  # the free text the owner typed ("" for a product)
    ai_budget_spent: bool = False  # the business's monthly LLM token budget is used up


@dataclass(frozen=True)
class AdVariant:
    """One ad copy: headline, primary text and call to action."""

    headline: str
    primary_text: str
    call_to_action: str


@dataclass(frozen=True)
class Generation:
    """The variants written for a brief, who wrote them, and anything the owner should know."""

    variants: list[AdVariant]
    source: str  # "ai" or "templates"
    notice: str  # "" or why the templates were used although an AI is configured
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(frozen=True)
class AdLink:
    """The chat link of an asset and its QR code, or why there is none yet."""

    url: str  # "" when the channel is not connected
    qr_png: str  # a data:image/png;base64 URI ("" without a URL)
    qr_svg: str  # a data:image/svg+xml URI ("" without a URL)
    problem: str  # "" or how to connect the channel the link needs


@dataclass(frozen=True)
class AssetView:
    """A saved ad as the Ads page lists it."""

    id: int
    headline: str
    primary_text: str
    call_to_action: str
    platform: str
    platform_label: str
    language: str
    status: str
    product_id: int | None
    ref_code: str
    link: AdLink
    conversations: int  # conversations started from the link
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ProductOption:
    """A catalogue product the generator can write about."""

    id: int
    name: str
    price: str
