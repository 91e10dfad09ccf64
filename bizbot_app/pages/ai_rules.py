"""`/ai-rules`: how the assistant behaves, with a "try it" chat box beside the rules."""

from __future__ import annotations

import reflex as rx

from bizbot_app.pages.shell import section_page
from components.ai_rules import chat_bubble, hours_day, rule_field, tag_input, text_control
from state.ai_rules import AIRulesState

S = AIRulesState
_MUTED = rx.color("gray", 11)
_READ_ONLY = ~S.can_edit


def _text(label: str, name: str, *, hint: str = "", multiline: bool = False,
          placeholder: str = "", type_: str = "text") -> rx.Component:  # fmt: skip
    field_id = f"rule-{name}"
    error = S.errors.get(name, "")
    return rule_field(
        label,
        field_id,
        text_control(
            field_id,
            getattr(S, name),
            lambda v: S.set_text(name, v),
            disabled=_READ_ONLY,
            error=error,
            multiline=multiline,
            placeholder=placeholder,
            type_=type_,
        ),
        error=error,
        hint=hint,
    )


def _card(title: str, *children: rx.Component) -> rx.Component:
    return rx.card(
        rx.vstack(rx.heading(title, size="4", as_="h2"), *children, spacing="3", width="100%"),
        width="100%",
    )


def _persona() -> rx.Component:
    return _card(
        "Persona and tone",
        _text("Assistant's name", "persona_name", placeholder="Sunny"),
        rule_field(
            "Tone",
            "rule-tone",
            rx.select(
                S.tone_options,
                value=S.tone,
                on_change=lambda v: S.set_text("tone", v),
                disabled=_READ_ONLY,
                id="rule-tone",
            ),
            error=S.errors.get("tone", ""),
            hint="How the assistant sounds when it answers with the LLM.",
        ),
        _text(
            "Greeting",
            "greeting",
            multiline=True,
            hint="Sent when a customer only says hello. Empty: a built-in greeting.",
        ),
        _text(
            "Fallback message",
            "fallback_message",
            multiline=True,
            hint="Sent when the assistant is not sure and hands over to a person.",
        ),
    )


def _hours() -> rx.Component:
    # Read-only: Settings is the one editor of the hours and the out-of-hours reply.
    return rx.card(
        rx.vstack(
            rx.heading("Business hours", size="4", as_="h2", id="business-hours-heading"),
            rx.text("Times are in ", rx.code(S.timezone), ".", size="2", color=_MUTED),
            rx.cond(
                S.always_open,
                rx.text("Always open: no day has opening hours, so the assistant never sends "
                        "the out-of-hours reply.", size="2"),
                rx.vstack(rx.foreach(S.days, hours_day), spacing="1", role="list",
                          aria_label="Opening hours by day"),
            ),
            rx.text("Out-of-hours reply", size="2", weight="medium"),
            rx.cond(S.out_of_hours_message != "",
                    rx.text(S.out_of_hours_message, size="2", white_space="pre-wrap"),
                    rx.text("None: the built-in notice in the customer's language.", size="2",
                            color=_MUTED)),
            rx.cond(
                S.can_edit_hours,
                rx.link("Edit on Settings", href="/settings", size="2"),
                rx.text("The owner changes these on the Settings page.", size="2",
                        color=_MUTED),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        role="region",
        aria_labelledby="business-hours-heading",
    )  # fmt: skip


def _handover() -> rx.Component:
    return _card(
        "When to hand over",
        tag_input("Handoff keywords", "rule-handoff-keywords", S.handoff_keywords,
                  on_add=S.add_keyword, on_remove=S.remove_keyword, disabled=_READ_ONLY,
                  error=S.errors.get("handoff_keywords", ""), placeholder="refund, complaint",
                  hint="A message containing one of these always goes to a person."),
        tag_input("Forbidden topics", "rule-blocked-topics", S.blocked_topics,
                  on_add=S.add_topic, on_remove=S.remove_topic, disabled=_READ_ONLY,
                  error=S.errors.get("blocked_topics", ""), placeholder="politics",
                  hint="The assistant never discusses these; it hands over instead."),
        rule_field(
            rx.text("Confidence threshold: ", S.threshold_pct, "%"),
            "rule-confidence",
            rx.slider(id="rule-confidence", value=[S.threshold_pct], min=0, max=100, step=5,
                      on_change=S.set_threshold, disabled=_READ_ONLY,
                      aria_label="Confidence threshold"),
            error=S.errors.get("confidence_threshold", ""),
            hint=S.threshold_text,
        ),
        _text("Maximum AI turns", "max_ai_turns", type_="number",
              hint="After this many replies the customer is offered a person. 0: never."),
    )  # fmt: skip


def _answers() -> rx.Component:
    return _card(
        "Answers",
        _text("Languages", "languages", placeholder="en, fr, sw",
              hint="Two-letter codes the assistant answers in; empty: any it detects. Others "
                   "get the business's default language."),
        rx.hstack(
            rx.switch(id="rule-use-llm", checked=S.use_llm, on_change=S.set_use_llm,
                      disabled=_READ_ONLY),
            rx.el.label("Answer with the LLM", html_for="rule-use-llm", font_size="0.875em"),
            align="center",
        ),
        rx.cond(
            ~S.llm_configured,
            rx.callout("No LLM is configured (OPENAI_API_KEY is not set), so the assistant "
                       "answers with passages from your knowledge. This switch takes effect "
                       "once one is.", icon="info", size="1", color_scheme="gray"),
        ),
        _text("Custom instructions", "extra_instructions", multiline=True,
              hint="Extra guidance for the LLM, e.g. 'Always mention free delivery over $30'."),
        _text("Monthly token budget", "monthly_token_budget", type_="number",
              placeholder="No limit",
              hint="LLM tokens per month; when spent, answers come from the knowledge only."),
    )  # fmt: skip


def _actions() -> rx.Component:
    return rx.cond(
        S.can_edit,
        rx.hstack(
            rx.button(rx.icon("save", size=16), "Save rules", on_click=S.save),
            rx.button("Discard changes", variant="soft", color_scheme="gray",
                      on_click=S.discard, disabled=~S.dirty),
            rx.cond(S.dirty, rx.text("Unsaved changes", size="2", color=rx.color("amber", 11))),
            align="center",
            spacing="3",
        ),
        rx.callout("You can read these rules; owners and admins change them.", icon="lock",
                   size="1", color_scheme="gray"),
    )  # fmt: skip


def _try_box() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Try it", size="4", as_="h2"),
                rx.spacer(),
                rx.button(rx.icon("rotate-ccw", size=14), "Reset chat", size="1",
                          variant="soft", color_scheme="gray", on_click=S.reset_chat),
                width="100%",
                align="center",
            ),
            rx.text("Write as a customer would. The real assistant answers from your "
                    "knowledge; nothing is sent to anyone or stored.", size="2", color=_MUTED),
            rx.vstack(
                rx.foreach(S.chat, chat_bubble),
                rx.cond(S.trying, rx.hstack(rx.spinner(size="1"),
                                            rx.text("Thinking…", size="2", color=_MUTED))),
                spacing="2",
                width="100%",
                min_height="8em",
                max_height="60vh",
                overflow_y="auto",
                aria_label="Try-it chat",
                aria_live="polite",
            ),
            rx.form(
                rx.vstack(
                    rx.input(id="try-message", name="message", value=S.try_text,
                             on_change=S.set_try_text,
                             placeholder="Do you deliver on Sundays?", width="100%",
                             aria_label="Message to try"),
                    rx.cond(S.try_error != "",
                            rx.text(S.try_error, color=rx.color("red", 11), size="2",
                                    role="alert")),
                    rx.hstack(
                        rx.button("Send", type="submit", loading=S.trying),
                        rx.button("Try with unsaved changes", type="button", variant="soft",
                                  on_click=S.send_draft, disabled=S.trying | ~S.dirty),
                        wrap="wrap",
                    ),
                    width="100%",
                ),
                on_submit=S.send_saved,
                reset_on_submit=False,
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        position="sticky",
        top="1em",
    )  # fmt: skip


def _body() -> rx.Component:
    return rx.grid(
        rx.vstack(_persona(), _hours(), _handover(), _answers(), _actions(), spacing="4",
                  width="100%"),
        rx.cond(S.can_edit, _try_box()),
        columns=rx.breakpoints(initial="1", md="2"),
        grid_template_columns=rx.breakpoints(initial="1fr", md="3fr 2fr"),
        gap="4",
        align_items="start",
        width="100%",
    )  # fmt: skip


def ai_rules_page() -> rx.Component:
    """The AI Rules section: the rules form and the try-it chat."""
    return section_page("ai-rules", _body())
