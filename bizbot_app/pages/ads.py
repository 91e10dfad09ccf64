"""`/ads`: Ads Studio — the generator form, the variant cards, and the saved ads with their
click-to-chat link, QR code and conversations started."""

from __future__ import annotations

import reflex as rx

from bizbot_app.pages.shell import section_page
from components.ads import asset_card, variant_card
from components.knowledge import form_error
from state.ads import (
    COUNT_OPTIONS,
    LANGUAGE_OPTIONS,
    PLATFORM_OPTIONS,
    TONE_OPTIONS,
    AdsState,
)

S = AdsState
_MUTED = rx.color("gray", 11)


def _select(label: str, value, on_change, options: list[tuple[str, str]], name: str):
    return rx.vstack(
        rx.text(label, size="1", color=_MUTED, as_="label"),
        rx.select.root(
            rx.select.trigger(aria_label=label, min_width="10em", id=f"ads-{name}"),
            rx.select.content(*[rx.select.item(text, value=v) for v, text in options]),
            value=value,
            on_change=on_change,
        ),
        spacing="1",
    )


def _subject() -> rx.Component:
    product = rx.cond(
        S.products.length() > 0,
        rx.vstack(
            rx.text("Product", size="1", color=_MUTED),
            rx.select.root(
                rx.select.trigger(aria_label="Product", min_width="16em", id="ads-product"),
                rx.select.content(
                    rx.foreach(S.products, lambda p: rx.select.item(p.label, value=p.id))
                ),
                value=S.product_id,
                on_change=S.set_product_id,
            ),
            spacing="1",
        ),
        rx.text(
            "Your catalogue has no active products yet: describe an offer instead, or "
            "add products on the Sales page.",
            size="2",
            color=_MUTED,
        ),
    )
    offer = rx.vstack(
        rx.el.label("Offer", html_for="ads-offer", font_size="0.875em", font_weight="500"),
        rx.text_area(
            id="ads-offer",
            value=S.offer,
            on_change=S.set_offer,
            placeholder="e.g. 20% off all birthday cakes this weekend",
            rows="3",
            width="100%",
        ),
        rx.cond(
            S.form_field == "offer",
            rx.text(S.form_error, color=rx.color("red", 11), size="2", role="alert"),
        ),
        spacing="1",
        width="100%",
    )
    return rx.vstack(
        rx.segmented_control.root(
            rx.segmented_control.item("A product", value="product"),
            rx.segmented_control.item("An offer", value="offer"),
            value=S.subject,
            on_change=S.set_subject,
        ),
        rx.cond(S.subject == "product", product, offer),
        spacing="2",
        width="100%",
    )


def _generator() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Write ads", size="4", as_="h2"),
            _subject(),
            rx.hstack(
                _select("Platform", S.platform, S.set_platform, PLATFORM_OPTIONS, "platform"),
                _select("Language", S.language, S.set_language, LANGUAGE_OPTIONS, "language"),
                _select("Tone", S.tone, S.set_tone, TONE_OPTIONS, "tone"),
                _select("Variants", S.count, S.set_count, [(c, c) for c in COUNT_OPTIONS], "count"),
                spacing="3",
                wrap="wrap",
            ),
            rx.cond(S.form_field != "offer", form_error(S.form_error)),
            rx.button(
                rx.icon("sparkles", size=16),
                "Generate",
                on_click=S.generate,
                loading=S.generating,
                id="ads-generate",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _variants() -> rx.Component:
    return rx.cond(
        S.has_variants,
        rx.vstack(
            rx.heading("Variants", size="4", as_="h2"),
            rx.cond(
                S.notice != "",
                rx.callout(S.notice, icon="triangle-alert", color_scheme="amber", width="100%"),
            ),
            rx.grid(
                rx.foreach(
                    S.variants,
                    lambda v: variant_card(
                        v, on_copy=S.copy_text, on_save=S.save_variant, can_save=S.can_manage
                    ),
                ),
                columns=rx.breakpoints(initial="1", md="2", lg="3"),
                spacing="3",
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
    )


def _saved() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Saved ads", size="4", as_="h2"),
            rx.spacer(),
            rx.text("Show archived", size="2", as_="label"),
            rx.switch(checked=S.show_archived, on_change=S.set_show_archived),
            rx.button(
                rx.icon("refresh-cw", size=14),
                "Refresh",
                variant="ghost",
                size="1",
                on_click=S.refresh,
            ),
            width="100%",
            align="center",
        ),
        rx.cond(
            S.assets.length() > 0,
            rx.grid(
                rx.foreach(
                    S.assets,
                    lambda a: asset_card(
                        a,
                        can_manage=S.can_manage,
                        on_copy=S.copy_text,
                        on_edit=S.open_edit,
                        on_status=S.set_status,
                        on_delete=S.delete,
                    ),
                ),
                columns=rx.breakpoints(initial="1", lg="2"),
                spacing="3",
                width="100%",
            ),
            rx.text(
                "No saved ads yet. Generate variants above and save the ones you like.",
                size="2",
                color=_MUTED,
            ),
        ),
        spacing="3",
        width="100%",
    )


def _edit_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Edit ad"),
            rx.vstack(
                rx.el.label("Headline", html_for="ads-edit-headline"),
                rx.input(
                    id="ads-edit-headline",
                    value=S.edit_headline,
                    on_change=S.set_edit_headline,
                    width="100%",
                ),
                rx.el.label("Primary text", html_for="ads-edit-text"),
                rx.text_area(
                    id="ads-edit-text",
                    value=S.edit_text,
                    on_change=S.set_edit_text,
                    rows="4",
                    width="100%",
                ),
                rx.el.label("Call to action", html_for="ads-edit-cta"),
                rx.input(
                    id="ads-edit-cta", value=S.edit_cta, on_change=S.set_edit_cta, width="100%"
                ),
                form_error(S.edit_error),
                rx.hstack(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    rx.button("Save", on_click=S.save_edit),
                    justify="end",
                    width="100%",
                ),
                spacing="2",
                width="100%",
            ),
        ),
        open=S.edit_open,
        on_open_change=S.set_edit_open,
    )


def ads_page() -> rx.Component:
    """The Ads Studio page."""
    body = rx.vstack(
        rx.cond(S.can_manage, _generator()),
        _variants(),
        _saved(),
        _edit_dialog(),
        spacing="5",
        width="100%",
    )
    return section_page("ads", body)
