"""The Ads page: the generator form → variant cards, and the saved ads with link, QR and the
conversations each link started."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import partial

import reflex as rx

from backend.ads import service as ads
from backend.ads.schemas import LANGUAGES, PLATFORMS, TONES, AdError, AssetView, Generation
from backend.auth import service as auth
from backend.auth.permissions import Permission, PermissionDenied
from backend.core.db import session_scope
from state.base import BaseState

PLATFORM_OPTIONS: list[tuple[str, str]] = list(PLATFORMS.items())
LANGUAGE_OPTIONS: list[tuple[str, str]] = list(LANGUAGES.items())
TONE_OPTIONS: list[tuple[str, str]] = list(TONES.items())
COUNT_OPTIONS: list[str] = ["1", "2", "3", "4", "5"]
STATUS_LABELS = {"draft": "Draft", "ready": "Ready", "archived": "Archived"}


@dataclass(frozen=True)
class ProductChoice:
    """A catalogue product the form offers."""

    id: str
    label: str  # "Sourdough loaf · 6.50 USD"


@dataclass(frozen=True)
class VariantCard:
    """One generated variant, before it is saved."""

    index: int
    headline: str
    primary_text: str
    call_to_action: str
    clipboard: str  # the three parts as one text to paste


@dataclass(frozen=True)
class AssetCard:
    """A saved ad as the list shows it."""

    id: int
    headline: str
    primary_text: str
    call_to_action: str
    platform_label: str
    language: str
    status: str
    status_label: str
    ref_code: str
    link: str
    qr_png: str
    qr_svg: str
    qr_filename: str
    problem: str
    conversations: int
    clipboard: str


def _clipboard(headline: str, text: str, cta: str) -> str:
    return f"{headline}\n\n{text}\n\n{cta}"


def asset_card(view: AssetView) -> AssetCard:
    """A saved ad as the page shows it."""
    return AssetCard(
        id=view.id,
        headline=view.headline,
        primary_text=view.primary_text,
        call_to_action=view.call_to_action,
        platform_label=view.platform_label,
        language=LANGUAGES.get(view.language, view.language),
        status=view.status,
        status_label=STATUS_LABELS.get(view.status, view.status),
        ref_code=view.ref_code,
        link=view.link.url,
        qr_png=view.link.qr_png,
        qr_svg=view.link.qr_svg,
        qr_filename=f"bizbot-ad-{view.ref_code or view.id}.png",
        problem=view.link.problem,
        conversations=view.conversations,
        clipboard=_clipboard(view.headline, view.primary_text, view.call_to_action),
    )


def _generate(token: str | None, form: dict) -> Generation | None:
    """Check the form in one short session, write the copy (maybe a network call) outside any
    session, then record the AI usage; None when the session has ended."""
    with session_scope() as session:
        info = auth.resolve_session(session, token=token)
        if info is None:
            return None
        actor = info.actor
        brief = ads.prepare_brief(session, actor=actor, **form)
    generation = ads.write_variants(brief)
    with session_scope() as session:
        ads.record_usage(session, business_id=actor.business_id, generation=generation)
    return generation


class AdsState(BaseState):
    """Ads Studio: generate variants, save them, and follow each saved ad's link."""

    loaded: bool = False
    can_manage: bool = False
    products: list[ProductChoice] = []

    subject: str = "product"  # "product" or "offer"
    product_id: str = ""
    offer: str = ""
    platform: str = "whatsapp"
    language: str = "en"
    count: str = "3"
    tone: str = "friendly"

    generating: bool = False
    form_error: str = ""
    form_field: str = ""
    notice: str = ""
    variants: list[VariantCard] = []
    _generated_form: dict = {}
    _generated_source: str = ""

    assets: list[AssetCard] = []
    show_archived: bool = False

    edit_open: bool = False
    edit_id: int = 0
    edit_headline: str = ""
    edit_text: str = ""
    edit_cta: str = ""
    edit_error: str = ""

    @rx.var
    def has_variants(self) -> bool:
        """Whether there are generated variants to show."""
        return bool(self.variants)

    # --- reading -----------------------------------------------------------------------------

    def _reload(self, actor) -> None:
        with session_scope() as session:
            views = ads.list_assets(session, actor=actor, include_archived=self.show_archived)
        self.assets = [asset_card(v) for v in views]

    @rx.event
    def load(self):
        """Guard the page, read the catalogue and the saved ads."""
        actor = self._enter("ads")
        if actor is None:
            return None if self.signed_in else self._login_redirect()
        self.can_manage = actor.can(Permission.ADS_MANAGE)
        self.products = []
        if self.can_manage:
            with session_scope() as session:
                self.products = [ProductChoice(str(p.id), f"{p.name} · {p.price}")
                                 for p in ads.product_options(session, actor=actor)]  # fmt: skip
        if self.products and not self.product_id:
            self.product_id = self.products[0].id
        if not self.products:
            self.subject = "offer"
        self._reload(actor)
        self.loaded = True
        return None

    def _refresh(self):
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        self._reload(actor)
        return None

    # --- the form ----------------------------------------------------------------------------

    @rx.event
    def set_subject(self, value: str | list[str]):
        """Write about a catalogue product or a free-text offer."""
        self.subject = value if value in ("product", "offer") else "product"

    @rx.event
    def set_product_id(self, value: str):
        """Choose the product."""
        self.product_id = value

    @rx.event
    def set_offer(self, value: str):
        """Type the offer."""
        self.offer = value

    @rx.event
    def set_platform(self, value: str):
        """Choose the platform."""
        self.platform = value

    @rx.event
    def set_language(self, value: str):
        """Choose the language."""
        self.language = value

    @rx.event
    def set_count(self, value: str):
        """Choose how many variants."""
        self.count = value

    @rx.event
    def set_tone(self, value: str):
        """Choose the tone."""
        self.tone = value

    def _form(self) -> dict:
        subject = {"product_id": self.product_id} if self.subject == "product" else {}
        if self.subject == "offer":
            subject = {"offer": self.offer}
        return {"platform": self.platform, "language": self.language, "count": self.count,
                "tone": self.tone, **subject}  # fmt: skip

    @rx.event(background=True)
    async def generate(self):
        """Write the variants off the websocket's event loop (the LLM may take seconds)."""
        async with self:
            if self.generating:
                return
            self.generating, self.form_error, self.form_field, self.notice = True, "", "", ""
            token, form = self._session_token(), self._form()
        error, field, generation = "", "", None
        try:
            generation = await asyncio.to_thread(partial(_generate, token, form))
            if generation is None:
                error = "Your session has ended; log in again."
        except AdError as exc:
            error, field = exc.message, exc.field or ""
        except PermissionDenied as exc:
            error = str(exc)
        async with self:
            self.generating = False
            self.form_error, self.form_field = error, field
            if generation is not None:
                self.variants = [
                    VariantCard(i, v.headline, v.primary_text, v.call_to_action,
                                _clipboard(v.headline, v.primary_text, v.call_to_action))
                    for i, v in enumerate(generation.variants)
                ]  # fmt: skip
                self.notice = generation.notice
                self._generated_form, self._generated_source = form, generation.source

    @rx.event
    def copy_text(self, text: str):
        """Copy an ad's text to the clipboard."""
        return [rx.set_clipboard(text), rx.toast.success("Copied to the clipboard.")]

    @rx.event
    def save_variant(self, index: int):
        """Keep a generated variant as a draft ad with its link."""
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        variant = next((v for v in self.variants if v.index == index), None)
        if variant is None:
            return rx.toast.error("Generate the variants again; this one is gone.")
        form = dict(self._generated_form)
        form.pop("count", None)
        try:
            with session_scope() as session:
                ads.save_variant(session, actor=actor, headline=variant.headline,
                                 primary_text=variant.primary_text,
                                 call_to_action=variant.call_to_action,
                                 source=self._generated_source or "templates",
                                 **form)  # fmt: skip
        except (AdError, PermissionDenied) as exc:
            return rx.toast.error(getattr(exc, "message", None) or str(exc))
        self.variants = [v for v in self.variants if v.index != index]
        self._reload(actor)
        return rx.toast.success("Saved. Its link and QR code are in Saved ads below.")

    # --- saved ads ---------------------------------------------------------------------------

    @rx.event
    def set_show_archived(self, value: bool):
        """Show archived ads too (or not)."""
        self.show_archived = bool(value)
        return self._refresh()

    @rx.event
    def refresh(self):
        """Read the saved ads again (their conversation counts move)."""
        return self._refresh()

    def _change(self, work):
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        try:
            with session_scope() as session:
                work(session, actor)
        except (AdError, PermissionDenied) as exc:
            return rx.toast.error(getattr(exc, "message", None) or str(exc))
        self._reload(actor)
        return None

    @rx.event
    def set_status(self, asset_id: int, status: str):
        """Mark a saved ad draft, ready or archived."""
        return self._change(
            lambda s, a: ads.set_status(s, actor=a, asset_id=asset_id, status=status)
        )

    @rx.event
    def delete(self, asset_id: int):
        """Delete a saved ad."""
        return self._change(lambda s, a: ads.delete_asset(s, actor=a, asset_id=asset_id))

    @rx.event
    def open_edit(self, asset_id: int):
        """Open the edit dialog of a saved ad."""
        card = next((c for c in self.assets if c.id == asset_id), None)
        if card is None:
            return rx.toast.error("This ad no longer exists; reload the page.")
        self.edit_id, self.edit_error, self.edit_open = card.id, "", True
        self.edit_headline, self.edit_text = card.headline, card.primary_text
        self.edit_cta = card.call_to_action
        return None

    @rx.event
    def set_edit_open(self, value: bool):
        """Close (or open) the edit dialog."""
        self.edit_open = bool(value)

    @rx.event
    def set_edit_headline(self, value: str):
        """Type the headline."""
        self.edit_headline = value

    @rx.event
    def set_edit_text(self, value: str):
        """Type the primary text."""
        self.edit_text = value

    @rx.event
    def set_edit_cta(self, value: str):
        """Type the call to action."""
        self.edit_cta = value

    @rx.event
    def save_edit(self):
        """Save the edited copy; the link and its ref code stay."""
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        try:
            with session_scope() as session:
                ads.update_asset(session, actor=actor, asset_id=self.edit_id,
                                 headline=self.edit_headline, primary_text=self.edit_text,
                                 call_to_action=self.edit_cta)  # fmt: skip
        except (AdError, PermissionDenied) as exc:
            self.edit_error = getattr(exc, "message", None) or str(exc)
            return None
        self.edit_open = False
        self._reload(actor)
        return rx.toast.success("Ad updated.")
