"""Pieces of the Ads page: a generated variant card and a saved ad card (link, QR, counts)."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

_MUTED = rx.color("gray", 11)
_STATUS_COLORS = (("draft", "gray"), ("ready", "grass"), ("archived", "amber"))


def ad_status_badge(status: rx.Var[str], label: rx.Var[str]) -> rx.Component:
    """A saved ad's status as a coloured badge."""
    return rx.match(
        status,
        *[
            (value, rx.badge(label, color_scheme=color, variant="soft"))
            for value, color in _STATUS_COLORS
        ],
        rx.badge(label, variant="soft"),
    )


def _copy_block(variant: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.text(variant.headline, weight="bold", size="3", class_name="ad-headline"),
        rx.text(variant.primary_text, size="2", white_space="pre-wrap", class_name="ad-text"),
        rx.badge(variant.call_to_action, variant="outline", class_name="ad-cta"),
        spacing="2",
        align="start",
        width="100%",
    )


def variant_card(
    variant: rx.Var,
    *,
    on_copy: Callable[[rx.Var], rx.event.EventSpec],
    on_save: Callable[[rx.Var], rx.event.EventSpec],
    can_save: rx.Var[bool],
) -> rx.Component:
    """One generated variant with Copy and Save buttons."""
    return rx.card(
        rx.vstack(
            _copy_block(variant),
            rx.hstack(
                rx.button(
                    rx.icon("copy", size=14),
                    "Copy",
                    variant="soft",
                    size="1",
                    on_click=on_copy(variant.clipboard),
                ),
                rx.cond(
                    can_save,
                    rx.button(
                        rx.icon("bookmark-plus", size=14),
                        "Save",
                        size="1",
                        on_click=on_save(variant.index),
                    ),
                ),
                spacing="2",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        data_testid="ad-variant",
    )


def asset_card(
    asset: rx.Var,
    *,
    can_manage: rx.Var[bool],
    on_copy: Callable[[rx.Var], rx.event.EventSpec],
    on_edit: Callable[[rx.Var], rx.event.EventSpec],
    on_status: Callable[[rx.Var, str], rx.event.EventSpec],
    on_delete: Callable[[rx.Var], rx.event.EventSpec],
) -> rx.Component:
    """A saved ad: its copy, status, click-to-chat link and QR code, conversations started."""
    link = rx.cond(
        asset.link != "",
        rx.vstack(
            rx.link(
                asset.link,
                href=asset.link,
                is_external=True,
                size="1",
                word_break="break-all",
                class_name="ad-link",
            ),
            rx.hstack(
                rx.image(
                    src=asset.qr_svg,
                    alt=f"QR code of ad {asset.ref_code}",
                    width="120px",
                    height="120px",
                    class_name="ad-qr",
                ),
                rx.vstack(
                    rx.el.a(
                        rx.button(
                            rx.icon("download", size=14), "QR code (PNG)", variant="soft", size="1"
                        ),
                        href=asset.qr_png,
                        download=asset.qr_filename,
                    ),
                    rx.button(
                        rx.icon("link", size=14),
                        "Copy link",
                        variant="soft",
                        size="1",
                        on_click=on_copy(asset.link),
                    ),
                    spacing="2",
                ),
                spacing="3",
                align="center",
            ),
            spacing="2",
            width="100%",
        ),
        rx.callout(asset.problem, icon="info", color_scheme="amber", size="1", width="100%"),
    )
    actions = rx.cond(
        can_manage,
        rx.hstack(
            rx.button("Edit", size="1", variant="soft", on_click=on_edit(asset.id)),
            rx.cond(
                asset.status == "ready",
                rx.button(
                    "Back to draft", size="1", variant="soft", on_click=on_status(asset.id, "draft")
                ),
                rx.button(
                    "Mark ready",
                    size="1",
                    variant="soft",
                    color_scheme="grass",
                    on_click=on_status(asset.id, "ready"),
                ),
            ),
            rx.cond(
                asset.status == "archived",
                rx.button(
                    "Restore", size="1", variant="soft", on_click=on_status(asset.id, "draft")
                ),
                rx.button(
                    "Archive",
                    size="1",
                    variant="soft",
                    color_scheme="amber",
                    on_click=on_status(asset.id, "archived"),
                ),
            ),
            rx.button(
                "Delete", size="1", variant="soft", color_scheme="red", on_click=on_delete(asset.id)
            ),
            spacing="2",
            wrap="wrap",
        ),
    )
    return rx.card(
        rx.vstack(
            rx.hstack(
                ad_status_badge(asset.status, asset.status_label),
                rx.badge(asset.platform_label, variant="surface"),
                rx.text(asset.language, size="1", color=_MUTED),
                rx.text("ref ", asset.ref_code, size="1", color=_MUTED),
                rx.spacer(),
                rx.text(
                    asset.conversations,
                    " conversations started",
                    size="2",
                    weight="medium",
                    class_name="ad-conversations",
                ),
                width="100%",
                align="center",
                wrap="wrap",
            ),
            _copy_block(asset),
            link,
            rx.hstack(
                rx.button(
                    rx.icon("copy", size=14),
                    "Copy text",
                    variant="ghost",
                    size="1",
                    on_click=on_copy(asset.clipboard),
                ),
                actions,
                spacing="3",
                wrap="wrap",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        data_testid="ad-asset",
    )
