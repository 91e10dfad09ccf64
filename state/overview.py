"""The Overview and Onboarding pages."""

from __future__ import annotations

import reflex as rx

from backend.analytics import service as analytics
from backend.core.db import session_scope
from state.base import BaseState


class OverviewState(BaseState):
    """Headline numbers of the business."""

    figures: analytics.OverviewFigures = analytics.OverviewFigures(0, 0, 0, 0)

    @rx.event
    def load(self):
        """Guard the page and read the figures."""
        actor = self._enter("overview")
        if actor is None:
            return None if self.signed_in else self._login_redirect()
        with session_scope() as session:
            self.figures = analytics.overview(session, actor=actor)
        return None


class OnboardingState(BaseState):
    """The getting-started checklist."""

    steps: list[analytics.OnboardingStep] = []
    done_count: int = 0

    @rx.event
    def load(self):
        """Guard the page and compute the checklist."""
        actor = self._enter("onboarding")
        if actor is None:
            return None if self.signed_in else self._login_redirect()
        with session_scope() as session:
            steps = analytics.onboarding_steps(session, actor=actor)
        self.steps = steps
        self.done_count = sum(1 for s in steps if s.done)
        return None
