"""Ads Studio: ad copy for a product or an offer, saved as assets with a click-to-chat link.

Copy is written by the configured LLM (one chat completion answering JSON), or offline from
templates (`backend.ads.templates`) when there is none or its answer is unusable. Each saved
asset gets a short ref code that its chat link prefills; a customer's first message carrying
the code counts the conversation for that asset, once. Owners and admins manage ads; every
member may read them.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from typing import Any
from urllib.parse import quote

import segno
from sqlmodel import Session

from backend.ads import repository as repo
from backend.ads import templates
from backend.ads.schemas import (
    CTA_MAX,
    LANGUAGES,
    LIMITS,
    MAX_VARIANTS,
    MIN_VARIANTS,
    PLATFORMS,
    TONES,
    AdBrief,
    AdError,
    AdLink,
    AdVariant,
    AssetView,
    Generation,
    ProductOption,
)
from backend.ai import llm, usage
from backend.ai import service as ai_rules
from backend.auth.permissions import Actor, Permission
from backend.channels import service as channels
from backend.commerce import service as commerce
from backend.commerce.schemas import CommerceError
from backend.events import publish
from backend.models.ads import AdAsset, AdAssetKind, AdAssetStatus

__all__ = [
    "chat_link",
    "count_conversation",
    "delete_asset",
    "find_ref_code",
    "generate_variants",
    "get_asset",
    "list_assets",
    "prepare_brief",
    "product_options",
    "save_variant",
    "set_status",
    "update_asset",
    "write_variants",
]

log = logging.getLogger(__name__)

MAX_OFFER = 500
MAX_ASSETS = 200
_REF_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O or 1/I to misread from a poster
_REF = re.compile(r"\br[eé]f\W{0,3}(AD[0-9A-Z]{4})\b", re.IGNORECASE)
_PHONE_IN_NAME = re.compile(r"\(([+\d][\d\s().-]{5,})\)\s*$")
_STATUSES = [str(s) for s in AdAssetStatus]
_UNSET: Any = object()


# --- checking input ---------------------------------------------------------------------------


def _platform(value: str) -> str:
    platform = str(value or "").strip().lower()
    if platform not in PLATFORMS:
        raise AdError(
            f"Unknown platform {value!r}; choose one of {', '.join(PLATFORMS)}.", field="platform"
        )
    return platform


def _language(value: str) -> str:
    language = str(value or "").strip().lower()
    if language not in LANGUAGES:
        raise AdError(
            f"Unknown language {value!r}; choose one of {', '.join(LANGUAGES)}.", field="language"
        )
    return language


def _count(value: int | str) -> int:
    try:
        count = int(value)
    except (TypeError, ValueError):
        count = 0
    if not MIN_VARIANTS <= count <= MAX_VARIANTS:
        raise AdError(
            f"Ask for {MIN_VARIANTS} to {MAX_VARIANTS} variants (got {value!r}).", field="count"
        )
    return count


def _tone(value: str) -> str:
    tone = str(value or "friendly").strip().lower()
    if tone not in TONES:
        raise AdError(f"Unknown tone {value!r}; choose one of {', '.join(TONES)}.", field="tone")
    return tone


def _copy_text(value: str, *, field: str, label: str, limit: int, platform: str) -> str:
    text = " ".join(str(value or "").split())
    if not text:
        raise AdError(f"{label} is empty; write one.", field=field)
    if len(text) > limit:
        raise AdError(
            f"{label} is {len(text)} characters; {PLATFORMS[platform]} shows at most {limit}. "
            "Shorten it.",
            field=field,
        )
    return text


# --- writing copy -----------------------------------------------------------------------------


def product_options(session: Session, *, actor: Actor) -> list[ProductOption]:
    """The catalogue's active products the generator can write about."""
    actor.require(Permission.ADS_MANAGE)
    return [
        ProductOption(id=p.id, name=p.name, price=p.price_display)
        for p in commerce.active_products(session, business_id=actor.business_id)
    ]


def prepare_brief(
    session: Session,
    *,
    actor: Actor,
    platform: str,
    language: str,
    count: int | str = 3,
    tone: str = "friendly",
    product_id: int | str | None = None,
    offer: str = "",
) -> AdBrief:
    """Check the generator form and fill it from the catalogue: a product or a free-text offer."""
    actor.require(Permission.ADS_MANAGE)
    platform, language = _platform(platform), _language(language)
    count, tone = _count(count), _tone(tone)
    business = repo.business(session, business_id=actor.business_id)
    business_name = business.name if business else "us"
    spent = False
    if llm.configured():
        budget = ai_rules.rules_for(session, business_id=actor.business_id).monthly_token_budget
        spent = not usage.budget_left(session, business_id=actor.business_id, budget=budget)
    offer = " ".join(str(offer or "").split())
    if product_id not in (None, "", 0, "0"):
        try:
            product = commerce.get_product(session, actor=actor, product_id=int(product_id))
        except (CommerceError, TypeError, ValueError):
            raise AdError(
                "This product is not in your catalogue any more; pick another one.",
                field="product",
            ) from None
        return AdBrief(business_name=business_name, platform=platform, language=language,
                       count=count, tone=tone, product_id=product.id, name=product.name,
                       price=product.price_display, description=product.description or "",
                       offer="", ai_budget_spent=spent)  # fmt: skip
    if not offer:
        raise AdError("Pick a product from the catalogue or describe your offer.", field="offer")
    if len(offer) > MAX_OFFER:
        raise AdError(
            f"The offer is longer than {MAX_OFFER} characters; keep it to the essentials.",
            field="offer",
        )
    first = re.split(r"(?<=[.!?])\s", offer, maxsplit=1)[0].rstrip(".!?")
    name = templates.shorten(first, 40)
    description = offer if offer.rstrip(".!?") != first else ""
    return AdBrief(business_name=business_name, platform=platform, language=language,
                   count=count, tone=tone, product_id=None, name=name, price="",
                   description=description, offer=offer, ai_budget_spent=spent)  # fmt: skip


def _llm_messages(brief: AdBrief) -> list[dict[str, str]]:
    limits = LIMITS[brief.platform]
    subject = (
        f"Product: {brief.name}\nPrice: {brief.price}\nDescription: {brief.description or '-'}"
        if brief.product_id
        else f"Offer: {brief.offer}"
    )
    system = (
        "You write short, honest ad copy for a small business. Never invent prices, discounts "
        "or facts that are not given. Answer with JSON only, shaped exactly like "
        '{"variants": [{"headline": "...", "primary_text": "...", "call_to_action": "..."}]}.'
    )
    user = (
        f"Business: {brief.business_name}\n{subject}\n"
        f"Platform: {PLATFORMS[brief.platform]}\n"
        f"Language: {LANGUAGES[brief.language]} ({brief.language}); write every field in it.\n"
        f"Tone: {brief.tone}\n"
        f"Write {brief.count} different variants. Headline at most {limits.headline} "
        f"characters, primary text at most {limits.primary_text} characters, call to action at "
        f"most {CTA_MAX} characters. The call to action invites the customer to message us."
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def _parse_variants(content: str, brief: AdBrief) -> list[AdVariant]:
    """The variants in the model's answer, fitted to the limits; AdError when unusable."""
    text = content.strip()
    if text.startswith("```"):  # Some models fence JSON even when asked not to.
        text = text.strip("`").removeprefix("json").strip()
    try:
        data = json.loads(text)
    except ValueError:
        raise AdError("the answer was not JSON") from None
    items = data.get("variants") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise AdError('the answer had no "variants" list')
    limits = LIMITS[brief.platform]
    variants = []
    for item in items[: brief.count]:
        if not isinstance(item, dict):
            continue
        fields = [item.get(k) for k in ("headline", "primary_text", "call_to_action")]
        if not all(isinstance(f, str) and f.strip() for f in fields):
            continue
        headline, body, cta = fields
        variants.append(
            AdVariant(
                headline=templates.shorten(headline, limits.headline),
                primary_text=templates.shorten(body, limits.primary_text),
                call_to_action=templates.shorten(cta, CTA_MAX),
            )
        )
    if not variants:
        raise AdError("no variant had a headline, a primary text and a call to action")
    return variants


def write_variants(brief: AdBrief) -> Generation:
    """Write the brief's variants: with the LLM when configured, else (or on a bad answer) from
    the templates, saying why. Makes network calls; no database."""
    if not llm.configured():
        return Generation(variants=templates.write(brief), source="templates", notice="")
    if brief.ai_budget_spent:
        notice = "This month's AI token budget is used up (AI Rules page), so these variants come "
        notice += "from BizBot's templates."
        return Generation(variants=templates.write(brief), source="templates", notice=notice)
    try:
        reply = llm.chat(_llm_messages(brief), json_mode=True)
        variants = _parse_variants(reply.content, brief)
    except (llm.LLMError, AdError) as exc:
        log.warning("ad copy from the LLM unusable, using templates: %s", exc)
        reason = exc.message if isinstance(exc, AdError) else "the AI could not be reached"
        notice = f"The AI's answer could not be used ({reason}); these variants come from "
        notice += "BizBot's templates. Try again, or edit them before saving."
        return Generation(variants=templates.write(brief), source="templates", notice=notice)
    return Generation(variants=variants, source="ai", notice="",
                      prompt_tokens=reply.prompt_tokens,
                      completion_tokens=reply.completion_tokens)  # fmt: skip


def record_usage(session: Session, *, business_id: int, generation: Generation) -> None:
    """Count an AI generation's tokens in the business's monthly LLM usage."""
    if generation.source == "ai":
        usage.record(session, business_id=business_id, prompt_tokens=generation.prompt_tokens,
                     completion_tokens=generation.completion_tokens)  # fmt: skip


def generate_variants(session: Session, *, actor: Actor, **form: Any) -> Generation:
    """Check the form and write its variants in one call (`prepare_brief`'s arguments).

    The page calls `prepare_brief` and `write_variants` separately, so the LLM call never holds a
    database session open.
    """
    generation = write_variants(prepare_brief(session, actor=actor, **form))
    record_usage(session, business_id=actor.business_id, generation=generation)
    return generation


# --- links ------------------------------------------------------------------------------------


def _whatsapp_number(config: dict) -> str:
    number = str(config.get("display_phone_number") or "")
    if not number:
        match = _PHONE_IN_NAME.search(str(config.get("display_name") or ""))
        number = match.group(1) if match else ""
    return re.sub(r"\D", "", number)


def _qr(url: str) -> tuple[str, str]:
    qr = segno.make(url, error="m")
    return qr.png_data_uri(scale=6, border=2), qr.svg_data_uri(scale=4, border=2)


def _link(url: str) -> AdLink:
    png, svg = _qr(url)
    return AdLink(url=url, qr_png=png, qr_svg=svg, problem="")


def _no_link(problem: str) -> AdLink:
    return AdLink(url="", qr_png="", qr_svg="", problem=problem)


def chat_link(session: Session, *, business_id: int, asset: AdAsset) -> AdLink:
    """The asset's click-to-chat link and QR code, or how to connect the channel it needs.

    WhatsApp: wa.me with a prefilled message carrying the ref code. Facebook: m.me to the
    connected Page, Instagram: ig.me to the connected account, both with `?ref=<code>`.
    """
    meta = asset.meta or {}
    if asset.platform == "whatsapp":
        channel = repo.channel_of_kind(session, business_id=business_id, kind="whatsapp")
        number = _whatsapp_number(dict(channel.config or {})) if channel else ""
        if not number:
            return _no_link(
                "No WhatsApp number yet: connect WhatsApp on the Integrations page and press "
                "Test connection, so BizBot knows the number customers write to."
            )
        text = templates.chat_text(
            language=asset.language or "en",
            name=str(meta.get("subject") or asset.title),
            ref_code=asset.ref_code or "",
            is_offer=asset.product_id is None and not meta.get("product_name"),
        )
        return _link(f"https://wa.me/{number}?text={quote(text, safe='')}")
    if asset.platform == "facebook":
        channel = repo.channel_of_kind(session, business_id=business_id, kind="messenger")
        page_id = ""
        if channel is not None:
            try:
                page_id = str(channels.to_config(channel).credentials.get("page_id") or "")
            except Exception:  # Unreadable credentials: treated like no Page connected.
                log.warning("messenger credentials of business %s unreadable", business_id)
        if not page_id:
            return _no_link(
                "No Facebook Page connected: connect Messenger on the Integrations page to get "
                "an m.me link for this ad."
            )
        return _link(f"https://m.me/{page_id}?ref={asset.ref_code}")
    channel = repo.channel_of_kind(session, business_id=business_id, kind="instagram")
    username = str((channel.config or {}).get("display_name") or "") if channel else ""
    if not username.startswith("@"):
        return _no_link(
            "No Instagram account connected: connect Instagram on the Integrations page and "
            "press Test connection, so BizBot knows its @username for an ig.me link."
        )
    return _link(f"https://ig.me/m/{quote(username[1:], safe='')}?ref={asset.ref_code}")


# --- saved assets -----------------------------------------------------------------------------


def _views(session: Session, business_id: int, assets: list[AdAsset]) -> list[AssetView]:
    counts = repo.conversation_counts(
        session, business_id=business_id, asset_ids=[a.id for a in assets]
    )
    return [
        AssetView(
            id=a.id,
            headline=a.title,
            primary_text=a.content or "",
            call_to_action=a.call_to_action or "",
            platform=a.platform,
            platform_label=PLATFORMS.get(a.platform, a.platform),
            language=a.language or "en",
            status=a.status,
            product_id=a.product_id,
            ref_code=a.ref_code or "",
            link=chat_link(session, business_id=business_id, asset=a),
            conversations=counts.get(a.id, 0),
            created_at=a.created_at,
            updated_at=a.updated_at,
        )
        for a in assets
    ]


def _get(session: Session, actor: Actor, asset_id: int | str, *, for_update: bool = False):
    try:
        asset_id = int(asset_id)
    except (TypeError, ValueError):
        asset_id = 0
    asset = repo.get_asset(
        session, business_id=actor.business_id, asset_id=asset_id, for_update=for_update
    )
    if asset is None:
        raise AdError("This ad no longer exists; reload the page.", field="asset")
    return asset


def _new_ref_code(session: Session, business_id: int) -> str:
    for _ in range(20):
        code = "AD" + "".join(secrets.choice(_REF_ALPHABET) for _ in range(4))
        if not repo.ref_code_taken(session, business_id=business_id, ref_code=code):
            return code
    raise AdError("Could not find a free ref code; try saving again.", field="asset")


def list_assets(
    session: Session, *, actor: Actor, include_archived: bool = False
) -> list[AssetView]:
    """The business's saved ads, newest first, with links and conversations started."""
    actor.require(Permission.DASHBOARD_VIEW)
    assets = repo.list_assets(session, business_id=actor.business_id,
                              include_archived=include_archived, limit=MAX_ASSETS)  # fmt: skip
    return _views(session, actor.business_id, assets)


def get_asset(session: Session, *, actor: Actor, asset_id: int) -> AssetView:
    """One saved ad of the business."""
    actor.require(Permission.DASHBOARD_VIEW)
    return _views(session, actor.business_id, [_get(session, actor, asset_id)])[0]


def save_variant(
    session: Session,
    *,
    actor: Actor,
    platform: str,
    language: str,
    headline: str,
    primary_text: str,
    call_to_action: str,
    product_id: int | str | None = None,
    offer: str = "",
    tone: str = "friendly",
    source: str = "templates",
) -> AssetView:
    """Keep a variant as a draft ad with its own ref code (owners and admins)."""
    actor.require(Permission.ADS_MANAGE)
    platform, language = _platform(platform), _language(language)
    limits = LIMITS[platform]
    title = _copy_text(headline, field="headline", label="The headline",
                       limit=limits.headline, platform=platform)  # fmt: skip
    body = _copy_text(primary_text, field="primary_text", label="The primary text",
                      limit=limits.primary_text, platform=platform)  # fmt: skip
    cta = _copy_text(call_to_action, field="call_to_action", label="The call to action",
                     limit=CTA_MAX, platform=platform)  # fmt: skip
    brief = prepare_brief(session, actor=actor, platform=platform, language=language,
                          count=1, tone=tone, product_id=product_id, offer=offer)  # fmt: skip
    asset = AdAsset(
        business_id=actor.business_id,
        kind=AdAssetKind.COPY,
        title=title,
        content=body,
        call_to_action=cta,
        prompt=brief.offer or brief.name,
        platform=platform,
        language=language,
        product_id=brief.product_id,
        status=AdAssetStatus.DRAFT,
        ref_code=_new_ref_code(session, actor.business_id),
        meta={"subject": brief.name, "tone": brief.tone, "source": source,
              "product_name": brief.name if brief.product_id else None},
    )  # fmt: skip
    repo.save(session, asset)
    publish(session, "ad.saved", business_id=actor.business_id, ad_asset_id=asset.id)
    return _views(session, actor.business_id, [asset])[0]


def update_asset(
    session: Session,
    *,
    actor: Actor,
    asset_id: int,
    headline: str = _UNSET,
    primary_text: str = _UNSET,
    call_to_action: str = _UNSET,
) -> AssetView:
    """Edit a saved ad's copy (only the fields given); its link and ref code stay."""
    actor.require(Permission.ADS_MANAGE)
    asset = _get(session, actor, asset_id, for_update=True)
    limits = LIMITS.get(asset.platform, LIMITS["facebook"])
    if headline is not _UNSET:
        asset.title = _copy_text(headline, field="headline", label="The headline",
                                 limit=limits.headline, platform=asset.platform)  # fmt: skip
    if primary_text is not _UNSET:
        asset.content = _copy_text(primary_text, field="primary_text", label="The primary text",
                                   limit=limits.primary_text, platform=asset.platform)  # fmt: skip
    if call_to_action is not _UNSET:
        asset.call_to_action = _copy_text(call_to_action, field="call_to_action",
                                          label="The call to action", limit=CTA_MAX,
                                          platform=asset.platform)  # fmt: skip
    repo.save(session, asset)
    return _views(session, actor.business_id, [asset])[0]


def set_status(session: Session, *, actor: Actor, asset_id: int, status: str) -> AssetView:
    """Mark a saved ad draft, ready or archived."""
    actor.require(Permission.ADS_MANAGE)
    status = str(status or "").strip().lower()
    if status not in _STATUSES:
        raise AdError(f"Unknown status {status!r}; use one of {', '.join(_STATUSES)}.",
                      field="status")  # fmt: skip
    asset = _get(session, actor, asset_id, for_update=True)
    asset.status = status
    repo.save(session, asset)
    return _views(session, actor.business_id, [asset])[0]


def delete_asset(session: Session, *, actor: Actor, asset_id: int) -> None:
    """Delete a saved ad for good, with its conversation counts."""
    actor.require(Permission.ADS_MANAGE)
    try:
        asset_id = int(asset_id)
    except (TypeError, ValueError):
        asset_id = 0
    if not repo.delete_asset(session, business_id=actor.business_id, asset_id=asset_id):
        raise AdError("This ad no longer exists; reload the page.", field="asset")


# --- counting conversations -------------------------------------------------------------------


def find_ref_code(text: str | None) -> str | None:
    """The ad ref code a message carries ("… (ref AD7K2Q)"), upper-cased, or None."""
    match = _REF.search(text or "")
    return match.group(1).upper() if match else None


def count_conversation(session: Session, *, business_id: int, message_id: int) -> int | None:
    """When `message_id` is a customer's first message of its conversation and carries an ad's
    ref code, count the conversation for that ad (once); the ad's id, or None."""
    message = repo.get_message(session, business_id=business_id, message_id=int(message_id))
    if message is None or message.sender_type != "customer":
        return None
    code = find_ref_code(message.text)
    if code is None:
        return None
    first = repo.first_customer_message_id(
        session, business_id=business_id, conversation_id=message.conversation_id
    )
    if first != message.id:
        return None
    asset = repo.find_by_ref_code(session, business_id=business_id, ref_code=code)
    if asset is None:
        return None
    repo.record_conversation(session, business_id=business_id, ad_asset_id=asset.id,
                             conversation_id=message.conversation_id)  # fmt: skip
    return asset.id
