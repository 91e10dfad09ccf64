"""`/` (overview) and `/onboarding`."""

from __future__ import annotations

import reflex as rx

from bizbot_app.pages.shell import section_page
from bizbot_app.sections import BY_SLUG
from components.empty_state import empty_state
from components.stats import checklist_item, stat_card
from state.overview import OnboardingState, OverviewState


def overview_page() -> rx.Component:
    """Greeting, headline numbers and, until conversations exist, what will appear."""
    figures = OverviewState.figures
    section = BY_SLUG["overview"]
    body = rx.vstack(
        rx.text("Welcome, ", OverviewState.user_name, ".", size="4"),
        rx.grid(
            stat_card("Conversations (30 days)", figures.conversations_30d, "messages-square"),
            stat_card("Waiting for an agent", figures.waiting_for_agent, "hand-helping"),
            stat_card("Contacts", figures.contacts, "contact"),
            stat_card("Leads", figures.leads, "target"),
            columns=rx.breakpoints(initial="1", sm="2", lg="4"),
            spacing="4",
            width="100%",
        ),
        rx.cond(
            figures.conversations_30d == 0,
            empty_state(section.icon, section.empty_title, section.empty_text,
                        rx.link(rx.button("Get started"), href="/onboarding")),
        ),
        spacing="5",
        width="100%",
    )  # fmt: skip
    return section_page("overview", body)


def onboarding_page() -> rx.Component:
    """The getting-started checklist."""
    body = rx.vstack(
        rx.text(
            OnboardingState.done_count, " of ", OnboardingState.steps.length(), " steps done",
            weight="medium",
        ),
        rx.foreach(
            OnboardingState.steps,
            lambda s: checklist_item(s.title, s.text, s.route, s.done),
        ),
        spacing="3",
        width="100%",
        max_width="720px",
    )  # fmt: skip
    return section_page("onboarding", body)
