"""Jobs of the knowledge queue: parse, chunk and embed sources; remove unused uploads.

A source's chunks are written in batches, one transaction per batch, so the Knowledge page can
show "embedding n/m". Bad input (an unreadable file, a scanned PDF) is stored on the source as
its error and the job ends normally; a failing embedder marks the source failed and raises so
RQ retries.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from itertools import groupby

from sqlmodel import Session

from backend.core.config import settings
from backend.core.db import session_scope
from backend.events import publish
from backend.knowledge import chunking, parsing
from backend.knowledge import repository as repo
from backend.knowledge.embeddings import Embedder, get_embedder
from backend.knowledge.parsing import KnowledgeError
from backend.models.base import utcnow
from backend.models.knowledge import KnowledgeSource, KnowledgeSourceKind, KnowledgeSourceStatus

log = logging.getLogger(__name__)

BATCH_SIZE = 32
# A source "embedding" for longer than this without progress lost its worker: start it again.
STALE_AFTER = timedelta(minutes=10)
SKIPPED = "skipped"  # another job handles the source, or it changed or went away meanwhile
# Changed chunk and source rows after which search's planner statistics are refreshed (by the
# embedding job that wrote them and by the periodic sweep), see refresh_search_statistics.
STATS_REFRESH_MIN_CHANGED = 200


@dataclass
class _Plan:
    source_id: int
    business_id: int
    content_hash: str | None
    language: str | None
    drafts: list[chunking.ChunkDraft]
    done: int = 0
    status: str = KnowledgeSourceStatus.EMBEDDING


def _busy(source: KnowledgeSource) -> bool:
    """Whether another job is embedding this source right now."""
    return (
        source.status == KnowledgeSourceStatus.EMBEDDING
        and source.updated_at is not None
        and source.updated_at > utcnow() - STALE_AFTER
    )


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


def _read_upload(source: KnowledgeSource) -> tuple[str, str]:
    """The extracted text of an uploaded file and its extension."""
    filename = source.filename or ""
    ext = parsing.file_extension(filename)
    if ext not in parsing.DOCUMENT_TYPES:
        raise KnowledgeError(
            f"BizBot cannot read {ext or 'files without an extension'} files as a document; "
            "upload a .txt, .md, .pdf or .docx file.",
            field="file",
        )
    path = parsing.upload_path(
        settings.data_dir, business_id=source.business_id, digest=source.content_hash or "", ext=ext
    )
    if not path.is_file():
        raise KnowledgeError(
            f"The uploaded file {filename} is no longer on the server; upload it again.",
            field="file",
        )
    data = path.read_bytes()
    parsing.check_upload(filename, data)
    return parsing.extract_text(data, ext), ext


def _drafts(source: KnowledgeSource) -> tuple[list[chunking.ChunkDraft], str | None]:
    """The source's chunks, and for a file the text extracted from it."""
    if source.kind == KnowledgeSourceKind.FAQ:
        return chunking.faq_chunks(source.question or source.title, source.content), None
    if source.kind == KnowledgeSourceKind.FILE:
        text, ext = _read_upload(source)
        return chunking.document_chunks(text, markdown=ext == ".md"), text
    return chunking.document_chunks(source.content), None


def _set_failed(source_id: int, content_hash: str | None, message: str) -> None:
    with session_scope() as session:
        source = repo.get_source_for_job(session, source_id=source_id, lock=True)
        if source is None or source.content_hash != content_hash:
            return
        repo.delete_chunks(session, business_id=source.business_id, source_id=source.id)
        source.status = KnowledgeSourceStatus.FAILED
        source.error = message
        source.progress_done = source.progress_total = source.chunk_count = 0
        repo.save_source(session, source)
        _announce(session, source)


def _prepare(source_id: int) -> _Plan | str:
    """Read and chunk a source, then claim it (status "embedding", old chunks removed)."""
    with session_scope() as session:
        source = repo.get_source_for_job(session, source_id=source_id)
        # Deleted after it was queued (a normal race with the Knowledge page), or already done.
        if source is None or source.status == KnowledgeSourceStatus.READY or _busy(source):
            return SKIPPED
        content_hash = source.content_hash
    # Parsed outside any transaction: a large PDF takes seconds and must not hold a lock.
    try:
        drafts, extracted = _drafts(source)
        if not drafts:
            raise KnowledgeError("This source has no text to learn from; add some text.")
    except KnowledgeError as exc:
        _set_failed(source_id, content_hash, exc.message)
        return KnowledgeSourceStatus.FAILED
    with session_scope() as session:
        source = repo.get_source_for_job(session, source_id=source_id, lock=True)
        if (
            source is None
            or source.content_hash != content_hash
            or source.status == KnowledgeSourceStatus.READY
            or _busy(source)
        ):
            return SKIPPED
        repo.delete_chunks(session, business_id=source.business_id, source_id=source.id)
        if extracted is not None:
            source.content = extracted
        source.status = KnowledgeSourceStatus.EMBEDDING
        source.error = None
        source.progress_done, source.progress_total = 0, len(drafts)
        source.chunk_count = 0
        repo.save_source(session, source)
        _announce(session, source)
        return _Plan(
            source_id=source.id,
            business_id=source.business_id,
            content_hash=content_hash,
            language=source.language,
            drafts=drafts,
        )


def _store_batch(session: Session, plan: _Plan, drafts, vectors, embedder_name: str) -> None:
    source = repo.get_source_for_job(session, source_id=plan.source_id, lock=True)
    if (
        source is None
        or source.content_hash != plan.content_hash
        or source.status != KnowledgeSourceStatus.EMBEDDING
        or source.progress_done != plan.done
    ):
        plan.status = SKIPPED  # edited, deleted or taken over meanwhile; a newer job has it
        return
    repo.insert_chunks(
        session,
        business_id=plan.business_id,
        source_id=plan.source_id,
        language=plan.language,
        drafts=drafts,
        vectors=vectors,
        meta={"embedder": embedder_name},
    )
    plan.done += len(drafts)
    source.progress_done = plan.done
    if plan.done == len(plan.drafts):
        source.status = plan.status = KnowledgeSourceStatus.READY
        source.chunk_count = plan.done
    repo.save_source(session, source)
    _announce(session, source)


def embed_sources(source_ids: list[int], *, embedder: Embedder | None = None) -> dict[int, str]:
    """Parse, chunk and embed sources, sharing batches; return each one's final status."""
    results: dict[int, str] = {}
    plans: list[_Plan] = []
    for source_id in sorted(set(source_ids)):
        prepared = _prepare(source_id)
        if isinstance(prepared, _Plan):
            plans.append(prepared)
        else:
            results[source_id] = prepared
    if not plans:
        return results
    embedder = embedder or get_embedder()
    work = [(plan, draft) for plan in plans for draft in plan.drafts]
    try:
        for start in range(0, len(work), BATCH_SIZE):
            batch = [item for item in work[start : start + BATCH_SIZE] if item[0].status != SKIPPED]
            if not batch:
                continue
            vectors = embedder.embed_passages([draft.passage for _, draft in batch])
            with session_scope() as session:
                offset = 0
                for _, items in groupby(batch, key=lambda item: item[0].source_id):
                    pairs = list(items)
                    plan, drafts = pairs[0][0], [draft for _, draft in pairs]
                    chunk_vectors = vectors[offset : offset + len(drafts)]
                    offset += len(drafts)
                    _store_batch(session, plan, drafts, chunk_vectors, embedder.name)
    except Exception as exc:
        message = str(exc) if isinstance(exc, KnowledgeError | RuntimeError) else repr(exc)
        for plan in plans:
            if plan.status == KnowledgeSourceStatus.EMBEDDING:
                _set_failed(
                    plan.source_id,
                    plan.content_hash,
                    f"Embedding failed: {message}. BizBot retries a few times; if it keeps "
                    "failing, check the embeddings settings or delete and re-add this source.",
                )
        raise
    results.update({plan.source_id: plan.status for plan in plans})
    if len(work) >= STATS_REFRESH_MIN_CHANGED:  # a bulk import: search it well from now on
        with session_scope() as session:
            refresh_search_statistics(session, min_changed=0)
    return results


def refresh_search_statistics(session: Session, *, min_changed: int | None = None) -> bool:
    """Let PostgreSQL sample the knowledge tables again when many rows changed since it last
    did; returns whether it did.

    Search plans its statements from these statistics. A new tenant's freshly imported chunks
    are invisible to them until then (autovacuum waits for 10 % of the whole shared table to
    change), and the planner, expecting one row, picks nested loops that read the business's
    chunks once per chunk: 500 entries took 30 ms instead of 2 ms.
    """
    threshold = STATS_REFRESH_MIN_CHANGED if min_changed is None else min_changed
    if repo.knowledge_rows_changed_since_analyze(session) < threshold:
        return False
    repo.analyze_knowledge_tables(session)
    return True


def embed_source(source_id: int) -> str:
    """RQ job: parse, chunk and embed one source; returns its final status."""
    return embed_sources([source_id])[source_id]


def remove_upload(business_id: int, digest: str, ext: str) -> bool:
    """RQ job: delete an uploaded file's bytes once no source of the business uses them."""
    with session_scope() as session:
        in_use = repo.count_files_with_hash(session, business_id=business_id, content_hash=digest)
    if in_use:
        return False
    path = parsing.upload_path(settings.data_dir, business_id=business_id, digest=digest, ext=ext)
    path.unlink(missing_ok=True)
    return True
