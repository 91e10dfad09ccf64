"""The getting-started checklist: its steps, the Overview's progress card, the header nudge."""

from __future__ import annotations

import reflex as rx

_MUTED = rx.color("gray", 11)


def progress_text(done: rx.Var, total: rx.Var) -> rx.Component:
    """ "3 of 7 steps done"."""
    return rx.text(done, " of ", total, " steps done", weight="medium")


def checklist_step(
    title: rx.Var,
    why: rx.Var,
    route: rx.Var,
    action: rx.Var,
    done: rx.Var,
    is_next: rx.Var,
) -> rx.Component:
    """A step: done tick or open circle, what and why, and its button (solid on the next one)."""
    return rx.card(
        rx.hstack(
            rx.cond(
                done,
                rx.icon("circle-check", color=rx.color("grass", 10), aria_label="Done"),
                rx.icon("circle", color=rx.color("gray", 8), aria_label="To do"),
            ),
            rx.vstack(
                rx.text(title, weight="medium"),
                rx.text(why, size="2", color=_MUTED),
                spacing="1",
                flex="1",
            ),
            rx.cond(
                done,
                rx.badge("Done", color_scheme="grass", variant="soft"),
                rx.link(
                    rx.button(action, variant=rx.cond(is_next, "solid", "soft")),
                    href=route,
                ),
            ),
            align="center",
            spacing="3",
            width="100%",
        ),
        width="100%",
        aria_label=title,
        variant=rx.cond(is_next, "classic", "surface"),
        border=rx.cond(is_next, f"2px solid {rx.color('accent', 8)}", "none"),
    )


def progress_card(
    *,
    done: rx.Var,
    total: rx.Var,
    next_title: rx.Var,
    next_route: rx.Var,
    next_action: rx.Var,
    on_dismiss: rx.EventHandler,
) -> rx.Component:
    """The Overview's setup card: progress, the next step's button, and dismiss."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.icon("rocket", color=rx.color("accent", 10)),
                rx.heading("Finish setting up", size="4", as_="h2"),
                rx.spacer(),
                rx.button("Dismiss checklist", variant="ghost", size="1", on_click=on_dismiss),
                align="center",
                width="100%",
            ),
            progress_text(done, total),
            rx.progress(value=done, max=total, width="100%"),
            rx.text("Next: ", next_title, size="2", color=_MUTED),
            rx.hstack(
                rx.link(rx.button(next_action), href=next_route),
                rx.link(rx.button("See all steps", variant="soft"), href="/onboarding"),
                spacing="3",
                wrap="wrap",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        aria_label="Setup progress",
    )


def setup_nudge(
    *, show: rx.Var, done: rx.Var, total: rx.Var, next_title: rx.Var, next_route: rx.Var
) -> rx.Component:
    """The header's small "Setup 3/7 · Next: …" link (hidden on phones, where it crowds)."""
    return rx.cond(
        show,
        rx.link(
            rx.badge(
                rx.icon("rocket", size=14),
                rx.text("Setup ", done, "/", total, as_="span"),
                rx.text(
                    "· Next: ",
                    next_title,
                    as_="span",
                    display=rx.breakpoints(initial="none", lg="inline"),
                ),
                variant="soft",
                size="2",
                radius="full",
            ),
            href=next_route,
            display=rx.breakpoints(initial="none", md="flex"),
        ),
    )
