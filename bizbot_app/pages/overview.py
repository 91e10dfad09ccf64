"""`/` (overview) and `/onboarding`."""

from __future__ import annotations

import reflex as rx

from bizbot_app.pages.shell import section_page
from bizbot_app.sections import BY_SLUG
from components.charts import conversations_per_day, horizontal_bars
from components.empty_state import empty_state
from components.onboarding import checklist_step, progress_card, progress_text
from components.stats import kpi_card, question_row, stat_card, times_table
from state.base import BaseState
from state.overview import OnboardingState, OverviewState

S = OverviewState
_MUTED = rx.color("gray", 11)
PRESET_ITEMS = [("7", "7 days"), ("30", "30 days"), ("90", "90 days"), ("custom", "Custom")]


def _panel(title: str, *children: rx.Component, note: str | rx.Var = "") -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(title, size="4", as_="h2"),
            rx.cond(note != "", rx.text(note, size="2", color=_MUTED)),
            *children,
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _filters() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.segmented_control.root(
                *[rx.segmented_control.item(label, value=value) for value, label in PRESET_ITEMS],
                value=S.preset, on_change=S.pick_preset, aria_label="Date range",
            ),
            rx.cond(
                S.preset == "custom",
                rx.hstack(
                    rx.el.label("From", html_for="range-start", font_size="0.875em"),
                    rx.input(id="range-start", type="date", value=S.start,
                             on_change=S.set_start.debounce(400)),
                    rx.el.label("to", html_for="range-end", font_size="0.875em"),
                    rx.input(id="range-end", type="date", value=S.end,
                             on_change=S.set_end.debounce(400)),
                    align="center", spacing="2",
                ),
                rx.text(S.start, " to ", S.end, size="2", color=_MUTED),
            ),
            rx.select(S.channel_options, value=S.channel, on_change=S.pick_channel,
                      aria_label="Channel"),
            rx.spacer(),
            rx.button(rx.icon("download", size=16), "Export CSV", variant="soft",
                      on_click=S.export_csv),
            align="center", spacing="3", width="100%", wrap="wrap",
        ),
        rx.cond(S.range_error != "",
                rx.callout(S.range_error, icon="triangle-alert", color_scheme="red",
                           role="alert")),
        width="100%",
    )  # fmt: skip


def _kpis() -> rx.Component:
    return rx.grid(
        kpi_card("Conversations", S.conversations, "messages-square"),
        kpi_card("Resolved by AI", S.ai_resolved, "bot", "without a person, see below"),
        kpi_card("First response (median)", S.ai_first_response, "timer",
                 "AI · people: " + S.human_first_response),
        kpi_card("Handoff rate", S.handoff_rate, "hand-helping"),
        kpi_card("CSAT", S.csat, "smile"),
        rx.cond(S.show_revenue, kpi_card("Revenue (payment links)", S.revenue, "banknote")),
        columns=rx.breakpoints(initial="1", sm="2", lg="3"),
        spacing="4",
        width="100%",
    )  # fmt: skip


def _teach_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Turn into knowledge"),
            rx.dialog.description(
                "Save the question with the answer BizBot should give. It becomes an FAQ on "
                "the Knowledge page, and the AI uses it once it is embedded.",
                size="2", color=_MUTED, margin_bottom="1em",
            ),
            rx.form(
                rx.vstack(
                    rx.el.label("Question", html_for="teach-question", font_size="0.875em"),
                    rx.input(id="teach-question", name="question",
                             default_value=S.teach_question, width="100%"),
                    rx.el.label("Answer", html_for="teach-answer", font_size="0.875em"),
                    rx.text_area(id="teach-answer", name="answer", default_value=S.teach_answer,
                                 rows="4", width="100%"),
                    rx.cond(S.teach_error != "",
                            rx.text(S.teach_error, color=rx.color("red", 11), size="2",
                                    role="alert")),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray",
                                                  type="button")),
                        rx.button("Add to knowledge", type="submit"),
                        justify="end", spacing="3", width="100%",
                    ),
                    spacing="2",
                    width="100%",
                ),
                on_submit=S.save_teach,
                reset_on_submit=False,
                key=S.teach_question,
            ),
            max_width="560px",
        ),
        open=S.teach_open,
        on_open_change=S.set_teach_open,
    )  # fmt: skip


def _unanswered() -> rx.Component:
    return _panel(
        "Top unanswered questions",
        rx.cond(
            S.unanswered.length() > 0,
            rx.vstack(
                rx.foreach(S.unanswered, lambda q: question_row(
                    q["text"], q["count"],
                    rx.cond(S.can_teach,
                            rx.button("Turn into knowledge", size="1", variant="soft",
                                      on_click=S.open_teach(q["text"].to(str)))),
                )),
                role="list", aria_label="Unanswered questions", spacing="2", width="100%",
            ),
            rx.text("None in this range: the AI answered every question confidently.",
                    size="2", color=_MUTED),
        ),
        note="Customer messages the AI answered with low confidence or handed over.",
    )  # fmt: skip


def _analytics() -> rx.Component:
    return rx.vstack(
        _filters(),
        _kpis(),
        _panel("Conversations per day", conversations_per_day(S.daily),
               note="New conversations each day, by channel, in the business's time zone."),
        rx.grid(
            _panel("Response times", times_table(S.times),
                   note="First response: from the customer's first message (people: from the "
                        "handoff) to the first reply. Resolution: to the last AI reply or to "
                        "when it was resolved."),
            _panel("Handoff reasons",
                   rx.cond(S.reasons.length() > 0,
                           horizontal_bars(S.reasons, name_key="reason", value_key="count",
                                           label="Handoff reasons"),
                           rx.text("No handoffs in this range.", size="2", color=_MUTED))),
            columns=rx.breakpoints(initial="1", lg="2"), spacing="4", width="100%",
        ),
        _unanswered(),
        rx.text(rx.text.strong("Resolved by AI: "), S.definition, size="2", color=_MUTED),
        _teach_dialog(),
        spacing="4",
        width="100%",
    )  # fmt: skip


def _setup_card() -> rx.Component:
    """Until setup is done: the progress card; once dismissed: a way to bring it back."""
    B = BaseState
    return rx.fragment(
        rx.cond(
            B.setup_nudging,
            progress_card(done=B.setup_done, total=B.setup_total, next_title=B.setup_next_title,
                          next_route=B.setup_next_route, next_action=B.setup_next_action,
                          on_dismiss=OnboardingState.dismiss),
        ),
        rx.cond(
            B.setup_dismissed & (B.setup_done < B.setup_total),
            rx.button("Show checklist again", variant="ghost", size="1",
                      on_click=OnboardingState.show_again),
        ),
    )  # fmt: skip


def overview_page() -> rx.Component:
    """Greeting, the analytics of a range and, until conversations exist, what will appear."""
    figures = OverviewState.figures
    section = BY_SLUG["overview"]
    body = rx.vstack(
        rx.text("Welcome, ", OverviewState.user_name, ".", size="4"),
        _setup_card(),
        rx.cond(
            figures.conversations_total == 0,
            rx.vstack(
                rx.grid(
                    stat_card("Conversations (30 days)", figures.conversations_30d,
                              "messages-square"),
                    stat_card("Waiting for an agent", figures.waiting_for_agent, "hand-helping"),
                    stat_card("Contacts", figures.contacts, "contact"),
                    stat_card("Leads", figures.leads, "target"),
                    columns=rx.breakpoints(initial="1", sm="2", lg="4"),
                    spacing="4",
                    width="100%",
                ),
                empty_state(section.icon, section.empty_title, section.empty_text,
                            rx.link(rx.button("Get started"), href="/onboarding")),
                spacing="5",
                width="100%",
            ),
            _analytics(),
        ),
        spacing="5",
        width="100%",
    )  # fmt: skip
    return section_page("overview", body, wide=True)


def onboarding_page() -> rx.Component:
    """The getting-started checklist: progress, the steps in order, dismiss or show again."""
    ob = OnboardingState
    body = rx.vstack(
        rx.cond(
            ob.completed & (ob.setup_done == ob.setup_total),
            rx.callout("All set: every setup step is done. Your assistant is ready for customers.",
                       icon="party-popper", color_scheme="grass", width="100%"),
        ),
        rx.hstack(
            progress_text(ob.setup_done, ob.setup_total),
            rx.spacer(),
            rx.cond(
                ~ob.completed,
                rx.cond(
                    ob.setup_dismissed,
                    rx.button("Show checklist again", variant="soft", on_click=ob.show_again),
                    rx.button("Dismiss checklist", variant="ghost", on_click=ob.dismiss),
                ),
            ),
            align="center",
            width="100%",
        ),
        rx.progress(
            value=ob.setup_done, max=rx.cond(ob.setup_total > 0, ob.setup_total, 1), width="100%"
        ),
        rx.foreach(
            ob.steps,
            lambda s: checklist_step(s.title, s.why, s.route, s.action, s.done,
                                     s.key == ob.next_key),
        ),
        spacing="3",
        width="100%",
        max_width="720px",
    )  # fmt: skip
    return section_page("onboarding", body)
