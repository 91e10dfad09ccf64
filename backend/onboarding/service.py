"""The getting-started checklist: seven steps, each read from what the business really did."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from backend import events
from backend.auth.permissions import Actor, Permission
from backend.models.base import utcnow
from backend.onboarding import repository as repo


class OnboardingError(ValueError):
    """Bad input for the checklist (an unknown step)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class StepInfo:
    """What a step is, why it matters and where it is done."""

    key: str
    title: str
    why: str
    route: str
    action: str


STEPS: tuple[StepInfo, ...] = (
    StepInfo("profile", "Complete your business profile",
             "Your name, time zone and currency appear in replies, reports and payment links.",
             "/settings", "Open settings"),
    StepInfo("channel", "Connect your first channel",
             "Customers reach you on the website widget, WhatsApp, Telegram, Instagram or "
             "Messenger.", "/integrations", "Connect a channel"),
    StepInfo("knowledge", "Add knowledge",
             "The AI answers only from your FAQs and documents.", "/knowledge", "Add knowledge"),
    StepInfo("ai_rules", "Set your AI rules",
             "Tone, business hours and when to hand over to a person.", "/ai-rules",
             "Set AI rules"),
    StepInfo("test_conversation", "Try a test conversation",
             "See how the AI answers before your customers do.", "/ai-rules", "Try it"),
    StepInfo("team", "Invite your team",
             "Agents take over the conversations the AI should not answer.", "/users",
             "Invite a member"),
    StepInfo("payments", "Connect a payment provider",
             "Send payment links and get paid inside the conversation.", "/integrations",
             "Connect payments"),
)  # fmt: skip
# Steps only an action records (the others are read from the business's data).
RECORDED_STEPS = ("profile", "ai_rules", "test_conversation")


@dataclass(frozen=True)
class ChecklistStep:
    """One step of the checklist and whether it is done."""

    key: str
    title: str
    why: str
    route: str
    action: str
    done: bool


@dataclass(frozen=True)
class Checklist:
    """The whole checklist, its progress and whether the dashboard should still nudge."""

    steps: list[ChecklistStep]
    done_count: int
    total: int
    dismissed: bool
    completed: bool
    # The first step not done yet (None when all are done).
    next_step: ChecklistStep | None

    @property
    def nudging(self) -> bool:
        """Whether the dashboard still shows the progress card and the header nudge."""
        return not (self.dismissed or self.completed)


def record_step(session: Session, *, business_id: int, step: str) -> None:
    """Remember that the business did `step` (profile saved, AI rules saved, AI tried)."""
    if step not in RECORDED_STEPS:
        raise OnboardingError(
            f"Unknown onboarding step {step!r}; use one of {', '.join(RECORDED_STEPS)}.",
            field="step",
        )
    repo.add_step(session, business_id=business_id, step=step)


def checklist(session: Session, *, actor: Actor, now: datetime | None = None) -> Checklist:
    """The actor's business checklist (owners), read in one query; the first time every step
    is done it records completion and tells the owners "all set" (once)."""
    actor.require(Permission.BUSINESS_MANAGE)
    facts = repo.setup_facts(session, business_id=actor.business_id)
    recorded = set(facts.recorded_steps)
    done = {
        "profile": "profile" in recorded,
        "channel": facts.channel,
        "knowledge": facts.knowledge,
        "ai_rules": "ai_rules" in recorded,
        "test_conversation": "test_conversation" in recorded or facts.conversation,
        "team": facts.team,
        "payments": facts.payments,
    }
    steps = [ChecklistStep(s.key, s.title, s.why, s.route, s.action, done[s.key]) for s in STEPS]
    done_count = sum(1 for s in steps if s.done)
    completed = facts.completed_at is not None
    if done_count == len(steps) and not completed:
        if repo.mark_completed(session, business_id=actor.business_id, now=now or utcnow()):
            events.publish(session, "onboarding.completed", business_id=actor.business_id)
        completed = True
    return Checklist(
        steps=steps,
        done_count=done_count,
        total=len(steps),
        dismissed=facts.dismissed_at is not None,
        completed=completed,
        next_step=next((s for s in steps if not s.done), None),
    )


def dismiss(session: Session, *, actor: Actor, now: datetime | None = None) -> None:
    """Hide the checklist card and the header nudge (owners; "Show checklist again" undoes)."""
    actor.require(Permission.BUSINESS_MANAGE)
    repo.set_progress(session, business_id=actor.business_id, dismissed_at=now or utcnow())


def show_again(session: Session, *, actor: Actor) -> None:
    """Bring the dismissed checklist back to the Overview and the header."""
    actor.require(Permission.BUSINESS_MANAGE)
    repo.set_progress(session, business_id=actor.business_id, dismissed_at=None)
