"""The AI Rules page: edit how the assistant behaves, and try it in a chat box."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import reflex as rx

from backend.ai import rules_admin
from backend.ai.rules import DAYS, RulesError
from backend.auth import service as auth
from backend.auth.permissions import Actor, PermissionDenied
from backend.core.db import session_scope
from state.base import BaseState

DAY_LABELS = {
    "mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday", "fri": "Friday",
    "sat": "Saturday", "sun": "Sunday",
}  # fmt: skip
TONES = ["friendly", "professional", "formal", "playful", "concise"]
# The business hours and the out-of-hours reply are edited on Settings only: never sent here.
TEXT_FIELDS = (
    "tone",
    "persona_name",
    "greeting",
    "fallback_message",
    "languages",
    "extra_instructions",
    "max_ai_turns",
    "monthly_token_budget",
)


@dataclass(frozen=True)
class DayHours:
    """One weekday of the business hours as the page shows them (read-only)."""

    day: str
    label: str
    open: bool
    ranges: str  # "08:00-12:00, 14:00-18:00", "" when closed


@dataclass(frozen=True)
class ChatBubble:
    """One message of the "try it" chat: the owner's (as a customer) or the assistant's."""

    role: str  # "customer" or "assistant"
    text: str
    language: str = ""
    action: str = ""  # "answer" or "handoff"
    explanation: str = ""
    confidence: str = ""  # "82%"
    sources: list[str] = field(default_factory=list)  # "Title: snippet"
    quick_replies: list[str] = field(default_factory=list)
    closed_now: bool = False
    draft: bool = False  # tried with unsaved changes


def threshold_words(percent: int) -> str:
    """The confidence threshold in plain words."""
    if percent <= 0:
        return "The assistant always answers, even when the knowledge barely matches. Risky."
    if percent < 40:
        return (
            f"{percent}%: the assistant answers most questions, including some it is unsure "
            "of; fewer handovers, more risk of a wrong answer."
        )
    if percent < 70:
        return (
            f"{percent}%: balanced. The assistant answers when your knowledge clearly covers "
            "the question and hands over to a person otherwise."
        )
    if percent < 100:
        return (
            f"{percent}%: careful. The assistant answers only close matches; expect more "
            "handovers to your team."
        )
    return "100%: the assistant never answers from knowledge; every question goes to a person."


def hours_days(hours: dict[str, Any]) -> list[DayHours]:
    """Each weekday with every one of its ranges; empty when no day is open (always open)."""
    days = hours.get("days") or {}
    if not any(days.values()):
        return []
    return [
        DayHours(
            day,
            DAY_LABELS[day],
            bool(days.get(day)),
            ", ".join(f"{start}-{end}" for start, end in days.get(day) or []),
        )
        for day in DAYS
    ]


def _actor_for(token: str | None) -> Actor | None:
    with session_scope() as session:
        info = auth.resolve_session(session, token=token)
    return info.actor if info else None


def _try(token: str | None, **kwargs: Any) -> rules_admin.TryResult | None:
    actor = _actor_for(token)
    if actor is None:
        return None
    with session_scope() as session:
        return rules_admin.try_message(session, actor=actor, **kwargs)


class AIRulesState(BaseState):
    """The rules form, its per-field errors, and the "try it" chat."""

    tone: str = "friendly"
    persona_name: str = ""
    greeting: str = ""
    fallback_message: str = ""
    out_of_hours_message: str = ""
    languages: str = ""  # "en, fr"
    extra_instructions: str = ""
    max_ai_turns: str = "8"
    monthly_token_budget: str = ""
    threshold_pct: int = 55
    handoff_keywords: list[str] = []
    blocked_topics: list[str] = []
    use_llm: bool = True
    # Read-only here: Settings is the one editor of the hours and the out-of-hours reply.
    always_open: bool = True
    days: list[DayHours] = []
    timezone: str = "UTC"
    can_edit_hours: bool = False  # may open Settings (owners)
    default_language: str = "en"
    can_edit: bool = False
    llm_configured: bool = False
    errors: dict[str, str] = {}
    dirty: bool = False

    chat: list[ChatBubble] = []
    try_text: str = ""
    trying: bool = False
    try_error: str = ""

    # --- loading -----------------------------------------------------------------------------

    def _show(self, form: rules_admin.RulesForm) -> None:
        self.tone, self.persona_name = form.tone, form.persona_name
        self.greeting, self.fallback_message = form.greeting, form.fallback_message
        self.out_of_hours_message = form.out_of_hours_message
        self.languages = ", ".join(form.languages)
        self.extra_instructions = form.extra_instructions
        self.max_ai_turns = str(form.max_ai_turns)
        budget = form.monthly_token_budget
        self.monthly_token_budget = "" if budget is None else str(budget)
        self.threshold_pct = round(form.confidence_threshold * 100)
        self.handoff_keywords, self.blocked_topics = form.handoff_keywords, form.blocked_topics
        self.use_llm = form.use_llm
        self.days = hours_days(form.business_hours)
        self.always_open = not self.days
        self.timezone, self.default_language = form.timezone, form.default_language
        self.can_edit, self.llm_configured = form.can_edit, form.llm_configured
        self.errors, self.dirty = {}, False

    @rx.event
    def load(self):
        """Guard the page (every member may read the rules) and read them."""
        actor = self.current_actor()
        self.section = "ai-rules"
        # Agents and viewers see the rules read-only; only saving and trying need more.
        self.section_allowed = actor is not None
        if actor is None:
            return self._login_redirect()
        self.can_edit_hours = actor.can_open("settings")
        with session_scope() as session:
            self._show(rules_admin.get_rules(session, actor=actor))
        self.chat, self.try_text, self.try_error, self.trying = [], "", "", False
        return None

    # --- editing -----------------------------------------------------------------------------

    def _changed(self) -> None:
        self.dirty = True

    @rx.event
    def set_text(self, name: str, value: str):
        """Change one of the text fields of the form."""
        if name in TEXT_FIELDS:
            setattr(self, name, value)
            self.errors = {k: v for k, v in self.errors.items() if k != name}
            self._changed()

    @rx.event
    def set_threshold(self, value: list[int | float]):
        """Move the confidence threshold slider (in percent)."""
        if value:
            self.threshold_pct = max(0, min(100, round(value[0])))
            self._changed()

    @rx.event
    def set_use_llm(self, value: bool):
        """Turn answering with the LLM on or off."""
        self.use_llm = bool(value)
        self._changed()

    def _add(self, name: str, form: dict[str, Any]) -> None:
        values = [v.strip() for v in str(form.get("tag", "")).split(",") if v.strip()]
        current = list(getattr(self, name))
        lowered = {v.casefold() for v in current}
        for value in values:
            if value.casefold() not in lowered:
                current.append(value)
                lowered.add(value.casefold())
        setattr(self, name, current)
        self._changed()

    @rx.event
    def add_keyword(self, form: dict[str, Any]):
        """Add a handoff keyword (or several, comma-separated)."""
        self._add("handoff_keywords", form)

    @rx.event
    def remove_keyword(self, value: str):
        """Remove a handoff keyword."""
        self.handoff_keywords = [k for k in self.handoff_keywords if k != value]
        self._changed()

    @rx.event
    def add_topic(self, form: dict[str, Any]):
        """Add a forbidden topic (or several, comma-separated)."""
        self._add("blocked_topics", form)

    @rx.event
    def remove_topic(self, value: str):
        """Remove a forbidden topic."""
        self.blocked_topics = [t for t in self.blocked_topics if t != value]
        self._changed()

    def _fields(self) -> dict[str, Any]:
        """The form as the service takes it: no business hours and no out-of-hours reply, so
        saving here leaves what Settings saved untouched."""
        return {
            "tone": self.tone,
            "persona_name": self.persona_name,
            "greeting": self.greeting,
            "fallback_message": self.fallback_message,
            "confidence_threshold": self.threshold_pct / 100,
            "handoff_keywords": list(self.handoff_keywords),
            "blocked_topics": list(self.blocked_topics),
            "languages": self.languages,
            "use_llm": self.use_llm,
            "extra_instructions": self.extra_instructions,
            "max_ai_turns": self.max_ai_turns.strip(),
            "monthly_token_budget": self.monthly_token_budget.strip(),
        }

    @rx.event
    def save(self):
        """Save the rules; a bad field gets its error under it."""
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        try:
            with session_scope() as session:
                form = rules_admin.save_rules(session, actor=actor, fields=self._fields())
        except RulesError as exc:
            self.errors = {exc.field: exc.message}
            return rx.toast.error("Not saved: fix the highlighted field.")
        except PermissionDenied as exc:
            return rx.toast.error(str(exc))
        self._show(form)
        return rx.toast.success("AI rules saved.")

    @rx.event
    def discard(self):
        """Forget unsaved changes and show the saved rules again."""
        return AIRulesState.load

    # --- try it ------------------------------------------------------------------------------

    @rx.event
    def set_try_text(self, value: str):
        """Type the message to try."""
        self.try_text = value

    @rx.event
    def reset_chat(self):
        """Start the tried conversation afresh."""
        self.chat, self.try_error = [], ""

    @rx.event
    def send_saved(self, form: dict[str, Any]):
        """Try the message with the saved rules."""
        return AIRulesState.run_try(False)

    @rx.event
    def send_draft(self):
        """Try the message with the unsaved changes on the page."""
        return AIRulesState.run_try(True)

    @rx.event(background=True)
    async def run_try(self, use_draft: bool):
        """Run the real engine on the typed message, off the websocket's event loop."""
        async with self:
            text = self.try_text.strip()
            if self.trying:
                return
            if not text:
                self.try_error = "Type a message, as a customer would write it."
                return
            draft = self._fields() if use_draft else None
            self.trying, self.try_error = True, ""
            token = self._session_token()
            history = [(b.role, b.text) for b in self.chat]
            language = next((b.language for b in reversed(self.chat) if b.language), None)
            self.chat = [*self.chat, ChatBubble(role="customer", text=text, draft=use_draft)]
            self.try_text = ""
        result: rules_admin.TryResult | None = None
        error, field_error = "", None
        try:
            result = await asyncio.to_thread(
                partial(_try, token, text=text, history=history, draft=draft, language=language)
            )
            if result is None:
                error = "Your session has ended; log in again."
        except RulesError as exc:
            error, field_error = exc.message, exc
        except PermissionDenied as exc:
            error = str(exc)
        finally:
            async with self:
                self.trying = False
                if result is not None:
                    self.chat = [*self.chat, _bubble(result, draft=use_draft)]
                else:
                    # The message was not tried: take it back so the owner can send it again.
                    self.chat = self.chat[:-1]
                    self.try_text = text
                    self.try_error = error or "The assistant could not answer; try again."
                    if field_error is not None and field_error.field not in ("text", "history"):
                        self.errors = {field_error.field: field_error.message}

    # --- derived -----------------------------------------------------------------------------

    @rx.var(cache=True)
    def tone_options(self) -> list[str]:
        """The tones offered, with a saved tone outside the list kept."""
        return TONES if self.tone in TONES or not self.tone else [*TONES, self.tone]

    @rx.var(cache=True)
    def threshold_text(self) -> str:
        """The threshold slider in plain words."""
        return threshold_words(self.threshold_pct)


def _bubble(result: rules_admin.TryResult, *, draft: bool) -> ChatBubble:
    return ChatBubble(
        role="assistant",
        text=result.reply,
        language=result.language,
        action=result.action,
        explanation=result.explanation,
        confidence=f"{result.confidence:.0%}",
        sources=[f"{s.title}: {s.snippet}" for s in result.sources],
        quick_replies=list(result.quick_replies),
        closed_now=not result.open_now,
        draft=draft,
    )
