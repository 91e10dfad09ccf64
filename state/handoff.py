"""The Handoff page: the live board of conversations with people, agents, SLA policies."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import reflex as rx

from backend.auth.permissions import Actor, PermissionDenied
from backend.core.db import session_scope
from backend.handoff import service as handoff
from backend.handoff.schemas import AgentView, HandoffError, NotFound, SLAPolicyView
from backend.inbox import service as inbox
from backend.inbox.schemas import BoardView
from state.base import BaseState
from state.conversations import CHANNEL_LABELS, ConversationItem, conversation_item, retime
from state.live import LiveBatch, SharedReads, live_consumer

ROUTE = "/handoff"
POLICY_NUMBERS = (
    "first_response_minutes",
    "next_response_minutes",
    "resolution_minutes",
    "warn_before_minutes",
)
POLICY_FLAGS = (
    "business_hours_only",
    "escalate_notify_owner",
    "escalate_reassign",
    "escalate_raise_priority",
    "is_active",
)


@dataclass(frozen=True)
class AgentItem:
    """A member who can answer customers, with presence and load."""

    user_id: int
    name: str
    initial: str
    email: str
    role: str
    availability: str  # online | away
    open: int
    capacity: int
    has_capacity: bool
    load_pct: int
    is_me: bool


@dataclass(frozen=True)
class PolicyItem:
    """An SLA policy as the page lists it."""

    id: int
    name: str
    summary: str  # "First reply 15 min · Resolution 8 h"
    scope: str  # "All channels" or "WhatsApp, Website chat"
    escalation: str
    business_hours_only: bool
    is_active: bool


def _minutes_label(minutes: int) -> str:
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    return f"{hours // 24} d {hours % 24} h" if hours % 24 else f"{hours // 24} d"


def agent_item(view: AgentView, me: int) -> AgentItem:
    """An agent as the board shows them."""
    return AgentItem(
        user_id=view.user_id,
        name=view.name,
        initial=(view.name[:1] or "?").upper(),
        email=view.email,
        role=str(view.role),
        availability=view.availability,
        open=view.open_conversations,
        capacity=view.capacity,
        has_capacity=view.has_capacity,
        load_pct=min(100, round(100 * view.open_conversations / view.capacity))
        if view.capacity
        else 100,
        is_me=view.user_id == me,
    )


def policy_item(view: SLAPolicyView) -> PolicyItem:
    """An SLA policy as the page lists it."""
    targets = [
        f"{label} {_minutes_label(value)}"
        for label, value in (
            ("First reply", view.first_response_minutes),
            ("Next reply", view.next_response_minutes),
            ("Resolution", view.resolution_minutes),
        )
        if value
    ]
    escalation = [
        text
        for text, on in (
            ("notify owners", view.escalate_notify_owner),
            ("raise priority", view.escalate_raise_priority),
            ("reassign", view.escalate_reassign),
        )
        if on
    ]
    return PolicyItem(
        id=view.id,
        name=view.name,
        summary=" · ".join(targets) or "No targets",
        scope=", ".join(CHANNEL_LABELS.get(k, k) for k in view.applies_to_channels)
        or "All channels",
        escalation=(
            f"Warn {view.warn_before_minutes} min before; on breach: "
            + (", ".join(escalation) if escalation else "nothing")
        ),
        business_hours_only=view.business_hours_only,
        is_active=view.is_active,
    )


def _policy_form(view: SLAPolicyView | None) -> dict[str, str]:
    if view is None:
        return {
            "name": "", "first_response_minutes": "15", "next_response_minutes": "30",
            "resolution_minutes": "", "warn_before_minutes": "5",
            "business_hours_only": "on", "escalate_notify_owner": "on",
            "escalate_reassign": "", "escalate_raise_priority": "on", "is_active": "on",
            "channels": "",
        }  # fmt: skip
    form = {
        "name": view.name,
        "first_response_minutes": str(view.first_response_minutes or ""),
        "next_response_minutes": str(view.next_response_minutes or ""),
        "resolution_minutes": str(view.resolution_minutes or ""),
        "warn_before_minutes": str(view.warn_before_minutes),
        "channels": ",".join(view.applies_to_channels),
    }
    for flag in POLICY_FLAGS:
        form[flag] = "on" if getattr(view, flag) else ""
    return form


@dataclass(frozen=True)
class _Board:
    board: BoardView
    policies: list[SLAPolicyView] | None = field(default=None)


def _read_board(actor: Actor, with_policies: bool) -> _Board:
    with session_scope() as session:
        board = inbox.board(session, actor=actor)
        policies = handoff.list_sla_policies(session, actor=actor) if with_policies else None
    return _Board(board, policies)


def _read_live(actor: Actor, request: tuple[int, bool], shared: SharedReads) -> _Board:
    # The board and the policies are the same for every member: read once for all tabs.
    def board() -> BoardView:
        with session_scope() as session:
            return inbox.board(session, actor=actor)

    def policies() -> list[SLAPolicyView]:
        with session_scope() as session:
            return handoff.list_sla_policies(session, actor=actor)

    found = shared.get(("inbox.board",), board)
    return _Board(found, shared.get(("handoff.policies",), policies) if request[1] else None)


@live_consumer(
    read=_read_live,
    routes=("/handoff",),
    events=("conversation.", "message.", "handoff.", "sla.", "member.", "sla_policy."),
)
class HandoffState(BaseState):
    """The board (waiting, assigned, breaching), the agents, and the SLA policies."""

    loaded: bool = False
    waiting: list[ConversationItem] = []
    assigned: list[ConversationItem] = []
    breaching: list[ConversationItem] = []
    agents: list[AgentItem] = []
    my_availability: str = ""  # "" when the member cannot take conversations
    policies: list[PolicyItem] = []

    policy_open: bool = False
    policy_id: int = 0
    policy_form: dict[str, str] = {}
    policy_errors: dict[str, str] = {}
    delete_policy_id: int = 0
    delete_policy_name: str = ""

    _board_version: int = 0
    _me: int = 0

    @rx.var
    def can_manage(self) -> bool:
        """Owners and admins manage SLA policies and capacities."""
        return self.role in ("owner", "admin")

    @rx.var
    def online_count(self) -> int:
        """Agents online now."""
        return sum(1 for a in self.agents if a.availability == "online")

    def _on_page(self) -> bool:
        return self.section == "handoff" and self.router.url.path.rstrip("/") == ROUTE

    def _show(self, found: _Board) -> None:
        now = datetime.now(UTC)
        board = found.board
        mine = next((a for a in board.agents if a.user_id == self._me), None)
        fresh = {
            "waiting": [conversation_item(r, now) for r in board.waiting],
            "assigned": [conversation_item(r, now) for r in board.assigned],
            "breaching": [conversation_item(r, now) for r in board.breaching],
            "agents": [agent_item(a, self._me) for a in board.agents],
            "my_availability": mine.availability if mine else "",
            "loaded": True,
        }
        if found.policies is not None:
            fresh["policies"] = [policy_item(p) for p in found.policies]
        for name, value in fresh.items():
            # Only what changed goes to the browser.
            if getattr(self, name) != value:
                setattr(self, name, value)

    def _reload(self, actor: Actor, *, policies: bool = True) -> None:
        self._board_version += 1
        self._me = actor.user_id
        self._show(_read_board(actor, policies))

    def _live_request(self, batch: LiveBatch, actor: Actor) -> tuple[int, bool] | None:
        if not (self.loaded and self._on_page()):
            return None
        if batch.tick:
            now = datetime.now(UTC)
            self.waiting = [retime(r, now) for r in self.waiting]
            self.assigned = [retime(r, now) for r in self.assigned]
            self.breaching = [retime(r, now) for r in self.breaching]
            return None
        policies = batch.resync or batch.has("sla_policy.")
        if (
            batch.resync
            or policies
            or batch.has("conversation.", "message.", "handoff.", "sla.", "member.")
        ):
            return (self._board_version, policies)
        return None

    def _live_apply(self, request: tuple[int, bool], result: _Board) -> None:
        if request[0] == self._board_version and self._on_page():
            self._show(result)

    @rx.event
    def load(self):
        """Guard the page and read the board, the agents and the policies."""
        actor = self._enter("handoff")
        if actor is None:
            return None if self.signed_in else self._login_redirect()
        self.policy_open = False
        self._reload(actor)
        return None

    @rx.event
    def set_online(self, online: bool):
        """Mark myself online (round-robin may assign me conversations) or away."""
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        availability = "online" if online else "away"
        try:
            with session_scope() as session:
                handoff.set_availability(session, actor=actor, availability=availability)
        except (HandoffError, PermissionDenied, NotFound) as exc:
            return rx.toast.error(getattr(exc, "message", str(exc)))
        self._reload(actor, policies=False)
        return rx.toast.success(
            "You are online: waiting conversations may be assigned to you."
            if online
            else "You are away: nothing new is assigned to you.",
            duration=2500,
        )

    @rx.event
    def save_capacity(self, form: dict[str, Any]):
        """Set how many open conversations round-robin gives one agent."""
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        raw_user, raw_capacity = str(form.get("user_id", "")), str(form.get("capacity", ""))
        if not raw_user.isdigit():
            return rx.toast.error("Reload the page and try again.")
        if not raw_capacity.strip().isdigit():
            return rx.toast.error("Capacity must be a whole number from 0 to 500.")
        try:
            with session_scope() as session:
                saved = handoff.set_capacity(
                    session, actor=actor, user_id=int(raw_user),
                    max_open_conversations=int(raw_capacity),
                )  # fmt: skip
        except (HandoffError, PermissionDenied, NotFound) as exc:
            return rx.toast.error(getattr(exc, "message", str(exc)))
        self._reload(actor, policies=False)
        return rx.toast.success(f"{saved.name} takes up to {saved.capacity} conversations.")

    # --- SLA policies -------------------------------------------------------------------------

    @rx.event
    def new_policy(self):
        """Open an empty policy form."""
        self.policy_id, self.policy_form, self.policy_errors = 0, _policy_form(None), {}
        self.policy_open = True

    @rx.event
    def edit_policy(self, policy_id: int):
        """Open the form with a policy's settings."""
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        with session_scope() as session:
            views = handoff.list_sla_policies(session, actor=actor)
        view = next((v for v in views if v.id == policy_id), None)
        if view is None:
            return rx.toast.error("That policy no longer exists.")
        self.policy_id, self.policy_form, self.policy_errors = view.id, _policy_form(view), {}
        self.policy_open = True
        return None

    @rx.event
    def set_policy_open(self, is_open: bool):
        """Open or close the policy dialog."""
        self.policy_open = is_open

    @rx.event
    def save_policy(self, form: dict[str, Any]):
        """Create or change the policy; errors name the field."""
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        values = {k: str(form.get(k, "") or "").strip() for k in ("name", *POLICY_NUMBERS)}
        flags = {k: bool(form.get(k)) for k in POLICY_FLAGS}
        channels = [k for k in CHANNEL_LABELS if form.get(f"channel_{k}")]
        self.policy_form = {
            **values,
            **{k: "on" if v else "" for k, v in flags.items()},
            "channels": ",".join(channels),
        }
        self.policy_errors = {}
        try:
            with session_scope() as session:
                saved = handoff.save_sla_policy(
                    session,
                    actor=actor,
                    policy_id=self.policy_id or None,
                    name=values["name"],
                    **{k: values[k] or None for k in POLICY_NUMBERS[:3]},
                    warn_before_minutes=values["warn_before_minutes"] or "0",
                    applies_to_channels=channels,
                    **flags,
                )
        except HandoffError as exc:
            known = ("name", *POLICY_NUMBERS, "applies_to_channels")
            self.policy_errors = {exc.field if exc.field in known else "form": exc.message}
            return None
        except (PermissionDenied, NotFound) as exc:
            self.policy_errors = {"form": str(exc)}
            return None
        self.policy_open = False
        self._reload(actor)
        return rx.toast.success(f"SLA policy “{saved.name}” saved.")

    @rx.event
    def ask_delete_policy(self, policy_id: int, name: str):
        """Ask to confirm deleting a policy."""
        self.delete_policy_id, self.delete_policy_name = policy_id, name

    @rx.event
    def cancel_delete_policy(self):
        """Keep the policy."""
        self.delete_policy_id = 0

    @rx.event
    def confirm_delete_policy(self):
        """Delete the policy being confirmed."""
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        policy_id, self.delete_policy_id = self.delete_policy_id, 0
        try:
            with session_scope() as session:
                handoff.delete_sla_policy(session, actor=actor, policy_id=policy_id)
        except (PermissionDenied, NotFound) as exc:
            return rx.toast.error(str(exc))
        self._reload(actor)
        return rx.toast.success(f"Deleted “{self.delete_policy_name}”.")
