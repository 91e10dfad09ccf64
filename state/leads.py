"""The Leads page: the pipeline board (drag or "Move to…"), the list with filters and CSV, and
the lead dialog; live when the pipeline captures a lead."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import reflex as rx

from backend.auth.permissions import Actor, Permission, PermissionDenied
from backend.core.db import session_scope
from backend.leads import service as leads
from backend.leads.schemas import Board, LeadError, LeadFilters, LeadPage, LeadView
from state.base import BaseState
from state.live import LiveBatch, SharedReads, live_consumer

ROUTE = "/leads"
PAGE_SIZE = 50
STAGES: list[tuple[str, str]] = [(str(k), v) for k, v in leads.STAGE_LABELS.items()]
SOURCE_LABELS = {"ai": "AI", "widget_offline": "Website form", "agent": "Team",
                 "import": "Import"}  # fmt: skip
_FORM_FIELDS = ("name", "email", "phone", "value", "interest", "notes", "owner", "follow_up")


@dataclass(frozen=True)
class LeadCard:
    """One lead as a board card, a list row and the dialog show it."""

    id: int
    title: str  # name, else email, else phone
    name: str
    email: str
    phone: str
    interest: str
    notes: str
    stage: str
    stage_label: str
    source_label: str
    value: str  # "" when none
    value_input: str  # "1200.00"
    owner_id: str  # "" when nobody
    owner: str
    follow_up: str  # "2026-12-01 09:30"
    follow_up_input: str  # "2026-12-01T09:30"
    due: bool
    conversation_id: int


@dataclass(frozen=True)
class MemberChoice:
    """A team member a lead can be given to."""

    id: str
    name: str


def lead_card(view: LeadView) -> LeadCard:
    """A lead as the page shows it."""
    value_input = (
        view.value_display.rsplit(" ", 1)[0].replace(",", "") if view.value_display else ""
    )
    return LeadCard(
        id=view.id,
        title=view.name or view.email or view.phone or f"Lead #{view.id}",
        name=view.name or "",
        email=view.email or "",
        phone=view.phone or "",
        interest=view.interest or "",
        notes=view.notes or "",
        stage=view.stage,
        stage_label=leads.STAGE_LABELS.get(view.stage, view.stage),
        source_label=SOURCE_LABELS.get(view.source, view.source),
        value=view.value_display,
        value_input=value_input,
        owner_id=str(view.owner_user_id or ""),
        owner=view.owner_name or "",
        follow_up=view.follow_up_local.replace("T", " "),
        follow_up_input=view.follow_up_local,
        due=view.follow_up_due,
        conversation_id=view.conversation_id or 0,
    )


def _message(exc: Exception) -> str:
    return getattr(exc, "message", None) or str(exc)


@dataclass(frozen=True)
class _Request:
    version: int
    filters: LeadFilters
    offset: int


def _read(actor: Actor, request: _Request, shared: SharedReads | None = None):
    """The board and the list page (the board is the same for every member of the business)."""

    def read_board() -> Board:
        with session_scope() as session:
            return leads.board(session, actor=actor)

    with session_scope() as session:
        page = leads.list_leads(session, actor=actor, filters=request.filters,
                                limit=PAGE_SIZE, offset=request.offset)  # fmt: skip
    board = shared.get(("leads.board", actor.business_id), read_board) if shared else read_board()
    return board, page


@live_consumer(read=_read, routes=(ROUTE,), events=("lead.",))
class LeadsState(BaseState):
    """The business's leads: board, list, filters and the lead dialog."""

    loaded: bool = False
    can_manage: bool = False
    can_delete: bool = False
    view: str = "board"

    cards: dict[str, list[LeadCard]] = {}
    counts: dict[str, int] = {}
    totals: dict[str, str] = {}

    rows: list[LeadCard] = []
    list_total: int = 0
    offset: int = 0
    stage_filter: str = "all"
    owner_filter: str = "all"
    source_filter: str = "all"
    search: str = ""
    due_only: bool = False

    members: list[MemberChoice] = []

    dialog_open: bool = False
    lead_id: int = 0  # 0: a new lead
    form: dict[str, str] = {}
    errors: dict[str, str] = {}
    conversation_id: int = 0
    lead_stage: str = ""

    delete_open: bool = False
    dragging: int = 0
    _version: int = 0

    @rx.var
    def list_label(self) -> str:
        """`1-50 of 120` (with an en dash), or `No leads`."""
        if not self.list_total:
            return "No leads"
        last = min(self.offset + PAGE_SIZE, self.list_total)
        return f"{self.offset + 1}\u2013{last} of {self.list_total}"

    @rx.var
    def has_prev(self) -> bool:
        """Whether there is a page before this one."""
        return self.offset > 0

    @rx.var
    def has_next(self) -> bool:
        """Whether there is a page after this one."""
        return self.offset + PAGE_SIZE < self.list_total

    # --- reading -----------------------------------------------------------------------------

    def _on_page(self) -> bool:
        return self.section == "leads" and self.router.url.path.rstrip("/") == ROUTE

    def _filters(self) -> LeadFilters:
        owner = None
        if self.owner_filter == "none":
            owner = 0
        elif self.owner_filter.isdigit():
            owner = int(self.owner_filter)
        return LeadFilters(
            stage=None if self.stage_filter == "all" else self.stage_filter,
            owner_user_id=owner,
            source=None if self.source_filter == "all" else self.source_filter,
            search=self.search.strip(),
            follow_up_due=self.due_only,
        )

    def _request(self) -> _Request:
        return _Request(self._version, self._filters(), self.offset)

    def _show(self, board: Board, page: LeadPage) -> None:
        self.cards = {c.stage: [lead_card(v) for v in c.leads] for c in board.columns}
        self.counts = {c.stage: c.count for c in board.columns}
        self.totals = {c.stage: c.value_display for c in board.columns}
        self.rows, self.list_total = [lead_card(v) for v in page.leads], page.total
        self.loaded = True

    def _reload(self, actor: Actor) -> None:
        self._version += 1
        self._show(*_read(actor, self._request()))

    def _live_request(self, batch: LiveBatch, actor: Actor) -> _Request | None:
        if not (self.loaded and self._on_page()) or batch.tick:
            return None
        return self._request()

    def _live_apply(self, request: _Request, result: Any) -> None:
        if request.version == self._version and self._on_page():
            self._show(*result)

    def _actor(self) -> Actor | None:
        actor = self.current_actor()
        if actor is not None:
            self.can_manage = actor.can(Permission.LEADS_MANAGE)
            self.can_delete = self.can_manage and str(actor.role) in ("owner", "admin")
        return actor

    @rx.event
    def load(self):
        """Guard the page, read the board and the list; open the lead named by `?lead=`."""
        actor = self._enter("leads")
        if actor is None:
            return None if self.signed_in else self._login_redirect()
        self._actor()
        self.dialog_open = self.delete_open = False
        with session_scope() as session:
            self.members = [MemberChoice(str(m.user_id), m.name)
                            for m in leads.members(session, actor=actor)]  # fmt: skip
        self._reload(actor)
        wanted = self.router.url.query_parameters.get("lead", "")
        if wanted.isdigit():
            return LeadsState.open_lead(int(wanted))
        return None

    def _refresh(self):
        actor = self._actor()
        if actor is None:
            return self._login_redirect()
        self._reload(actor)
        return None

    @rx.event
    def set_view(self, view: str | list[str]):
        """Show the board or the list."""
        self.view = view if view in ("board", "list") else "board"

    @rx.event
    def set_stage_filter(self, value: str):
        """List only one stage (or all)."""
        self.stage_filter, self.offset = value, 0
        return self._refresh()

    @rx.event
    def set_owner_filter(self, value: str):
        """List one member's leads, unowned ones, or all."""
        self.owner_filter, self.offset = value, 0
        return self._refresh()

    @rx.event
    def set_source_filter(self, value: str):
        """List leads from one source (or all)."""
        self.source_filter, self.offset = value, 0
        return self._refresh()

    @rx.event
    def set_search(self, value: str):
        """List leads whose name, email, phone, interest or notes contain the text."""
        self.search, self.offset = value, 0
        return self._refresh()

    @rx.event
    def set_due_only(self, value: bool):
        """List only leads whose follow-up is due."""
        self.due_only, self.offset = bool(value), 0
        return self._refresh()

    @rx.event
    def turn(self, step: int):
        """Show the next (1) or previous (-1) page of the list."""
        self.offset = max(0, self.offset + step * PAGE_SIZE)
        return self._refresh()

    @rx.event
    def export_csv(self):
        """Download every lead the list's filters match, as CSV."""
        actor = self._actor()
        if actor is None:
            return self._login_redirect()
        try:
            with session_scope() as session:
                text = leads.export_csv(session, actor=actor, filters=self._filters())
        except (LeadError, PermissionDenied) as exc:
            return rx.toast.error(_message(exc))
        return rx.download(data=text, filename="leads.csv")

    # --- the lead dialog ---------------------------------------------------------------------

    @rx.event
    def new_lead(self):
        """Open the empty "New lead" form."""
        self.lead_id, self.errors, self.conversation_id, self.lead_stage = 0, {}, 0, "new"
        self.form = {}
        self.dialog_open = True

    @rx.event
    def open_lead(self, lead_id: int):
        """Open a lead's details to read or edit them."""
        actor = self._actor()
        if actor is None:
            return self._login_redirect()
        try:
            with session_scope() as session:
                card = lead_card(leads.get_lead(session, actor=actor, lead_id=lead_id))
        except (LeadError, PermissionDenied) as exc:
            return rx.toast.error(_message(exc))
        self.lead_id, self.errors = card.id, {}
        self.conversation_id, self.lead_stage = card.conversation_id, card.stage
        self.form = {
            "name": card.name, "email": card.email, "phone": card.phone,
            "value": card.value_input, "interest": card.interest, "notes": card.notes,
            "owner": card.owner_id, "follow_up": card.follow_up_input,
        }  # fmt: skip
        self.dialog_open = True
        return None

    @rx.event
    def set_dialog_open(self, is_open: bool):
        """Open or close the lead dialog."""
        self.dialog_open = is_open

    @rx.event
    def save_lead(self, form: dict[str, Any]):
        """Add the new lead, or save the one being edited; errors name the field."""
        self.errors = {}
        actor = self._actor()
        if actor is None:
            return self._login_redirect()
        values = {k: str(form.get(k) or "").strip() for k in _FORM_FIELDS}
        self.form = values
        fields = {
            "name": values["name"], "email": values["email"], "phone": values["phone"],
            "value": values["value"], "interest": values["interest"], "notes": values["notes"],
            "owner_user_id": int(values["owner"]) if values["owner"].isdigit() else None,
            "next_follow_up_at": values["follow_up"],
        }  # fmt: skip
        try:
            with session_scope() as session:
                if self.lead_id:
                    leads.update_lead(session, actor=actor, lead_id=self.lead_id, **fields)
                else:
                    leads.create_lead(session, actor=actor, **fields)
        except LeadError as exc:
            field = {"owner_user_id": "owner", "next_follow_up_at": "follow_up"}.get(
                exc.field or "", exc.field or "form"
            )
            self.errors = {field if field in _FORM_FIELDS else "form": exc.message}
            return None
        except PermissionDenied as exc:
            self.errors = {"form": str(exc)}
            return None
        message = "Lead saved." if self.lead_id else "Lead added."
        self.dialog_open = False
        self._reload(actor)
        return rx.toast.success(message)

    @rx.event
    def set_delete_open(self, is_open: bool):
        """Open or close the delete confirmation."""
        self.delete_open = is_open

    @rx.event
    def confirm_delete(self):
        """Delete the lead shown in the dialog."""
        actor = self._actor()
        if actor is None:
            return self._login_redirect()
        try:
            with session_scope() as session:
                leads.delete_lead(session, actor=actor, lead_id=self.lead_id)
        except (LeadError, PermissionDenied) as exc:
            self.delete_open = False
            return rx.toast.error(_message(exc))
        self.delete_open = self.dialog_open = False
        self._reload(actor)
        return rx.toast.success("Lead deleted.")

    # --- moving ------------------------------------------------------------------------------

    def _move(self, lead_id: int, stage: str, position: int | None):
        actor = self._actor()
        if actor is None:
            return self._login_redirect()
        try:
            with session_scope() as session:
                leads.move_lead(
                    session, actor=actor, lead_id=lead_id, stage=stage, position=position
                )
        except (LeadError, PermissionDenied) as exc:
            self._reload(actor)
            return rx.toast.error(_message(exc))
        self._reload(actor)
        return None

    @rx.event
    def move_to(self, lead_id: int, stage: str):
        """Move a lead to the top of another stage (the card's "Move to…" menu)."""
        return self._move(lead_id, stage, 0)

    @rx.event
    def drag_start(self, lead_id: int):
        """Remember which card is being dragged."""
        self.dragging = lead_id

    @rx.event
    def drop_at(self, stage: str, position: int):
        """Drop the dragged card into `stage` before the card at `position` (-1: the end)."""
        lead_id, self.dragging = self.dragging, 0
        if not lead_id:
            return None
        if position < 0:
            position = len(self.cards.get(stage, []))
            if any(card.id == lead_id for card in self.cards.get(stage, [])):
                position -= 1  # it leaves its own place first
        else:
            current = self.cards.get(stage, [])
            old = next((i for i, card in enumerate(current) if card.id == lead_id), None)
            if old is not None and old < position:
                position -= 1  # dropping lower in its own column: its old slot closes
        return self._move(lead_id, stage, position)
