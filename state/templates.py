"""The Templates page: WhatsApp message templates, their review status, a live preview."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import reflex as rx

from backend.auth.permissions import Actor, PermissionDenied
from backend.core.db import session_scope
from backend.templates import service as templates
from backend.templates.schemas import (
    BroadcastView,
    GraphFailed,
    SegmentPreview,
    TemplateError,
    TemplateInput,
    TemplateView,
)
from state.base import BaseState
from state.live import LiveBatch, SharedReads, live_consumer

STATUS_LABELS = {
    "draft": "Draft",
    "pending": "In review",
    "approved": "Approved",
    "rejected": "Rejected",
    "paused": "Paused",
    "disabled": "Disabled",
}
CATEGORY_LABELS = {
    "marketing": "Marketing",
    "utility": "Utility",
    "authentication": "Authentication",
}
BUTTON_LABELS = {"quick_reply": "Quick reply", "url": "Link", "phone_number": "Call"}


@dataclass(frozen=True)
class TemplateRow:
    """One template in the list."""

    id: int
    name: str
    language: str
    category: str
    status: str
    status_label: str
    reason: str
    preview: str
    can_submit: bool
    can_edit: bool


@dataclass(frozen=True)
class ExampleRow:
    """The example of one variable ({{n}}) on the form."""

    index: int
    label: str
    value: str


@dataclass(frozen=True)
class ButtonRow:
    """One button on the form: its kind, label and link or phone number."""

    index: int
    type: str
    type_label: str
    text: str
    value: str


def _row(view: TemplateView) -> TemplateRow:
    return TemplateRow(
        id=view.id, name=view.name, language=view.language,
        category=CATEGORY_LABELS.get(view.category, view.category), status=view.status,
        status_label=STATUS_LABELS.get(view.status, view.status),
        reason=view.rejection_reason or "", preview=view.preview,
        can_submit=view.status in ("draft", "rejected", "paused", "disabled"),
        can_edit=view.status != "pending",
    )  # fmt: skip


def _error_text(exc: Exception) -> str:
    if isinstance(exc, TemplateError):
        return exc.message
    return str(exc)


def _count(text: str) -> int:
    return len(templates.variables_of(text, field="x", errors={}))


class TemplatesState(BaseState):
    """The list, the create/edit form with its per-field errors, submit and "sync now"."""

    rows: list[TemplateRow] = []
    notice: str = ""
    error: str = ""
    busy: bool = False
    form_open: bool = False
    form_id: int = 0
    name: str = ""
    language: str = "en_US"
    category: str = "utility"
    header_text: str = ""
    body: str = ""
    footer: str = ""
    body_examples: list[str] = []
    header_examples: list[str] = []
    buttons: list[dict[str, str]] = []
    errors: dict[str, str] = {}

    # --- derived ------------------------------------------------------------------------------

    @rx.var
    def body_example_rows(self) -> list[ExampleRow]:
        """One example input per body variable."""
        values = list(self.body_examples) + [""] * _count(self.body)
        return [ExampleRow(i, f"{{{{{i + 1}}}}}", values[i]) for i in range(_count(self.body))]

    @rx.var
    def header_example_rows(self) -> list[ExampleRow]:
        """The example input of the header variable, if it has one."""
        n = min(_count(self.header_text), 1)
        values = [*list(self.header_examples), ""]
        return [ExampleRow(i, f"{{{{{i + 1}}}}}", values[i]) for i in range(n)]

    @rx.var
    def button_rows(self) -> list[ButtonRow]:
        """The form's buttons."""
        return [
            ButtonRow(i, b["type"], BUTTON_LABELS.get(b["type"], b["type"]), b.get("text", ""),
                      b.get("url") or b.get("phone_number") or "")
            for i, b in enumerate(self.buttons)
        ]  # fmt: skip

    @rx.var
    def preview(self) -> str:
        """The message as the customer will read it, examples filled in."""
        return templates.preview(self._input())

    @rx.var
    def preview_buttons(self) -> list[str]:
        """The labels of the preview's buttons."""
        return [b.get("text") or "Button" for b in self.buttons]

    @rx.var
    def form_title(self) -> str:
        """The form's heading."""
        return f"Edit {self.name}" if self.form_id else "New template"

    # --- helpers ------------------------------------------------------------------------------

    def _input(self) -> TemplateInput:
        buttons = []
        for b in self.buttons:
            item = {"type": b["type"], "text": b.get("text", "")}
            if b["type"] == "url":
                item["url"] = b.get("url", "")
            if b["type"] == "phone_number":
                item["phone_number"] = b.get("phone_number", "")
            buttons.append(item)
        return TemplateInput(
            name=self.name, language=self.language, category=self.category, body=self.body,
            header_text=self.header_text, footer=self.footer, buttons=buttons,
            body_examples=list(self.body_examples), header_examples=list(self.header_examples),
        )  # fmt: skip

    def _actor(self) -> Actor | None:
        actor = self.current_actor()
        return actor if actor is not None and actor.can_open("templates") else None

    def _reload(self, actor: Actor) -> None:
        with session_scope() as session:
            self.rows = [_row(v) for v in templates.list_templates(session, actor=actor)]

    # --- events -------------------------------------------------------------------------------

    @rx.event
    def load(self):
        """Open the page: the business's templates."""
        actor = self._enter("templates")
        if not self.signed_in:
            return self._login_redirect()
        if actor is not None:
            self._reload(actor)
        return None

    @rx.event
    def new_template(self):
        """Open an empty form."""
        self.form_open, self.form_id, self.errors, self.notice, self.error = True, 0, {}, "", ""
        self.name, self.language, self.category = "", "en_US", "utility"
        self.header_text = self.body = self.footer = ""
        self.body_examples, self.header_examples, self.buttons = [], [], []

    @rx.event
    def edit_template(self, template_id: int):
        """Open the form on a template."""
        actor = self._actor()
        if actor is None:
            return self._login_redirect()
        try:
            with session_scope() as session:
                view = templates.get_template(session, actor=actor, template_id=template_id)
        except (TemplateError, PermissionDenied) as exc:
            self.error = _error_text(exc)
            return None
        self.form_open, self.form_id, self.errors, self.error = True, view.id, {}, ""
        self.name, self.language, self.category = view.name, view.language, view.category
        self.header_text, self.body, self.footer = view.header_text, view.body, view.footer
        self.body_examples, self.header_examples = view.body_examples, view.header_examples
        self.buttons = [{k: str(v) for k, v in b.items()} for b in view.buttons]
        return None

    @rx.event
    def close_form(self):
        """Close the form without saving."""
        self.form_open, self.errors = False, {}

    @rx.event
    def set_field(self, field: str, value: str):
        """Type into a text field of the form."""
        if field in ("name", "language", "category", "header_text", "body", "footer"):
            setattr(self, field, value)
            self.errors = {k: v for k, v in self.errors.items() if k != field}

    @rx.event
    def set_body_example(self, index: int, value: str):
        """Type the example of body variable {{index + 1}}."""
        values = list(self.body_examples) + [""] * (index + 1 - len(self.body_examples))
        values[index] = value
        self.body_examples = values

    @rx.event
    def set_header_example(self, index: int, value: str):
        """Type the example of the header variable."""
        self.header_examples = [value]

    @rx.event
    def add_button(self, kind: str):
        """Add a quick reply, link or call button."""
        self.buttons = [*self.buttons, {"type": kind, "text": ""}]

    @rx.event
    def remove_button(self, index: int):
        """Remove a button."""
        self.buttons = [b for i, b in enumerate(self.buttons) if i != index]

    @rx.event
    def set_button_text(self, index: int, value: str):
        """Type a button's label."""
        self.buttons = [
            {**b, "text": value} if i == index else b for i, b in enumerate(self.buttons)
        ]

    @rx.event
    def set_button_value(self, index: int, value: str):
        """Type a link button's address or a call button's number."""
        updated = []
        for i, b in enumerate(self.buttons):
            if i == index:
                key = "url" if b["type"] == "url" else "phone_number"
                b = {**b, key: value}
            updated.append(b)
        self.buttons = updated

    @rx.event
    def save(self):
        """Save the form as a draft (validated as Meta requires)."""
        actor = self._actor()
        if actor is None:
            return self._login_redirect()
        try:
            with session_scope() as session:
                if self.form_id:
                    view = templates.update_template(
                        session, actor=actor, template_id=self.form_id, data=self._input()
                    )
                else:
                    view = templates.create_template(session, actor=actor, data=self._input())
        except TemplateError as exc:
            self.errors = exc.errors or {"form": exc.message}
            return None
        except PermissionDenied as exc:
            self.errors = {"form": str(exc)}
            return None
        self.form_open, self.errors, self.error = False, {}, ""
        self.notice = f"Saved {view.name} as a draft: submit it to Meta for review."
        self._reload(actor)
        return None

    @rx.event
    def delete(self, template_id: int):
        """Delete a template (at Meta too)."""
        actor = self._actor()
        if actor is None:
            return self._login_redirect()
        try:
            with session_scope() as session:
                templates.delete_template(session, actor=actor, template_id=template_id)
        except (TemplateError, GraphFailed, PermissionDenied) as exc:
            self.error = _error_text(exc)
            return None
        self.notice, self.error = "Template deleted.", ""
        self._reload(actor)
        return None

    async def _remote(self, work, done: str):
        async with self:
            actor = self._actor()
            if actor is None:
                return
            self.busy, self.error, self.notice = True, "", ""

        def run() -> Any:
            with session_scope() as session:
                return work(session, actor)

        try:
            result = await asyncio.to_thread(run)
            error = ""
        except (TemplateError, GraphFailed, PermissionDenied) as exc:
            result, error = None, _error_text(exc)
        async with self:
            self.busy, self.error = False, error
            if not error:
                self.notice = done.format(result=result)
            self._reload(actor)

    @rx.event(background=True)
    async def submit(self, template_id: int):
        """Send the template to Meta for review (in the background: it calls the Graph API)."""
        await self._remote(
            lambda s, a: templates.submit_template(s, actor=a, template_id=template_id),
            "Submitted to Meta: it is in review. You will be notified of the decision.",
        )

    @rx.event(background=True)
    async def sync_now(self):
        """Read the templates' statuses from Meta now."""
        await self._remote(
            lambda s, a: templates.sync_now(s, actor=a),
            "Synced with Meta: {result} template(s) changed.",
        )


@dataclass(frozen=True)
class PickerOption:
    """An approved template the inbox can send, and how many values it needs."""

    id: int
    label: str
    body: str
    header_text: str
    variables: int
    header_variables: int


class TemplatePickerState(BaseState):
    """The inbox's "Send a template" picker (outside WhatsApp's 24-hour window)."""

    picker_open: bool = False
    options: list[PickerOption] = []
    selected_id: int = 0
    values: list[str] = []
    header_values: list[str] = []
    picker_error: str = ""

    @rx.var
    def selected(self) -> PickerOption | None:
        """The chosen template."""
        return next((o for o in self.options if o.id == self.selected_id), None)

    @rx.var
    def value_rows(self) -> list[ExampleRow]:
        """One input per body variable of the chosen template."""
        option = self.selected
        n = option.variables if option else 0
        values = list(self.values) + [""] * n
        return [ExampleRow(i, f"{{{{{i + 1}}}}}", values[i]) for i in range(n)]

    @rx.var
    def header_rows(self) -> list[ExampleRow]:
        """The input of the chosen template's header variable, if any."""
        option = self.selected
        n = option.header_variables if option else 0
        values = [*self.header_values, ""]
        return [ExampleRow(i, "Header {{1}}", values[i]) for i in range(n)]

    @rx.var
    def option_labels(self) -> list[str]:
        """The approved templates, as the picker lists them."""
        return [o.label for o in self.options]

    @rx.var
    def selected_label(self) -> str:
        """The chosen template's label."""
        option = self.selected
        return option.label if option else ""

    @rx.var
    def picker_preview(self) -> str:
        """The chosen template filled with what the agent typed."""
        option = self.selected
        if option is None:
            return ""
        return templates.preview(
            TemplateInput(
                name="", language="", category="", body=option.body,
                header_text=option.header_text, body_examples=list(self.values),
                header_examples=list(self.header_values),
            )
        )  # fmt: skip

    @rx.event
    def open_picker(self):
        """Show the approved templates of the business."""
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        try:
            with session_scope() as session:
                views = templates.approved_templates(session, actor=actor)
        except PermissionDenied as exc:
            self.picker_error = str(exc)
            return None
        self.options = [
            PickerOption(
                id=v.id, label=f"{v.name} ({v.language})", body=v.body,
                header_text=v.header_text, variables=v.variable_count,
                header_variables=min(_count(v.header_text), 1),
            )
            for v in views
        ]  # fmt: skip
        self.selected_id = self.options[0].id if self.options else 0
        self.values, self.header_values, self.picker_error = [], [], ""
        if not self.options:
            self.picker_error = (
                "No approved template yet: create one on the Templates page and wait for "
                "Meta's approval."
            )
        self.picker_open = True
        return None

    @rx.event
    def close_picker(self):
        """Close the picker."""
        self.picker_open = False

    @rx.event
    def set_picker_open(self, value: bool):
        """Open or close the picker (the dialog's own close)."""
        self.picker_open = value

    @rx.event
    def choose(self, label: str):
        """Pick a template by its label."""
        option = next((o for o in self.options if o.label == label), None)
        self.selected_id = option.id if option else 0
        self.values, self.header_values = [], []

    @rx.event
    def set_value(self, index: int, value: str):
        """Type the value of body variable {{index + 1}}."""
        values = list(self.values) + [""] * (index + 1 - len(self.values))
        values[index] = value
        self.values = values

    @rx.event
    def set_header_value(self, index: int, value: str):
        """Type the value of the header variable."""
        self.header_values = [value]

    @rx.event
    async def send(self):
        """Send the chosen template to the open conversation's customer."""
        from state.conversations import ConversationsState

        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        inbox = await self.get_state(ConversationsState)
        try:
            with session_scope() as session:
                templates.send_template(
                    session, actor=actor, conversation_id=inbox.open_id,
                    template_id=self.selected_id, variables=list(self.values),
                    header_variables=list(self.header_values),
                )  # fmt: skip
        except (TemplateError, PermissionDenied) as exc:
            self.picker_error = _error_text(exc)
            return None
        self.picker_open, self.picker_error = False, ""
        return None


@dataclass(frozen=True)
class RecipientRow:
    """One contact of a broadcast and where their message is."""

    name: str
    status: str
    status_label: str
    error: str


@dataclass(frozen=True)
class BroadcastRow:
    """One broadcast in the list: its counts per status and its first recipients."""

    id: int
    name: str
    status: str
    summary: str
    recipients: list[RecipientRow]
    total: int  # every recipient; `summary` counts them all, `recipients` lists the first ones
    shown_label: str  # "Showing 50 of 3,000 recipients." when not all are listed
    can_show_more: bool


@dataclass(frozen=True)
class ChannelOption:
    """A WhatsApp number a broadcast can go out on."""

    id: int
    label: str


@dataclass(frozen=True)
class BroadcastsRead:
    """What to re-read: the broadcasts a live batch named (None: the latest ones), and how
    many recipients to list of those the member asked to see more of."""

    broadcast_ids: tuple[int, ...] | None = None
    recipients: tuple[tuple[int, int], ...] = ()


RECIPIENT_LABELS = {
    "queued": "queued", "sent": "sent", "delivered": "delivered", "read": "read",
    "failed": "failed", "opted_out": "opted out",
}  # fmt: skip
ROUTE = "/templates"
BROADCASTS_SHOWN = 20
# Typing in the segment's fields counts its contacts once the typing pauses this long.
PREVIEW_PAUSE_SECONDS = 0.3


def _broadcast_row(view) -> BroadcastRow:
    summary = ", ".join(f"{n} {RECIPIENT_LABELS.get(k, k)}" for k, n in sorted(view.counts.items()))
    total, listed = sum(view.counts.values()), len(view.recipients)
    more = listed < total and listed < templates.RECIPIENTS_MAX
    shown_label = ""
    if listed < total:
        shown_label = f"Showing {listed:,} of {total:,} recipients" + (
            "." if more else "; the counts above cover them all."
        )
    return BroadcastRow(
        id=view.id, name=view.name, status=view.status, summary=summary,
        recipients=[
            RecipientRow(
                name=r.contact_name, status=r.status,
                status_label=RECIPIENT_LABELS.get(r.status, r.status), error=r.error or "",
            )
            for r in view.recipients
        ],
        total=total, shown_label=shown_label, can_show_more=more,
    )  # fmt: skip


def _read_broadcasts(
    actor: Actor, request: BroadcastsRead | None = None, shared: SharedReads | None = None
) -> list[BroadcastRow]:
    """The business's broadcasts a live batch named (the latest ones on a full read), each
    with its counts per status and its first recipients: never every recipient."""
    request = request if isinstance(request, BroadcastsRead) else BroadcastsRead()

    def read() -> list[BroadcastRow]:
        with session_scope() as session:
            views = templates.list_broadcasts(
                session, actor=actor, limit=BROADCASTS_SHOWN,
                broadcast_ids=request.broadcast_ids, recipients=dict(request.recipients),
            )  # fmt: skip
        return [_broadcast_row(v) for v in views]

    key = ("templates.broadcasts", actor.business_id, request)
    return shared.get(key, read) if shared else read()


def _named_broadcasts(batch: LiveBatch) -> set[int]:
    """The broadcasts the batch's `broadcast.*` events name."""
    ids = set()
    for event in batch.events:
        if not str(event.get("event", "")).startswith("broadcast."):
            continue
        value = event.get("broadcast_id")
        if isinstance(value, int) and not isinstance(value, bool):
            ids.add(value)
        elif isinstance(value, str) and value.isdigit():
            ids.add(int(value))
    return ids


def _segment_preview(actor: Actor, label: str | None, stage: str | None, channel: int | None):
    """The preview's sentence: how many contacts the segment has (counted in SQL)."""
    try:
        with session_scope() as session:
            preview = templates.preview_segment(
                session, actor=actor, label=label, lead_stage=stage, integration_id=channel
            )
    except (TemplateError, PermissionDenied) as exc:
        return _error_text(exc)
    return _preview_text(preview)


def _preview_text(preview: SegmentPreview) -> str:
    if not preview.total:
        return "No contact on this number matches the segment."
    text = f"{preview.total} contact(s) match: {preview.will_send} will get it"
    return text + (f", {preview.opted_out} opted out." if preview.opted_out else ".")


# What the broadcasts part of the page shows: the approved templates, the WhatsApp numbers
# ((integration id, name)) and the latest broadcasts.
_BroadcastsPage = tuple[list[TemplateView], list[tuple[int, str]], list[BroadcastRow]]


def _read_page(actor: Actor, listing: tuple[tuple[int, int], ...]) -> _BroadcastsPage:
    """Everything the broadcast form and list show (`listing`: how many recipients to list of
    the broadcasts the member asked to see more of)."""
    with session_scope() as session:
        views = templates.approved_templates(session, actor=actor)
        channels = templates.broadcast_channels(session, actor=actor)
    return views, channels, _read_broadcasts(actor, BroadcastsRead(None, listing))


def _create_broadcast(
    actor: Actor, listing: tuple[tuple[int, int], ...], fields: dict[str, Any]
) -> tuple[BroadcastView, _BroadcastsPage]:
    """Create the broadcast (the database stores its recipients, however many), then read the
    page again once it is committed; run in a worker thread, off the websocket's loop."""
    with session_scope() as session:
        view = templates.create_broadcast(session, actor=actor, **fields)
    return view, _read_page(actor, listing)


@live_consumer(read=_read_broadcasts, routes=(ROUTE,), events=("broadcast.",))
class BroadcastsState(BaseState):
    """The broadcast form (an approved template to a segment) and the latest broadcasts, whose
    recipients' statuses update live as WhatsApp reports them."""

    broadcasts: list[BroadcastRow] = []
    b_loaded: bool = False
    choices: list[PickerOption] = []
    channels: list[ChannelOption] = []
    b_template: str = ""
    b_name: str = ""
    b_label: str = ""
    b_stage: str = ""
    b_channel: str = ""
    b_values: list[str] = []
    b_header_values: list[str] = []
    b_error: str = ""
    b_notice: str = ""
    b_preview: str = ""
    _shown: dict[int, int] = {}  # broadcast id → recipients listed, after "Show more"
    _preview_seq: int = 0
    # A broadcast is being created: the button shows it, and another click meanwhile is ignored.
    b_starting: bool = False

    @rx.var
    def channel_labels(self) -> list[str]:
        """The WhatsApp numbers a broadcast can go out on."""
        return [c.label for c in self.channels]

    @rx.var
    def choice_labels(self) -> list[str]:
        """The approved templates a broadcast can use."""
        return [c.label for c in self.choices]

    @rx.var
    def b_value_rows(self) -> list[ExampleRow]:
        """One input per body variable of the chosen template."""
        option = next((c for c in self.choices if c.label == self.b_template), None)
        n = option.variables if option else 0
        values = list(self.b_values) + [""] * n
        return [ExampleRow(i, f"{{{{{i + 1}}}}}", values[i]) for i in range(n)]

    @rx.var
    def b_header_rows(self) -> list[ExampleRow]:
        """The input of the chosen template's header variable, if any."""
        option = next((c for c in self.choices if c.label == self.b_template), None)
        n = option.header_variables if option else 0
        return [ExampleRow(i, "Header {{1}}", [*self.b_header_values, ""][i]) for i in range(n)]

    def _reload(self, actor: Actor):
        return self._show_page(_read_page(actor, self._listing()))

    def _show_page(self, page: _BroadcastsPage):
        """Show what `_read_page` read, and count the segment's contacts afresh."""
        views, channels, broadcasts = page
        self.broadcasts = broadcasts
        self.b_loaded = True
        options: list[ChannelOption] = []
        for integration_id, name in channels:
            if any(o.label == name for o in options):
                name = f"{name} #{integration_id}"
            options.append(ChannelOption(integration_id, name))
        self.channels = options
        labels = [o.label for o in options]
        if self.b_channel not in labels:
            self.b_channel = labels[0] if labels else ""
        self.choices = [
            PickerOption(
                id=v.id, label=f"{v.name} ({v.language})", body=v.body,
                header_text=v.header_text, variables=v.variable_count,
                header_variables=min(_count(v.header_text), 1),
            )
            for v in views
        ]  # fmt: skip
        return self._ask_preview()

    def _channel_id(self) -> int | None:
        return next((c.id for c in self.channels if c.label == self.b_channel), None)

    def _actor(self) -> Actor | None:
        actor = self.current_actor()
        return actor if actor is not None and actor.can_open("templates") else None

    def _listing(self, ids: set[int] | None = None) -> tuple[tuple[int, int], ...]:
        """How many recipients to list of the broadcasts (of `ids`) shown beyond the first."""
        return tuple(sorted((b, n) for b, n in self._shown.items() if ids is None or b in ids))

    def _merge(self, rows: list[BroadcastRow]) -> None:
        """Show re-read broadcasts in place (a new one on top), the latest ones only."""
        by_id = {b.id: b for b in self.broadcasts}
        by_id.update({r.id: r for r in rows})
        merged = sorted(by_id.values(), key=lambda b: b.id, reverse=True)[:BROADCASTS_SHOWN]
        if merged != self.broadcasts:
            self.broadcasts = merged

    def _ask_preview(self):
        """Count the segment's contacts in the background once typing pauses."""
        self._preview_seq += 1
        return BroadcastsState.refresh_preview(self._preview_seq)

    def _live_request(self, batch: LiveBatch, actor: Actor) -> BroadcastsRead | None:
        if not self.b_loaded or batch.tick or self.router.url.path.rstrip("/") != ROUTE:
            return None
        if batch.resync:
            return BroadcastsRead(None, self._listing())
        ids = _named_broadcasts(batch)
        if len(self.broadcasts) >= BROADCASTS_SHOWN:  # older ones are not on the page
            oldest = min(b.id for b in self.broadcasts)
            ids = {i for i in ids if i >= oldest}
        if not ids:
            return None
        return BroadcastsRead(tuple(sorted(ids)), self._listing(ids))

    def _live_apply(self, request: BroadcastsRead, result: list[BroadcastRow]) -> None:
        if request.broadcast_ids is None:
            if self.broadcasts != result:
                self.broadcasts = result
        else:
            self._merge(result)

    @rx.event
    def load_broadcasts(self):
        """Load the approved templates and the latest broadcasts."""
        actor = self._actor()
        self.b_starting = False  # never left set by a server that stopped mid-way
        if actor is not None:
            return self._reload(actor)
        return None

    @rx.event
    def set_b(self, field: str, value: str):
        """Type into the broadcast form (a segment field asks for a fresh count)."""
        if field in ("b_template", "b_name", "b_label", "b_stage", "b_channel"):
            setattr(self, field, "" if value == "any" else value)
            if field == "b_template":
                self.b_values, self.b_header_values = [], []
            if field in ("b_label", "b_stage", "b_channel"):
                return self._ask_preview()
        return None

    @rx.event(background=True)
    async def refresh_preview(self, seq: int):
        """Count the segment's contacts, off the websocket's loop; a newer keystroke wins."""
        await asyncio.sleep(PREVIEW_PAUSE_SECONDS)
        async with self:
            if seq != self._preview_seq:
                return
            actor = self._actor()
            if actor is None:
                return
            label, stage, channel = self.b_label or None, self.b_stage or None, self._channel_id()
        text = await asyncio.to_thread(_segment_preview, actor, label, stage, channel)
        async with self:
            if seq == self._preview_seq:
                self.b_preview = text

    @rx.event
    def show_more_recipients(self, broadcast_id: int):
        """List more recipients of a broadcast (up to RECIPIENTS_MAX; the counts cover all)."""
        actor = self._actor()
        if actor is None:
            return self._login_redirect()
        shown = self._shown.get(broadcast_id, templates.RECIPIENTS_SHOWN)
        shown = min(shown + templates.RECIPIENTS_SHOWN, templates.RECIPIENTS_MAX)
        self._shown = {**self._shown, broadcast_id: shown}
        request = BroadcastsRead((broadcast_id,), ((broadcast_id, shown),))
        self._merge(_read_broadcasts(actor, request))
        return None

    @rx.event
    def set_b_value(self, index: int, value: str):
        """Type the value of body variable {{index + 1}}."""
        values = list(self.b_values) + [""] * (index + 1 - len(self.b_values))
        values[index] = value
        self.b_values = values

    @rx.event
    def set_b_header_value(self, index: int, value: str):
        """Type the value of the header variable."""
        self.b_header_values = [value]

    @rx.event(background=True)
    async def start_broadcast(self):
        """Send the chosen template to the segment (paced by a background job); the segment's
        recipients are stored off the websocket's loop, however many contacts it has."""
        async with self:
            if self.b_starting:
                return None
            actor = self.current_actor()
            if actor is None:
                return self._login_redirect()
            option = next((c for c in self.choices if c.label == self.b_template), None)
            if option is None:
                self.b_error = "Choose an approved template."
                return None
            self.b_starting = True
            listing = self._listing()
            fields = {
                "template_id": option.id, "name": self.b_name, "variables": list(self.b_values),
                "header_variables": list(self.b_header_values),
                "label": self.b_label or None, "lead_stage": self.b_stage or None,
                "integration_id": self._channel_id(),
            }  # fmt: skip
        try:
            view, page = await asyncio.to_thread(_create_broadcast, actor, listing, fields)
        except (TemplateError, PermissionDenied) as exc:
            async with self:
                self.b_starting, self.b_error = False, _error_text(exc)
            return None
        except Exception:
            async with self:
                self.b_starting = False
            raise
        async with self:
            self.b_starting, self.b_error = False, ""
            skipped = view.counts.get("opted_out", 0)
            self.b_notice = (
                f"Sending {view.name} to {sum(view.counts.values()) - skipped} contact(s)"
                + (f"; {skipped} opted out and skipped." if skipped else ".")
            )
            return self._show_page(page)
