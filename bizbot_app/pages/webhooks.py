"""`/settings/webhooks`: outgoing webhook endpoints and their deliveries (owners, admins)."""

from __future__ import annotations

import reflex as rx

from bizbot_app.pages.shell import bell
from bizbot_app.sections import NAV_ITEMS
from components.empty_state import no_access
from components.layout import page_frame
from components.sidebar import sidebar
from components.webhooks import deliveries_card, endpoint_form, endpoints_table, secret_callout
from state.base import BaseState
from state.webhooks import WebhooksState


def settings_subpage(title: str, subtitle: str, body: rx.Component) -> rx.Component:
    """A page under Settings with its own title; the state's load decides who may see it."""
    return page_frame(
        sidebar(
            NAV_ITEMS,
            allowed=BaseState.allowed_sections,
            current=BaseState.section,
            business_name=BaseState.business_name,
            user_name=BaseState.user_name,
            role=BaseState.role,
            on_logout=BaseState.logout,
        ),
        title=title,
        subtitle=subtitle,
        body=rx.cond(BaseState.section_allowed, body, no_access(title, BaseState.role)),
        ready=BaseState.signed_in & (BaseState.section == "settings"),
        header_actions=bell(),
    )


def webhooks_page() -> rx.Component:
    """Add endpoints, see the secret once, test, and follow every delivery."""
    body = rx.vstack(
        rx.link("← Settings", href="/settings", size="2"),
        secret_callout(WebhooksState.new_secret, WebhooksState.new_secret_url,
                       WebhooksState.hide_secret),
        endpoint_form(event_types=WebhooksState.event_types, error=WebhooksState.error,
                      on_add=WebhooksState.create),
        endpoints_table(
            endpoints=WebhooksState.endpoints,
            on_test=WebhooksState.send_test,
            on_rotate=WebhooksState.rotate,
            on_toggle=WebhooksState.toggle,
            on_delete=WebhooksState.delete,
        ),
        deliveries_card(
            deliveries=WebhooksState.deliveries,
            attempts=WebhooksState.attempts,
            open_delivery=WebhooksState.open_delivery,
            on_details=WebhooksState.show_attempts,
            on_retry=WebhooksState.retry,
            on_refresh=WebhooksState.refresh,
        ),
        rx.text("How to verify signatures: see docs/webhooks.md.", size="1",
                color_scheme="gray"),
        spacing="4",
        width="100%",
    )  # fmt: skip
    return settings_subpage("Webhooks", "Send events to your own systems as signed JSON.", body)
