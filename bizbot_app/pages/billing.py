"""`/billing`: the business's BizBot plan, this month's usage, plans and the Stripe portal."""

from __future__ import annotations

import reflex as rx

from bizbot_app.pages.shell import section_page
from components.billing import plan_card, usage_bar
from state.billing import BillingState

S = BillingState
_MUTED = rx.color("gray", 11)


def _current() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(S.plan_name, size="5", as_="h2"),
                rx.cond(S.enabled, rx.badge(S.status_label, variant="soft")),
                spacing="3",
                align="center",
            ),
            rx.cond(
                S.enabled,
                rx.fragment(
                    rx.cond(S.renewal != "", rx.text(S.renewal, size="2", color=_MUTED)),
                    rx.cond(
                        S.cancelling,
                        rx.callout(
                            "Your subscription is cancelled and ends at the end of "
                            "this period; then this business returns to the Free plan.",
                            icon="info",
                            color_scheme="amber",
                        ),
                    ),
                ),
                rx.text(
                    "Billing is off on this installation: BizBot runs on your own servers, "
                    "so every business is unlimited and there is nothing to pay.",
                    size="2",
                    color=_MUTED,
                ),
            ),
            rx.cond(
                S.has_customer,
                rx.button(
                    rx.icon("external-link", size=16),
                    "Manage billing",
                    variant="soft",
                    on_click=S.manage_billing,
                    loading=S.busy == "portal",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _usage() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Usage this month", size="3", as_="h2"),
            rx.foreach(
                S.usage, lambda row: usage_bar(row.text, row.percent, row.full, row.unlimited)
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _plans() -> rx.Component:
    return rx.cond(
        S.enabled,
        rx.vstack(
            rx.heading("Plans", size="3", as_="h2"),
            rx.grid(
                rx.foreach(
                    S.plans,
                    lambda p: plan_card(
                        p.name,
                        p.price,
                        p.limits,
                        p.current,
                        p.action,
                        S.busy == p.key,
                        S.choose_plan(p.key),
                    ),
                ),
                columns=rx.breakpoints(initial="1", md="3"),
                spacing="3",
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
    )


def billing_page() -> rx.Component:
    """The plan and its status, usage against each limit, plan cards and the portal link."""
    body = rx.cond(
        S.loaded,
        rx.vstack(
            rx.cond(S.notice != "", rx.callout(S.notice, icon="circle-check", color_scheme="teal")),
            rx.cond(
                S.error != "",
                rx.callout(S.error, icon="triangle-alert", color_scheme="red", role="alert"),
            ),
            _current(),
            _usage(),
            _plans(),
            rx.button(
                rx.icon("refresh-cw", size=14),
                "Refresh",
                variant="ghost",
                on_click=S.refresh,
                size="1",
            ),
            spacing="4",
            width="100%",
        ),
        rx.center(rx.spinner(), padding="2em"),
    )
    return section_page("billing", body)
