"""The frame every dashboard section shares: guard, sidebar, title and body."""

from __future__ import annotations

import reflex as rx

from bizbot_app.sections import BY_SLUG, NAV_ITEMS
from components.empty_state import empty_state, no_access
from components.layout import page_frame
from components.notifications import notification_bell
from components.onboarding import setup_nudge
from components.security import verify_banner
from components.sidebar import mobile_nav, sidebar
from state.base import BaseState
from state.notifications import BellState


def bell() -> rx.Component:
    """The notifications bell of the header, with its live unread count."""
    return notification_bell(
        unread=BellState.unread,
        unread_label=BellState.unread_label,
        items=BellState.latest,
        is_open=BellState.bell_open,
        on_open_change=BellState.set_bell_open,
        on_open_item=lambda nid, link: BellState.open_notification(nid, link),
        on_mark_all=BellState.mark_all_read,
    )


def setup_nudge_link() -> rx.Component:
    """ "Setup 3/7 · Next: …" in the header until the checklist is done or dismissed."""
    return setup_nudge(
        show=BaseState.setup_nudging,
        done=BaseState.setup_done,
        total=BaseState.setup_total,
        next_title=BaseState.setup_next_title,
        next_route=BaseState.setup_next_route,
    )


def section_page(
    slug: str, body: rx.Component | None = None, *, wide: bool = False
) -> rx.Component:
    """Section `slug` inside the dashboard frame; its empty state when no body is given."""
    section = BY_SLUG[slug]
    body = (
        body
        if body is not None
        else empty_state(section.icon, section.empty_title, section.empty_text)
    )
    return dashboard_page(
        slug,
        title=section.title,
        subtitle=section.subtitle,
        body=body,
        denied=no_access(section.title, BaseState.role),
        wide=wide,
    )


def dashboard_page(
    slug: str,
    *,
    title: str,
    subtitle: str,
    body: rx.Component,
    denied: rx.Component,
    wide: bool = False,
) -> rx.Component:
    """A page inside the dashboard frame (sidebar, header, banners), showing `body` to those
    allowed on `slug` and `denied` to others: the sections, and the instance-wide System."""
    nav = {
        "allowed": BaseState.allowed_sections,
        "current": BaseState.section,
        "business_name": BaseState.business_name,
        "business_logo": BaseState.business_logo_url,
        "user_name": BaseState.user_name,
        "role": BaseState.role,
        "on_logout": BaseState.logout,
    }
    return page_frame(
        sidebar(NAV_ITEMS, **nav),
        top_bar=mobile_nav(NAV_ITEMS, **nav),
        title=title,
        subtitle=subtitle,
        body=rx.fragment(
            verify_banner(
                show=BaseState.email_unverified,
                email=BaseState.user_email,
                notice=BaseState.verification_notice,
                on_resend=BaseState.resend_verification,
            ),
            rx.cond(BaseState.section_allowed, body, denied),
        ),
        ready=BaseState.signed_in & (BaseState.section == slug),
        header_actions=rx.hstack(setup_nudge_link(), bell(), align="center", spacing="3"),
        wide=wide,
    )
