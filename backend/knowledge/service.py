"""The knowledge base: FAQs, texts and files a business teaches the AI, and hybrid search over them.

Sources are stored here and embedded by `tasks.embed_source` on the "knowledge" queue, enqueued
once the caller commits. Search fuses pgvector cosine search with PostgreSQL full-text search.
"""

from __future__ import annotations

import math
import os
import re
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import event as sa_event
from sqlmodel import Session

from backend.auth.permissions import Actor, Permission
from backend.core.config import settings
from backend.core.queue import enqueue_after_commit
from backend.events import publish
from backend.knowledge import parsing, tasks
from backend.knowledge import repository as repo
from backend.knowledge.embeddings import get_embedder
from backend.knowledge.parsing import KnowledgeError, QARow
from backend.knowledge.schemas import ImportSummary, RetrievedChunk, SourceView
from backend.models.base import utcnow
from backend.models.knowledge import KnowledgeSource, KnowledgeSourceKind, KnowledgeSourceStatus

__all__ = [
    "KnowledgeError",
    "add_faq",
    "add_file",
    "add_text",
    "count_sources",
    "delete_source",
    "enqueue_pending",
    "get_source",
    "import_rows",
    "list_sources",
    "search",
    "sources_to_embed",
    "test_retrieval",
    "update_faq",
]

RRF_K = 60
# Below this many chunks a business is searched exactly; above, through the HNSW index.
EXACT_SEARCH_MAX_CHUNKS = 2000
# Searchable chunks counted at most (once per TERM_STATS_TTL per business and process): the
# common-word threshold is a share of this, so the count stays bounded for huge businesses.
STATS_MAX_CHUNKS = 100_000
# One thread per process embeds queries while search's SQL runs (the model releases the GIL).
_QUERY_EMBEDDING = ThreadPoolExecutor(max_workers=1, thread_name_prefix="query-embedding")
MAX_QUERY_CHARS = 2000
MAX_TEXT_CHARS = 2_000_000
LIST_PREVIEW_CHARS = 500
# A full-text hit that matches only some query terms counts this much of a vector hit in the
# fusion: it rescues exact names and codes, without letting shared words outvote meaning.
PARTIAL_TEXT_WEIGHT = 0.5
PARTIAL_MATCH_SHARE = 0.5
PARTIAL_MATCH_MIN_TERMS = 2
# A word in more than this share of a business's chunks (and more than COMMON_TERM_MIN_CHUNKS)
# says little about which chunk answers; partial matching ignores it.
COMMON_TERM_SHARE = 0.1
COMMON_TERM_MIN_CHUNKS = 2
# … and a word in more than this many chunks is common whatever the knowledge base's size: it
# cannot single out an answer, and ranking every chunk that holds it (with 10 % of 100,000
# chunks, ten thousand) would make a partial match's cost grow with the knowledge base.
COMMON_TERM_MAX_CHUNKS = 500
MAX_TERMS = 16
_WORD = re.compile(r"\w+")
# How many chunks a business has and how many hold each word change only when its knowledge
# does; they steer ranking (which words are too common) and exact vs indexed search, so a
# process reuses them for this many seconds and most searches skip the sampling statement.
TERM_STATS_TTL = 30.0

_NOT_FOUND = "This knowledge source no longer exists; reload the page."


@dataclass(frozen=True)
class _Upserted:
    source: KnowledgeSource
    outcome: str  # created, updated, unchanged


class _TermStats:
    """Per-process memory, per business, of how many chunks are searchable and how many hold
    each word searched, for TERM_STATS_TTL."""

    MAX_BUSINESSES = 10_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[int, tuple[float, int, dict[str, int]]] = {}

    def counts(self, session: Session, *, business_id: int, terms: list[str]) -> tuple[int, dict]:
        """(searchable chunks, up to STATS_MAX_CHUNKS; chunks holding each term, each counted
        only up to one more than the common-word threshold: enough to tell rare from common)."""
        now = time.monotonic()
        with self._lock:
            known = self._known.get(business_id)
        if known is not None and known[0] > now:
            expires, total, counts = known
        else:
            total = repo.searchable_chunk_count(
                session, business_id=business_id, cap=STATS_MAX_CHUNKS
            )
            expires, counts = now + TERM_STATS_TTL, {}
        missing = [term for term in terms if term not in counts]
        if missing and total:
            fresh = repo.term_chunk_counts(
                session, business_id=business_id, terms=missing, cap=_common_threshold(total) + 1
            )
            counts = {**counts, **fresh}
        # A business without knowledge yet is asked again: its first entry counts at once.
        if total:
            with self._lock:
                if len(self._known) >= self.MAX_BUSINESSES:
                    self._known.clear()
                self._known[business_id] = (expires, total, counts)
        return total, {term: counts.get(term, 0) for term in terms}

    def forget(self, business_id: int | None = None) -> None:
        """Sample again next time (one business, or all)."""
        with self._lock:
            if business_id is None:
                self._known.clear()
            else:
                self._known.pop(business_id, None)


_TERM_STATS = _TermStats()


def _forget_term_stats(mapper: object, connection: object, source: KnowledgeSource) -> None:
    _TERM_STATS.forget(source.business_id)


# A source written in this process (added, embedded, enabled, deleted) is sampled afresh at
# once; other processes (the knowledge worker embeds) are at most TERM_STATS_TTL behind.
for _change in ("after_insert", "after_update", "after_delete"):
    sa_event.listen(KnowledgeSource, _change, _forget_term_stats)


# --- views and helpers -----------------------------------------------------------------------


def _view(source: KnowledgeSource, *, preview: bool = False) -> SourceView:
    content = source.content
    if preview and len(content) > LIST_PREVIEW_CHARS:
        content = content[:LIST_PREVIEW_CHARS].rstrip() + "…"
    return SourceView(
        id=source.id,
        kind=source.kind,
        title=source.title,
        question=source.question,
        content=content,
        status=source.status,
        error=source.error,
        progress_done=source.progress_done,
        progress_total=source.progress_total,
        chunk_count=source.chunk_count,
        external_id=source.external_id,
        category=source.category,
        language=source.language,
        filename=source.filename,
        updated_at=source.updated_at,
    )


def _title(text: str) -> str:
    return text if len(text) <= 200 else text[:199].rstrip() + "…"


def _queue_embedding(session: Session, source: KnowledgeSource, *, enqueue: bool = True) -> None:
    """Mark the source as waiting for the embedder and queue its job for after the commit."""
    source.status = KnowledgeSourceStatus.PENDING
    source.error = None
    source.progress_done = source.progress_total = 0
    repo.save_source(session, source)
    if enqueue:
        enqueue_after_commit(session, tasks.embed_source, source.id, queue="knowledge")
    _announce(session, source)


def _announce(session: Session, source: KnowledgeSource) -> None:
    publish(
        session,
        "knowledge_source.updated",
        business_id=source.business_id,
        source_id=source.id,
        status=source.status,
        progress_done=source.progress_done,
        progress_total=source.progress_total,
        chunk_count=source.chunk_count,
        error=source.error,
    )


def _get(session: Session, *, actor: Actor, source_id: int) -> KnowledgeSource:
    actor.require(Permission.KNOWLEDGE_MANAGE)
    source = repo.get_source(session, business_id=actor.business_id, source_id=source_id)
    if source is None:
        raise KnowledgeError(_NOT_FOUND)
    return source


def _optional(value: str | None, *, field: str, limit: int, label: str) -> str | None:
    value = parsing.normalise_line(value or "")
    if len(value) > limit:
        raise KnowledgeError(f"Keep the {label} under {limit} characters.", field=field)
    return value or None


def _faq_input(
    question: str,
    answer: str,
    category: str | None = None,
    language: str | None = None,
    group_key: str | None = None,
) -> QARow:
    """Validate an FAQ typed into the Knowledge page; errors name the form field."""
    question = parsing.normalise_line(question or "")
    answer = parsing.normalise_text(answer or "")
    if not question:
        raise KnowledgeError("Enter the question customers ask.", field="question")
    if len(question) > parsing.MAX_QUESTION_CHARS:
        raise KnowledgeError(
            f"Keep the question under {parsing.MAX_QUESTION_CHARS} characters.", field="question"
        )
    if not answer:
        raise KnowledgeError("Enter the answer BizBot should give.", field="answer")
    if len(answer) > parsing.MAX_ANSWER_CHARS:
        raise KnowledgeError(
            f"Keep the answer under {parsing.MAX_ANSWER_CHARS} characters; put longer material "
            "in a text or a file.",
            field="answer",
        )
    language = _optional(language, field="language", limit=16, label="language code")
    return QARow(
        question=question,
        answer=answer,
        category=_optional(category, field="category", limit=120, label="category"),
        language=language.lower() if language else None,
        group_key=_optional(group_key, field="group_key", limit=255, label="group key"),
    )


def _upsert_faq(
    session: Session, *, business_id: int, row: QARow, enqueue: bool = True
) -> _Upserted:
    """Create the FAQ, or update the one with the same id (else the same question)."""
    if row.external_id:
        existing = repo.find_by_external_id(
            session, business_id=business_id, external_id=row.external_id
        )
        if existing is not None and existing.kind != KnowledgeSourceKind.FAQ:
            raise KnowledgeError(
                f"id {row.external_id!r} already belongs to a {existing.kind} source, not an FAQ",
                field="id",
            )
    else:
        existing = repo.find_faq_by_question(
            session, business_id=business_id, question=row.question
        )
    digest = parsing.content_hash(row.question, row.answer)
    if existing is None:
        source = KnowledgeSource(
            business_id=business_id,
            kind=KnowledgeSourceKind.FAQ,
            title=_title(row.question),
            question=row.question,
            content=row.answer,
            content_hash=digest,
            external_id=row.external_id,
            category=row.category,
            language=row.language,
            group_key=row.group_key,
        )
        _queue_embedding(session, repo.save_source(session, source), enqueue=enqueue)
        return _Upserted(source, "created")

    language_changed = existing.language != row.language
    details_changed = language_changed or (existing.category, existing.group_key) != (
        row.category,
        row.group_key,
    )
    content_changed = (
        existing.content_hash != digest or existing.status == KnowledgeSourceStatus.FAILED
    )
    if not (content_changed or details_changed):
        return _Upserted(existing, "unchanged")
    existing.title, existing.question, existing.content = (
        _title(row.question),
        row.question,
        row.answer,
    )
    existing.category, existing.language, existing.group_key = (
        row.category,
        row.language,
        row.group_key,
    )
    if content_changed:
        existing.content_hash = digest
        _queue_embedding(session, existing, enqueue=enqueue)
    else:
        repo.save_source(session, existing)
        if language_changed:
            repo.set_chunk_language(
                session, business_id=business_id, source_id=existing.id, language=row.language
            )
    return _Upserted(existing, "updated")


# --- the Knowledge page --------------------------------------------------------------------


def add_faq(
    session: Session,
    *,
    actor: Actor,
    question: str,
    answer: str,
    category: str | None = None,
    language: str | None = None,
    group_key: str | None = None,
) -> SourceView:
    """Add an FAQ (or update the one asking the same question) and queue its embedding."""
    actor.require(Permission.KNOWLEDGE_MANAGE)
    row = _faq_input(question, answer, category, language, group_key)
    return _view(_upsert_faq(session, business_id=actor.business_id, row=row).source)


def update_faq(
    session: Session,
    *,
    actor: Actor,
    source_id: int,
    question: str,
    answer: str,
    category: str | None = None,
) -> SourceView:
    """Edit an FAQ; it is embedded again only when its question or answer changed."""
    source = _get(session, actor=actor, source_id=source_id)
    if source.kind != KnowledgeSourceKind.FAQ:
        raise KnowledgeError("Only FAQ entries can be edited here; upload the file again.")
    row = _faq_input(question, answer, category)
    other = repo.find_faq_by_question(session, business_id=actor.business_id, question=row.question)
    if other is not None and other.id != source.id:
        raise KnowledgeError(
            "Another FAQ already asks this question; edit that one instead.", field="question"
        )
    digest = parsing.content_hash(row.question, row.answer)
    source.title, source.question, source.content = _title(row.question), row.question, row.answer
    source.category = row.category
    if digest != source.content_hash or source.status == KnowledgeSourceStatus.FAILED:
        source.content_hash = digest
        _queue_embedding(session, source)
    else:
        repo.save_source(session, source)
    return _view(source)


def add_text(session: Session, *, actor: Actor, title: str, text: str) -> SourceView:
    """Add pasted text (a text with the same title is replaced) and queue its embedding."""
    actor.require(Permission.KNOWLEDGE_MANAGE)
    title = parsing.normalise_line(title or "")
    text = parsing.normalise_text(text or "")
    if not title:
        raise KnowledgeError("Give the text a title, e.g. 'Returns policy'.", field="title")
    if len(title) > 200:
        raise KnowledgeError("Keep the title under 200 characters.", field="title")
    if not text:
        raise KnowledgeError("Paste the text BizBot should learn.", field="text")
    if len(text) > MAX_TEXT_CHARS:
        raise KnowledgeError(
            f"This text is {len(text):,} characters; the limit is {MAX_TEXT_CHARS:,}. Split it "
            "into several texts.",
            field="text",
        )
    digest = parsing.content_hash(text)
    source = repo.find_text_by_title(session, business_id=actor.business_id, title=title)
    if source is None:
        source = KnowledgeSource(
            business_id=actor.business_id, kind=KnowledgeSourceKind.TEXT, title=title
        )
    elif source.content_hash == digest and source.status != KnowledgeSourceStatus.FAILED:
        return _view(source)
    source.title, source.content, source.content_hash = title, text, digest
    _queue_embedding(session, repo.save_source(session, source))
    return _view(source)


def _add_document(session: Session, *, actor: Actor, filename: str, data: bytes, ext: str):
    business_id = actor.business_id
    digest = parsing.bytes_hash(data)
    source = repo.find_file(
        session, business_id=business_id, content_hash=digest, filename=filename
    )
    if source is not None and source.content_hash == digest:
        if source.status == KnowledgeSourceStatus.FAILED:
            _queue_embedding(session, source)
        return _view(source)
    path = parsing.upload_path(settings.data_dir, business_id=business_id, digest=digest, ext=ext)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        partial = path.with_name(f".{path.name}.{os.getpid()}.part")
        partial.write_bytes(data)
        partial.replace(path)
    if source is None:
        source = KnowledgeSource(business_id=business_id, kind=KnowledgeSourceKind.FILE, title="")
    elif source.content_hash:
        old_ext = parsing.file_extension(source.filename or "")
        enqueue_after_commit(
            session,
            tasks.remove_upload,
            business_id,
            source.content_hash,
            old_ext,
            queue="knowledge",
        )
    source.title, source.filename = _title(filename), filename
    source.mime_type = parsing.DOCUMENT_TYPES[ext]
    source.content_hash = digest
    source.content = ""  # the job fills in the extracted text
    source.chunk_count = 0
    _queue_embedding(session, repo.save_source(session, source))
    return _view(source)


def add_file(session: Session, *, actor: Actor, filename: str, data: bytes) -> list[SourceView]:
    """Add an uploaded file: a document becomes one source, a Q&A file one FAQ per row."""
    actor.require(Permission.KNOWLEDGE_MANAGE)
    filename = parsing.normalise_line(os.path.basename((filename or "").replace("\\", "/")))
    ext = parsing.check_upload(filename, data)
    if len(filename) > 255:
        raise KnowledgeError("Shorten the file name to 255 characters or fewer.", field="file")
    if ext in parsing.DOCUMENT_TYPES:
        return [_add_document(session, actor=actor, filename=filename, data=data, ext=ext)]
    raw_rows = parsing.read_qa_file(data, ext)
    rows, errors = [], []
    for number, raw in enumerate(raw_rows, start=1):
        try:
            rows.append(parsing.qa_row(raw, number))
        except KnowledgeError as exc:
            errors.append(exc.message)
    if errors:
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        raise KnowledgeError(
            f"Fix these rows of {filename} and upload it again: {'; '.join(errors[:5])}{more}.",
            field="file",
        )
    views = []
    for number, row in enumerate(rows, start=1):
        try:
            upserted = _upsert_faq(session, business_id=actor.business_id, row=row)
        except KnowledgeError as exc:
            raise KnowledgeError(
                f"row {number} of {filename}: {exc.message}", field="file"
            ) from exc
        views.append(_view(upserted.source))
    return views


def delete_source(session: Session, *, actor: Actor, source_id: int) -> None:
    """Delete a source and its chunks (an uploaded file's bytes go once no source uses them)."""
    _delete(session, _get(session, actor=actor, source_id=source_id))


def remove_by_external_id(session: Session, *, business_id: int, external_id: str) -> bool:
    """Delete the source another part of BizBot keeps in step by its id (e.g. a product's
    FAQ, `product-7`), when that thing goes; False when there was none."""
    source = repo.find_by_external_id(session, business_id=business_id, external_id=external_id)
    if source is None:
        return False
    _delete(session, source)
    return True


def _delete(session: Session, source: KnowledgeSource) -> None:
    if source.kind == KnowledgeSourceKind.FILE and source.content_hash:
        enqueue_after_commit(
            session,
            tasks.remove_upload,
            source.business_id,
            source.content_hash,
            parsing.file_extension(source.filename or ""),
            queue="knowledge",
        )
    publish(
        session, "knowledge_source.deleted", business_id=source.business_id, source_id=source.id
    )
    repo.delete_source(session, source)


def list_sources(
    session: Session, *, actor: Actor, search: str = "", limit: int = 50, offset: int = 0
) -> list[SourceView]:
    """The business's sources, newest first; `content` is cut to a preview of 500 characters."""
    actor.require(Permission.KNOWLEDGE_MANAGE)
    sources = repo.list_sources(
        session,
        business_id=actor.business_id,
        search=search,
        limit=max(0, min(limit, 500)),
        offset=max(0, offset),
    )
    return [_view(source, preview=True) for source in sources]


def count_sources(session: Session, *, actor: Actor, search: str = "") -> int:
    """How many sources `list_sources` can page through."""
    actor.require(Permission.KNOWLEDGE_MANAGE)
    return repo.count_sources(session, business_id=actor.business_id, search=search)


def get_source(session: Session, *, actor: Actor, source_id: int) -> SourceView:
    """One source with its full content."""
    return _view(_get(session, actor=actor, source_id=source_id))


# --- imports and the embedding sweep -------------------------------------------------------


def import_rows(
    session: Session, *, business_id: int, rows: list[dict], enqueue: bool = True
) -> ImportSummary:
    """Upsert Q&A rows as FAQs (by `id` when given, else by question); bad rows are counted.

    With `enqueue=False` the caller embeds the pending sources itself (the CLI does).
    """
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    errors: list[str] = []
    for number, raw in enumerate(rows, start=1):
        try:
            row = parsing.qa_row(raw, number)
            upserted = _upsert_faq(session, business_id=business_id, row=row, enqueue=enqueue)
        except KnowledgeError as exc:
            message = exc.message
            errors.append(message if message.startswith("row ") else f"row {number}: {message}")
            continue
        counts[upserted.outcome] += 1
    return ImportSummary(**counts, failed=len(errors), errors=errors)


def sources_to_embed(session: Session, *, business_id: int) -> list[int]:
    """Ids of the business's sources waiting for (or in the middle of) embedding."""
    return repo.list_sources_to_embed(session, business_id=business_id, updated_before=utcnow())


def enqueue_pending(
    session: Session, *, business_id: int | None = None, older_than: timedelta | None = None
) -> int:
    """Queue again the sources stuck pending or embedding (all businesses when None)."""
    cutoff = utcnow() - (tasks.STALE_AFTER if older_than is None else older_than)
    ids = repo.list_sources_to_embed(session, business_id=business_id, updated_before=cutoff)
    for source_id in ids:
        enqueue_after_commit(session, tasks.embed_source, source_id, queue="knowledge")
    return len(ids)


# --- search --------------------------------------------------------------------------------


def _terms(query: str) -> list[str]:
    """The query's distinct words (at most MAX_TERMS), for partial full-text matching."""
    words = dict.fromkeys(w for w in _WORD.findall(query.lower()) if w != "or")
    return list(words)[:MAX_TERMS]


def _common_threshold(chunks: int) -> int:
    """A word in more than this many of a business's `chunks` is too common to match on."""
    share = max(COMMON_TERM_MIN_CHUNKS, math.ceil(chunks * COMMON_TERM_SHARE))
    return min(share, COMMON_TERM_MAX_CHUNKS)


def _partial_match_terms(
    query: str, *, sampled: int, counts: dict[str, int]
) -> tuple[list[str], int]:
    """The query words a partial full-text match may use, and how many of them it needs.

    Words in many chunks ("the", "you", "de") are left out: they would make every chunk a
    partial match, and in rank fusion any text hit outvotes the next vector hit. A chunk then
    needs at least half of the remaining words (words it cannot contain included), so
    a question in another language does not match on a shared word or two. Word frequencies
    come from the GIN index, each counted only as far as the threshold (`_TermStats`).
    """
    terms = _terms(query)
    if len(terms) < 2:
        return [], 0
    common = _common_threshold(sampled)
    rare = [term for term in terms if counts.get(term, 0) <= common]
    # Two words at least: one shared word is weak evidence (the vector search covers it), and
    # "any chunk with this word" can be thousands of chunks to rank in a large knowledge base.
    needed = max(PARTIAL_MATCH_MIN_TERMS, math.ceil(len(rare) * PARTIAL_MATCH_SHARE))
    # Words no chunk holds stay in `rare` (they count against a partial match) but cannot match.
    return (rare, needed) if len(rare) >= needed else ([], 0)


def search(session: Session, *, business_id: int, query: str, k: int = 5) -> list[RetrievedChunk]:
    """The `k` chunks that best answer `query`: vector and full-text search, rank-fused."""
    query = parsing.normalise_line(query or "")[:MAX_QUERY_CHARS]
    if not query or k <= 0:
        return []
    # The query's embedding is computed in another thread while the database does the rest.
    pending_vector = _QUERY_EMBEDDING.submit(get_embedder().embed_queries, [query])
    total, counts = _TERM_STATS.counts(session, business_id=business_id, terms=_terms(query))
    if total == 0:
        return []
    pool = max(40, 4 * k)
    known, min_terms = _partial_match_terms(query, sampled=total, counts=counts)
    text_hits = repo.text_matches(
        session, business_id=business_id, query=query, terms=known, min_terms=min_terms,
        limit=pool,
    )  # fmt: skip
    vector = pending_vector.result()[0]
    exact = total < EXACT_SEARCH_MAX_CHUNKS
    text_ids = [hit.chunk_id for hit in text_hits]
    nearest, text_distances = repo.nearest_chunks_with(
        session, business_id=business_id, vector=vector, limit=pool, exact=exact,
        also=text_ids,
    )  # fmt: skip
    # pgvector 0.6 filters HNSW results after the scan: a business's share can come up short.
    if not exact and len(nearest) < min(k, total):
        nearest, text_distances = repo.nearest_chunks_with(
            session, business_id=business_id, vector=vector, limit=pool, exact=True,
            also=text_ids,
        )  # fmt: skip

    scores: dict[int, float] = defaultdict(float)
    distances: dict[int, float] = {}
    for rank, hit in enumerate(nearest, start=1):
        scores[hit.chunk_id] += 1.0 / (RRF_K + rank)
        distances[hit.chunk_id] = hit.distance
    for rank, hit in enumerate(text_hits, start=1):
        weight = 1.0 if hit.all_terms else PARTIAL_TEXT_WEIGHT
        scores[hit.chunk_id] += weight / (RRF_K + rank)
        distances.setdefault(hit.chunk_id, text_distances.get(hit.chunk_id, 2.0))
    text_found = set(text_ids)

    best = sorted(scores, key=lambda cid: (-scores[cid], distances[cid], cid))[:k]
    rows = {
        row.chunk_id: row
        for row in repo.get_chunk_rows(session, business_id=business_id, chunk_ids=best)
    }
    return [
        RetrievedChunk(
            chunk_id=cid,
            source_id=row.source_id,
            source_title=row.source_title,
            source_kind=row.source_kind,
            external_id=row.external_id,
            question=row.question,
            text=row.content,
            language=row.language,
            group_key=row.group_key,
            score=scores[cid],
            similarity=1.0 - distances[cid],
            text_match=cid in text_found,
        )
        for cid in best
        if (row := rows.get(cid)) is not None
    ]


# Named for the page's "test retrieval" box, which pytest-minded linters mistake for a test.
def test_retrieval(
    session: Session,
    *,
    actor: Actor,
    query: str,
    k: int = 5,  # noqa: PT028
) -> list[RetrievedChunk]:
    """The Knowledge page's retrieval tester: what search returns for `query`."""
    actor.require(Permission.KNOWLEDGE_MANAGE)
    return search(session, business_id=actor.business_id, query=query, k=k)


test_retrieval.__test__ = False  # not a pytest test, though its name starts with "test_"
