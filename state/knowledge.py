"""The Knowledge page: sources, adding and editing them, live embedding progress, a tester."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

import reflex as rx

from backend.auth import service as auth
from backend.auth.permissions import Actor, PermissionDenied
from backend.core.db import session_scope
from backend.knowledge import service as knowledge
from backend.knowledge.schemas import RetrievedChunk, SourceView
from state.base import BaseState

PAGE_SIZE = 50
UPLOAD_ID = "knowledge-upload"
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
# What the browser's file picker offers; the service has the last word on every file.
ACCEPTED_FILES: dict[str, list[str]] = {
    "text/plain": [".txt"],
    "text/markdown": [".md"],
    "application/pdf": [".pdf"],
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": [".docx"],
    "text/csv": [".csv"],
    "application/json": [".json"],
    "application/x-ndjson": [".jsonl"],
}
ACCEPTED_TEXT = ".txt, .md, .pdf, .docx, .csv, .json and .jsonl"
POLL_SECONDS = 1.0
# A poller whose heartbeat is older than this is gone (crashed, or its server restarted).
POLL_STALE_SECONDS = 5.0
# Stop watching after this long even if a job never finishes (no worker running, say).
POLL_MAX_SECONDS = 15 * 60
IN_FLIGHT = ("pending", "embedding")
KIND_LABELS = {
    "faq": "FAQ",
    "text": "Text",
    "file": "File",
    "url": "Web page",
    "product": "Product",
}
REFUSAL_REASONS = {
    "file-invalid-type": f"BizBot reads {ACCEPTED_TEXT} files.",
    "file-too-large": "This file is larger than 20 MB; split it or remove images and retry.",
    "too-many-files": "Too many files at once; upload fewer at a time.",
}

T = TypeVar("T")


@dataclass(frozen=True)
class SourceRow:
    """One row of the sources table, formatted for display."""

    id: int
    kind: str
    kind_label: str
    title: str
    detail: str  # the FAQ's answer, the text's opening, or the file's name
    category: str
    language: str
    status: str
    status_label: str
    error: str
    updated: str  # "5 min ago"
    updated_at: str  # ISO 8601, UTC, for the tooltip
    is_faq: bool


@dataclass(frozen=True)
class UploadResult:
    """What became of one file the owner uploaded."""

    filename: str
    accepted: bool
    message: str


@dataclass(frozen=True)
class RetrievalHit:
    """One passage the retrieval tester found, formatted for display."""

    rank: int
    source_title: str
    kind_label: str
    question: str
    text: str
    language: str
    similarity_pct: int
    score: str
    text_match: bool


@dataclass(frozen=True)
class _Listing:
    rows: list[SourceRow]
    total: int


def _snippet(text: str | None, limit: int = 140) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def status_label(view: SourceView) -> str:
    """What the status badge says: Queued, Embedding 3/10, Ready · 4 chunks, Failed."""
    if view.status == "pending":
        return "Queued"
    if view.status == "embedding":
        if view.progress_total:
            return f"Embedding {view.progress_done}/{view.progress_total}"
        return "Embedding…"
    if view.status == "ready":
        return f"Ready · {_plural(view.chunk_count, 'chunk')}"
    if view.status == "failed":
        return "Failed"
    return view.status.capitalize()


def relative_time(when: datetime, now: datetime | None = None) -> str:
    """`when` as people say it: just now, 5 min ago, 3 h ago, yesterday, 12 Mar."""
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    seconds = (now - when).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    if seconds < 2 * 86400:
        return "yesterday"
    day = f"{when.day} {when:%b}"
    return day if when.year == now.year else f"{day} {when.year}"


def _kind_label(view: SourceView) -> str:
    label = KIND_LABELS.get(view.kind, view.kind.capitalize())
    if view.kind == "file" and view.filename and "." in view.filename:
        return f"{label} · {view.filename.rsplit('.', 1)[1].upper()}"
    return label


def source_row(view: SourceView) -> SourceRow:
    """A source as the table shows it."""
    is_faq = view.kind == "faq"
    # The title already names a file; its extracted text (once read) says what is in it.
    detail = _snippet(view.content)
    when = view.updated_at if view.updated_at.tzinfo else view.updated_at.replace(tzinfo=UTC)
    return SourceRow(
        id=view.id,
        kind=view.kind,
        kind_label=_kind_label(view),
        title=(view.question if is_faq and view.question else view.title) or "Untitled",
        detail=detail,
        category=view.category or "",
        language=(view.language or "").upper(),
        status=view.status,
        status_label=status_label(view),
        error=view.error or "",
        updated=relative_time(when),
        updated_at=when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        is_faq=is_faq,
    )


def retrieval_hit(rank: int, chunk: RetrievedChunk) -> RetrievalHit:
    """A retrieved chunk as the tester shows it."""
    return RetrievalHit(
        rank=rank,
        source_title=chunk.source_title,
        kind_label=KIND_LABELS.get(chunk.source_kind, chunk.source_kind.capitalize()),
        # An FAQ's title is its question: repeat it only when the title had to be cut.
        question="" if chunk.question == chunk.source_title else chunk.question or "",
        text=chunk.text,
        language=(chunk.language or "").upper(),
        similarity_pct=round(max(0.0, min(1.0, chunk.similarity)) * 100),
        score=f"{chunk.score:.4f}",
        text_match=chunk.text_match,
    )


def _actor_for(token: str | None) -> Actor | None:
    with session_scope() as session:
        info = auth.resolve_session(session, token=token)
    return info.actor if info else None


def _as_actor(token: str | None, work: Callable[[Actor], T]) -> T | None:
    """Run `work` for the member signed in with `token`; None when signed out."""
    actor = _actor_for(token)
    return None if actor is None else work(actor)


def _read_listing(actor: Actor, search: str, offset: int) -> _Listing:
    with session_scope() as session:
        views = knowledge.list_sources(
            session, actor=actor, search=search, limit=PAGE_SIZE, offset=offset
        )
        total = knowledge.count_sources(session, actor=actor, search=search)
    return _Listing([source_row(v) for v in views], total)


def _retrieve(actor: Actor, query: str) -> list[RetrievalHit]:
    with session_scope() as session:
        chunks = knowledge.test_retrieval(session, actor=actor, query=query, k=5)
    return [retrieval_hit(i, c) for i, c in enumerate(chunks, start=1)]


def _added_message(views: list[SourceView]) -> str:
    if len(views) == 1 and views[0].kind != "faq":
        return "Added; reading and embedding it now."
    faqs = sum(1 for v in views if v.kind == "faq")
    if faqs == len(views):
        return f"{_plural(faqs, 'FAQ')} added."
    return f"{_plural(len(views), 'source')} added."


class KnowledgeState(BaseState):
    """Sources of the business's knowledge, their forms, and the retrieval tester."""

    sources: list[SourceRow] = []
    total: int = 0
    search: str = ""
    offset: int = 0
    loaded: bool = False

    # The FAQ dialog, for adding (faq_id 0) and editing.
    faq_open: bool = False
    faq_id: int = 0
    faq_form: dict[str, str] = {}
    faq_errors: dict[str, str] = {}

    text_open: bool = False
    text_errors: dict[str, str] = {}

    upload_open: bool = False
    upload_results: list[UploadResult] = []
    upload_percent: int = 0

    delete_open: bool = False
    delete_id: int = 0
    delete_title: str = ""

    query: str = ""
    hits: list[RetrievalHit] = []
    searching: bool = False
    searched: bool = False
    tester_error: str = ""

    # Heartbeat of the progress poller (0 when none runs) and a counter of list reloads, so a
    # poller never overwrites a fresher listing with the one it read before a change.
    _poll_beat: float = 0.0
    _listing_version: int = 0

    @rx.var
    def has_prev(self) -> bool:
        """Whether there is a page before this one."""
        return self.offset > 0

    @rx.var
    def has_next(self) -> bool:
        """Whether there is a page after this one."""
        return self.offset + PAGE_SIZE < self.total

    @rx.var
    def range_label(self) -> str:
        """`1-50 of 120` (with an en dash), or `No sources`."""
        if self.total == 0:
            return "No sources"
        last = min(self.offset + PAGE_SIZE, self.total)
        return f"{self.offset + 1}\N{EN DASH}{last} of {self.total}"

    @rx.var
    def in_flight_count(self) -> int:
        """How many listed sources are queued or embedding."""
        return sum(1 for row in self.sources if row.status in IN_FLIGHT)

    @rx.var
    def is_empty(self) -> bool:
        """No knowledge at all (not merely no search match)."""
        return self.loaded and self.total == 0 and not self.search.strip()

    # --- reading ---------------------------------------------------------------------------

    def _show(self, listing: _Listing) -> None:
        self.sources, self.total = listing.rows, listing.total
        self.loaded = True

    def _reload(self, actor: Actor) -> None:
        listing = _read_listing(actor, self.search.strip(), self.offset)
        if not listing.rows and self.offset > 0 and listing.total > 0:
            # The last page emptied (a delete or a narrower search): show the one before.
            self.offset = max(0, (listing.total - 1) // PAGE_SIZE * PAGE_SIZE)
            listing = _read_listing(actor, self.search.strip(), self.offset)
        self._listing_version += 1
        self._show(listing)

    def _work_in_flight(self) -> bool:
        return any(row.status in IN_FLIGHT for row in self.sources)

    def _after_change(self, actor: Actor, toast: rx.event.EventSpec) -> list:
        self._reload(actor)
        return [toast, KnowledgeState.watch_progress]

    def _on_page(self) -> bool:
        return self.router.url.path.rstrip("/") == "/knowledge" and self.section == "knowledge"

    @rx.event
    def load(self):
        """Guard the page, list the first page of sources and watch any work in flight."""
        actor = self._enter("knowledge")
        if actor is None:
            return None if self.signed_in else self._login_redirect()
        self.faq_open = self.text_open = self.upload_open = self.delete_open = False
        self.searching = False
        self._reload(actor)
        return KnowledgeState.watch_progress if self._work_in_flight() else None

    @rx.event
    def set_search(self, value: str):
        """Filter the sources by text, from the first page."""
        self.search, self.offset = value, 0
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        self._reload(actor)
        return KnowledgeState.watch_progress if self._work_in_flight() else None

    @rx.event
    def turn_page(self, step: int):
        """Show the next (1) or previous (-1) page."""
        self.offset = max(0, self.offset + step * PAGE_SIZE)
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        self._reload(actor)
        return KnowledgeState.watch_progress if self._work_in_flight() else None

    @rx.event(background=True)
    async def watch_progress(self):
        """Refresh the listing about once a second while any listed source is being embedded."""
        async with self:
            now = time.time()
            if now - self._poll_beat < POLL_STALE_SECONDS:
                return  # another poller is running for this tab
            self._poll_beat = now
        started = time.monotonic()
        try:
            while True:
                await asyncio.sleep(POLL_SECONDS)
                async with self:
                    done = not (self._on_page() and self._work_in_flight())
                    if done or time.monotonic() - started > POLL_MAX_SECONDS:
                        self._poll_beat = 0.0
                        return
                    self._poll_beat = time.time()
                    token, search, offset = self._session_token(), self.search.strip(), self.offset
                    version = self._listing_version
                listing = await asyncio.to_thread(
                    _as_actor, token, partial(_read_listing, search=search, offset=offset)
                )
                async with self:
                    if listing is None:
                        self._poll_beat = 0.0
                        return
                    if version == self._listing_version:
                        self._show(listing)
        except Exception:
            async with self:
                self._poll_beat = 0.0
            raise

    # --- FAQs ------------------------------------------------------------------------------

    @rx.event
    def new_faq(self):
        """Open the empty FAQ form."""
        self.faq_id, self.faq_form, self.faq_errors = 0, {}, {}
        self.faq_open = True

    @rx.event
    def edit_faq(self, source_id: int):
        """Open the FAQ form filled with the FAQ's question, answer and category."""
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        try:
            with session_scope() as session:
                view = knowledge.get_source(session, actor=actor, source_id=source_id)
        except (knowledge.KnowledgeError, PermissionDenied) as exc:
            return rx.toast.error(getattr(exc, "message", str(exc)))
        self.faq_id = view.id
        self.faq_form = {
            "question": view.question or view.title,
            "answer": view.content,
            "category": view.category or "",
        }
        self.faq_errors = {}
        self.faq_open = True
        return None

    @rx.event
    def set_faq_open(self, is_open: bool):
        """Open or close the FAQ dialog (Escape, the overlay, Cancel)."""
        self.faq_open = is_open

    @rx.event
    def save_faq(self, form: dict[str, Any]):
        """Add the FAQ, or save the one being edited; errors name the field."""
        self.faq_errors = {}
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        question = str(form.get("question", "")).strip()
        answer = str(form.get("answer", "")).strip()
        category = str(form.get("category", "")).strip() or None
        self.faq_form = {"question": question, "answer": answer, "category": category or ""}
        try:
            with session_scope() as session:
                if self.faq_id:
                    knowledge.update_faq(
                        session, actor=actor, source_id=self.faq_id, question=question,
                        answer=answer, category=category,
                    )  # fmt: skip
                else:
                    knowledge.add_faq(
                        session, actor=actor, question=question, answer=answer, category=category
                    )
        except knowledge.KnowledgeError as exc:
            field = exc.field if exc.field in ("question", "answer", "category") else "form"
            self.faq_errors = {field: exc.message}
            return None
        except PermissionDenied as exc:
            self.faq_errors = {"form": str(exc)}
            return None
        message = "FAQ saved." if self.faq_id else "FAQ added."
        self.faq_open = False
        return self._after_change(actor, rx.toast.success(message))

    # --- pasted text -------------------------------------------------------------------------

    @rx.event
    def new_text(self):
        """Open the paste-text form."""
        self.text_errors = {}
        self.text_open = True

    @rx.event
    def set_text_open(self, is_open: bool):
        """Open or close the paste-text dialog."""
        self.text_open = is_open

    @rx.event
    def save_text(self, form: dict[str, Any]):
        """Add the pasted text as a source; errors name the field."""
        self.text_errors = {}
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        try:
            with session_scope() as session:
                knowledge.add_text(
                    session,
                    actor=actor,
                    title=str(form.get("title", "")).strip(),
                    text=str(form.get("text", "")).strip(),
                )
        except knowledge.KnowledgeError as exc:
            field = exc.field if exc.field in ("title", "text") else "form"
            self.text_errors = {field: exc.message}
            return None
        except PermissionDenied as exc:
            self.text_errors = {"form": str(exc)}
            return None
        self.text_open = False
        return self._after_change(actor, rx.toast.success("Text added."))

    # --- files -------------------------------------------------------------------------------

    @rx.event
    def open_upload(self):
        """Open the upload dialog with no results yet."""
        self.upload_results, self.upload_percent = [], 0
        self.upload_open = True

    @rx.event
    def set_upload_open(self, is_open: bool):
        """Open or close the upload dialog."""
        self.upload_open = is_open

    @rx.event
    def upload_progress(self, progress: dict[str, Any]):
        """Follow the bytes on their way up."""
        self.upload_percent = int(float(progress.get("progress") or 0) * 100)

    @rx.event
    async def receive_files(self, files: list[rx.UploadFile]):
        """Hand each uploaded file to the knowledge service; report each file's fate."""
        self.upload_percent = 0
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        results: list[UploadResult] = []
        for upload in files:
            name = upload.name or "file"
            if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
                results.append(UploadResult(name, False, REFUSAL_REASONS["file-too-large"]))
                continue
            data = await upload.read()
            try:
                # One transaction per file: a bad file never undoes the good ones.
                with session_scope() as session:
                    views = knowledge.add_file(session, actor=actor, filename=name, data=data)
            except knowledge.KnowledgeError as exc:
                results.append(UploadResult(name, False, exc.message))
            except PermissionDenied as exc:
                results.append(UploadResult(name, False, str(exc)))
            else:
                results.append(UploadResult(name, True, _added_message(views)))
        self.upload_results = results + self.upload_results
        accepted = sum(1 for r in results if r.accepted)
        if not accepted:
            return None
        return self._after_change(
            actor, rx.toast.success(f"{_plural(accepted, 'file')} added to your knowledge.")
        )

    @rx.event
    def files_refused(self, refused: list[dict[str, Any]]):
        """Report the files the browser refused before upload (type or size)."""
        results = []
        for item in refused:
            codes = [str(c) for c in item.get("codes") or []]
            reason = next((REFUSAL_REASONS[c] for c in codes if c in REFUSAL_REASONS), None)
            results.append(
                UploadResult(str(item.get("name") or "file"), False, reason or "Not accepted.")
            )
        self.upload_results = results + self.upload_results

    # --- deleting ----------------------------------------------------------------------------

    @rx.event
    def ask_delete(self, source_id: int, title: str):
        """Ask the owner to confirm deleting a source."""
        self.delete_id, self.delete_title = source_id, title
        self.delete_open = True

    @rx.event
    def set_delete_open(self, is_open: bool):
        """Open or close the delete confirmation."""
        self.delete_open = is_open

    @rx.event
    def confirm_delete(self):
        """Delete the source the owner confirmed."""
        self.delete_open = False
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        try:
            with session_scope() as session:
                knowledge.delete_source(session, actor=actor, source_id=self.delete_id)
        except (knowledge.KnowledgeError, PermissionDenied) as exc:
            return rx.toast.error(getattr(exc, "message", str(exc)))
        return self._after_change(actor, rx.toast.success(f"Deleted “{self.delete_title}”."))

    # --- retrieval tester --------------------------------------------------------------------

    @rx.event(background=True)
    async def ask(self, form: dict[str, Any]):
        """Find the passages the assistant would answer `query` from, ranked."""
        query = str(form.get("query", "")).strip()
        async with self:
            if self.searching:
                return
            self.query, self.tester_error = query, ""
            if not query:
                self.tester_error = "Type a question, as a customer would ask it."
                return
            self.searching = True
            token = self._session_token()
        hits: list[RetrievalHit] = []
        error, searched = "", False
        try:
            found = await asyncio.to_thread(_as_actor, token, partial(_retrieve, query=query))
            if found is None:
                error = "Your session has ended; log in again."
            else:
                hits, searched = found, True
        except knowledge.KnowledgeError as exc:
            error = exc.message
        except PermissionDenied as exc:
            error = str(exc)
        finally:
            # Also after an unexpected error (Reflex reports it), so the button works again.
            async with self:
                self.searching = False
                self.hits, self.tester_error, self.searched = hits, error, searched
