"""The Overview and Onboarding pages."""

from __future__ import annotations

from datetime import date, timedelta

import reflex as rx

from backend.analytics import service as analytics
from backend.analytics.schemas import AI_RESOLVED_DEFINITION, AnalyticsError, Durations
from backend.auth.permissions import Permission
from backend.core.db import session_scope
from backend.onboarding import service as onboarding
from state.base import BaseState

# Shown where there is nothing to measure yet.
NONE = "\N{EM DASH}"
PRESETS = {"7": 7, "30": 30, "90": 90}
CHART_CHANNELS = ["widget", "whatsapp", "telegram", "instagram", "messenger", "other"]
REASON_LABELS = {
    "low_confidence": "AI not confident",
    "customer_request": "Customer asked for a person",
    "keyword": "Handoff keyword",
    "sentiment": "Upset customer",
    "agent_takeover": "Agent took over",
    "rule": "AI rule",
    "blocked_topic": "Forbidden topic",
    "max_turns": "Too many AI turns",
    "ai_error": "AI error",
    "reopened": "Reopened",
}


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return NONE
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def _percent(share: float | None) -> str:
    return NONE if share is None else f"{share * 100:.0f}%"


def _time_row(label: str, ai: Durations, human: Durations) -> dict[str, str]:
    return {
        "label": label,
        "ai_median": _duration(ai.median_seconds),
        "ai_p90": _duration(ai.p90_seconds),
        "human_median": _duration(human.median_seconds),
        "human_p90": _duration(human.p90_seconds),
    }


class OverviewState(BaseState):
    """Headline numbers and the analytics of a date range and channel."""

    figures: analytics.OverviewFigures = analytics.OverviewFigures(0, 0, 0, 0)
    definition: str = AI_RESOLVED_DEFINITION
    preset: str = "30"
    start: str = ""
    end: str = ""
    channel: str = "all"
    channel_options: list[str] = []
    range_error: str = ""
    conversations: int = 0
    ai_resolved: str = NONE
    ai_first_response: str = NONE
    human_first_response: str = NONE
    handoff_rate: str = NONE
    csat: str = NONE
    revenue: str = NONE
    show_revenue: bool = False
    daily: list[dict[str, int | str]] = []
    times: list[dict[str, str]] = []
    reasons: list[dict[str, str | int]] = []
    unanswered: list[dict[str, str | int]] = []
    can_teach: bool = False
    teach_open: bool = False
    teach_question: str = ""
    teach_answer: str = ""
    teach_error: str = ""

    def _read(self, actor) -> None:
        try:
            start, end = date.fromisoformat(self.start), date.fromisoformat(self.end)
        except ValueError:
            self.range_error = "Enter both dates as YYYY-MM-DD."
            return
        with session_scope() as session:
            try:
                r = analytics.report(
                    session,
                    actor=actor,
                    start=start,
                    end=end,
                    channel=None if self.channel == "all" else self.channel,
                )
            except AnalyticsError as exc:
                self.range_error = str(exc)
                return
        self.range_error = ""
        self.conversations = r.conversations
        self.ai_resolved = _percent(r.ai_resolved_share)
        self.ai_first_response = _duration(r.times.ai_first_response.median_seconds)
        self.human_first_response = _duration(r.times.human_first_response.median_seconds)
        self.handoff_rate = _percent(r.handoff_rate)
        self.csat = NONE if r.csat_average is None else f"{r.csat_average:.1f} / 5 ({r.csat_count})"
        self.show_revenue = r.revenue is not None
        self.revenue = (
            " · ".join(f"{x.currency} {x.total_cents / 100:,.2f}" for x in r.revenue or []) or NONE
        )
        self.daily = [
            {"day": p.day.strftime("%b %d"), **{k: p.by_channel.get(k, 0) for k in CHART_CHANNELS}}
            for p in r.daily
        ]
        t = r.times
        self.times = [
            _time_row("First response", t.ai_first_response, t.human_first_response),
            _time_row("Resolution", t.ai_resolution, t.human_resolution),
        ]
        self.reasons = [
            {"reason": REASON_LABELS.get(x.reason, x.reason), "count": x.count}
            for x in r.handoff_reasons
        ]
        self.unanswered = [{"text": q.text, "count": q.count} for q in r.unanswered]

    def _set_preset_dates(self, today: date) -> None:
        days = PRESETS.get(self.preset, 30)
        self.start, self.end = (today - timedelta(days=days - 1)).isoformat(), today.isoformat()

    @rx.event
    def load(self):
        """Guard the page, read the headline numbers and the analytics of the chosen range."""
        actor = self._enter("overview")
        if actor is None:
            return None if self.signed_in else self._login_redirect()
        with session_scope() as session:
            self.figures = analytics.overview(session, actor=actor)
            self.channel_options = ["all", *analytics.channel_options(session, actor=actor)]
            today = analytics.business_today(session, actor=actor)
        if self.preset != "custom" or not self.start:
            self._set_preset_dates(today)
        self.can_teach = actor.can(Permission.KNOWLEDGE_MANAGE)
        self._read(actor)
        return None

    def _refresh(self):
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        self._read(actor)
        return None

    @rx.event
    def pick_preset(self, preset: str | list[str]):
        """Show the last 7, 30 or 90 days, or let the user type dates ("custom")."""
        preset = preset if isinstance(preset, str) else (preset[0] if preset else "30")
        self.preset = preset
        if preset == "custom":
            return None
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        with session_scope() as session:
            self._set_preset_dates(analytics.business_today(session, actor=actor))
        self._read(actor)
        return None

    @rx.event
    def set_start(self, value: str):
        """A custom range's first day."""
        self.preset, self.start = "custom", value
        return self._refresh()

    @rx.event
    def set_end(self, value: str):
        """A custom range's last day."""
        self.preset, self.end = "custom", value
        return self._refresh()

    @rx.event
    def pick_channel(self, channel: str):
        """Only one channel's conversations ("all" for every channel)."""
        self.channel = channel
        return self._refresh()

    @rx.event
    def export_csv(self):
        """Download the conversations per day and channel of the range as CSV."""
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        try:
            start, end = date.fromisoformat(self.start), date.fromisoformat(self.end)
            with session_scope() as session:
                text = analytics.daily_csv(
                    session,
                    actor=actor,
                    start=start,
                    end=end,
                    channel=None if self.channel == "all" else self.channel,
                )
        except (AnalyticsError, ValueError) as exc:
            return rx.toast.error(str(exc))
        return rx.download(data=text, filename=f"bizbot-conversations-{start}-{end}.csv")

    @rx.event
    def open_teach(self, question: str):
        """Open the "Turn into knowledge" dialog for one unanswered question."""
        self.teach_question, self.teach_answer, self.teach_error = question, "", ""
        self.teach_open = True

    @rx.event
    def set_teach_open(self, is_open: bool):
        """Open or close the dialog."""
        self.teach_open = is_open

    @rx.event
    def save_teach(self, form: dict):
        """Add the question and the typed answer as an FAQ; the question leaves the list."""
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        question, answer = form.get("question", ""), form.get("answer", "")
        self.teach_question, self.teach_answer = question, answer
        try:
            with session_scope() as session:
                analytics.question_to_knowledge(session, actor=actor, text=question, answer=answer)
        except (ValueError, PermissionError) as exc:  # bad input, or a role without knowledge
            self.teach_error = getattr(exc, "message", None) or str(exc)
            return None
        self.teach_open = False
        self._read(actor)
        return rx.toast.success("Added to your knowledge as an FAQ.")


class OnboardingState(BaseState):
    """The getting-started checklist (its page, and dismissing it from the Overview). Its
    progress (setup_done, setup_total, setup_dismissed) is BaseState's, read with the nudge."""

    steps: list[onboarding.ChecklistStep] = []
    next_key: str = ""
    completed: bool = False

    def _read_setup(self, actor):
        """The nudge's read (one query) also fills this page's steps."""
        checklist = super()._read_setup(actor)
        if checklist is not None:
            self.steps = checklist.steps
            self.next_key = checklist.next_step.key if checklist.next_step else ""
            self.completed = checklist.completed
        return checklist

    @rx.event
    def load(self):
        """Guard the page and compute the checklist."""
        actor = self._enter("onboarding")
        if actor is None:
            return None if self.signed_in else self._login_redirect()
        return None

    def _owner(self):
        actor = self.current_actor()
        if actor is None or not actor.can_open("onboarding"):
            return None
        return actor

    @rx.event
    def dismiss(self):
        """Hide the checklist card and the header nudge."""
        actor = self._owner()
        if actor is None:
            return self._login_redirect() if not self.signed_in else None
        with session_scope() as session:
            onboarding.dismiss(session, actor=actor)
        self._read_setup(actor)
        return rx.toast.info("Checklist hidden. Show it again from the Overview.", duration=3000)

    @rx.event
    def show_again(self):
        """Bring the checklist back to the Overview and the header."""
        actor = self._owner()
        if actor is None:
            return self._login_redirect() if not self.signed_in else None
        with session_scope() as session:
            onboarding.show_again(session, actor=actor)
        self._read_setup(actor)
        return None
