"""The Billing page: the business's BizBot plan, its usage this month, Checkout and the portal."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import reflex as rx

from backend.auth.permissions import PermissionDenied
from backend.billing import service as billing
from backend.billing.schemas import BillingError, BillingOverview
from backend.core.db import session_scope
from state.base import BaseState, hard_redirect

STATUS_LABELS = {
    "none": "Free plan",
    "active": "Active",
    "trialing": "Trial",
    "past_due": "Payment overdue",
    "unpaid": "Unpaid",
    "canceled": "Cancelled",
    "incomplete": "Waiting for payment",
    "incomplete_expired": "Checkout expired",
    "paused": "Paused",
}


@dataclass(frozen=True)
class UsageRow:
    """One limit with its progress bar: "25 of 100 conversations a month"."""

    what: str
    label: str
    text: str
    percent: int
    full: bool
    unlimited: bool


@dataclass(frozen=True)
class PlanCard:
    """One plan card: name, price, limits, and its button ("" when none)."""

    key: str
    name: str
    price: str
    limits: list[str]
    current: bool
    action: str


def _usage_rows(view: BillingOverview) -> list[UsageRow]:
    rows = []
    for line in view.usage:
        if line.limit is None:
            text = f"{line.used:,} {line.label} (unlimited)"
        else:
            text = f"{line.used:,} of {line.limit:,} {line.label}"
        rows.append(UsageRow(what=line.what, label=line.label, text=text, percent=line.percent,
                             full=line.limit is not None and line.used >= line.limit,
                             unlimited=line.limit is None))  # fmt: skip
    return rows


class BillingState(BaseState):
    """Reads the overview on load; sends the owner to Stripe Checkout or the portal."""

    loaded: bool = False
    enabled: bool = False
    plan_name: str = ""
    plan_key: str = ""
    status: str = ""
    status_label: str = ""
    renewal: str = ""  # "Renews on 31 January 2030" / "Ends on …"
    cancelling: bool = False
    has_customer: bool = False
    usage: list[UsageRow] = []
    plans: list[PlanCard] = []
    notice: str = ""
    error: str = ""
    busy: str = ""  # the plan key (or "portal") whose button is working

    def _read(self) -> None:
        actor = self.current_actor()
        if actor is None:
            return
        with session_scope() as session:
            view = billing.overview(session, actor=actor)
        self.enabled, self.plan_name, self.plan_key = view.enabled, view.plan_name, view.plan_key
        self.status = view.status
        self.status_label = STATUS_LABELS.get(view.status, view.status.replace("_", " "))
        self.cancelling, self.has_customer = view.cancel_at_period_end, view.has_customer
        end = view.current_period_end
        day = f"{end.day} {end:%B %Y}" if end else ""
        self.renewal = (f"Ends on {day}" if self.cancelling else f"Renews on {day}") if end else ""
        self.usage = _usage_rows(view)
        self.plans = [PlanCard(key=p.key, name=p.name, price=p.price, limits=p.limits,
                               current=p.current, action=p.action) for p in view.plans]  # fmt: skip
        self.loaded = True

    @rx.event
    def load(self):
        """Guard the page (owners only) and read the plan, its status and this month's usage."""
        actor = self._enter("billing")
        if actor is None:
            return None if self.signed_in else self._login_redirect()
        self.error, self.busy = "", ""
        query = self.router.url.query_parameters.get("checkout", "")
        self.notice = {
            "success": "Thank you! Your new plan shows here as soon as Stripe confirms it.",
            "cancelled": "Checkout was cancelled; nothing was charged.",
        }.get(query, "")
        self._read()
        return None

    @rx.event
    def refresh(self):
        """Read the plan and usage again (e.g. right after Stripe confirmed a checkout)."""
        if self.current_actor() is None:
            return self._login_redirect()
        self._read()
        return None

    @rx.event(background=True)
    async def choose_plan(self, plan: str):
        """Open Stripe Checkout for `plan` (or the portal to switch, when already paying)."""
        async with self:
            actor = self.current_actor()
            if actor is None:
                return self._login_redirect()
            self.busy, self.error = plan, ""
        try:
            url = await asyncio.to_thread(self._checkout, actor, plan)
        except (BillingError, PermissionDenied) as exc:
            async with self:
                self.busy, self.error = "", str(exc)
            return None
        return hard_redirect(url)

    @rx.event(background=True)
    async def manage_billing(self):
        """Open the Stripe customer portal (card, invoices, cancel)."""
        async with self:
            actor = self.current_actor()
            if actor is None:
                return self._login_redirect()
            self.busy, self.error = "portal", ""
        try:
            url = await asyncio.to_thread(self._portal, actor)
        except (BillingError, PermissionDenied) as exc:
            async with self:
                self.busy, self.error = "", str(exc)
            return None
        return hard_redirect(url)

    @staticmethod
    def _checkout(actor, plan: str) -> str:
        with session_scope() as session:
            return billing.start_checkout(session, actor=actor, plan=plan)

    @staticmethod
    def _portal(actor) -> str:
        with session_scope() as session:
            return billing.portal_url(session, actor=actor)
