"""`/settings/privacy`: what BizBot stores, retention, and contact export/erasure."""

from __future__ import annotations

import reflex as rx

from bizbot_app.pages.webhooks import settings_subpage
from components.privacy import contacts_card, retention_card, stored_card
from state.privacy import PrivacyState


def privacy_page() -> rx.Component:
    """Plain words on what is stored; retention; export or erase one customer's data."""
    body = rx.vstack(
        rx.link("← Settings", href="/settings", size="2"),
        stored_card(),
        retention_card(
            days=PrivacyState.retention_days,
            last_purge=PrivacyState.last_purge,
            error=PrivacyState.retention_error,
            on_save=PrivacyState.save_retention,
        ),
        contacts_card(
            matches=PrivacyState.matches,
            error=PrivacyState.error,
            summary=PrivacyState.erased_summary,
            erase_id=PrivacyState.erase_id,
            erase_label=PrivacyState.erase_label,
            on_search=PrivacyState.search,
            on_export=PrivacyState.export,
            on_ask_erase=PrivacyState.ask_erase,
            on_erase=PrivacyState.erase,
            on_cancel=PrivacyState.cancel_erase,
        ),
        spacing="4",
        width="100%",
    )
    return settings_subpage(
        "Privacy", "What BizBot keeps about your customers, and for how long.", body
    )
