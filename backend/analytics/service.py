"""Figures for the dashboard's overview and the onboarding checklist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session

from backend.analytics import repository as repo
from backend.auth.permissions import Actor, Permission
from backend.models.base import utcnow


@dataclass(frozen=True)
class OverviewFigures:
    """The headline numbers of the overview page."""

    conversations_30d: int
    waiting_for_agent: int
    contacts: int
    leads: int


@dataclass(frozen=True)
class OnboardingStep:
    """One step of getting started, with where to do it and whether it is done."""

    key: str
    title: str
    text: str
    route: str
    done: bool


def overview(session: Session, *, actor: Actor) -> OverviewFigures:
    """The business's headline numbers (any member)."""
    actor.require(Permission.DASHBOARD_VIEW)
    counts = repo.workspace_counts(
        session, business_id=actor.business_id, since=utcnow() - timedelta(days=30)
    )
    return OverviewFigures(
        conversations_30d=counts["conversations"],
        waiting_for_agent=counts["waiting"],
        contacts=counts["contacts"],
        leads=counts["leads"],
    )


def onboarding_steps(session: Session, *, actor: Actor) -> list[OnboardingStep]:
    """The getting-started checklist, each step's completion read from real data."""
    actor.require(Permission.BUSINESS_MANAGE)
    counts = repo.workspace_counts(session, business_id=actor.business_id, since=utcnow())
    return [
        OnboardingStep("account", "Create your business account",
                       "Done: you are the owner of this business.", "/settings", True),
        OnboardingStep("knowledge", "Teach your assistant",
                       "Add FAQs or upload documents so the AI can answer customers.",
                       "/knowledge", counts["knowledge_sources"] > 0),
        OnboardingStep("channel", "Connect a channel",
                       "Add the website chat widget, WhatsApp, Telegram, Instagram or Messenger.",
                       "/integrations", counts["channels"] > 0),
        OnboardingStep("team", "Invite your team",
                       "Agents take over conversations the AI should not answer.",
                       "/users", counts["members"] > 1),
    ]  # fmt: skip
