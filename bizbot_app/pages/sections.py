"""Sections whose features arrive with later issues: the frame and an honest empty state."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

from bizbot_app.pages.shell import section_page

PLACEHOLDER_SLUGS = (
    "ai-rules", "templates", "leads", "sales", "billing", "ads",
)  # fmt: skip


def placeholder_page(slug: str) -> Callable[[], rx.Component]:
    """The page function of a section that shows its empty state."""

    def page() -> rx.Component:
        return section_page(slug)

    page.__name__ = f"{slug.replace('-', '_')}_page"
    return page
