"""Plain data the knowledge domain hands out (never ORM rows)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class RetrievedChunk:
    """One passage found for a query, with how well it matched and where it came from."""

    chunk_id: int
    source_id: int
    source_title: str
    source_kind: str  # faq, text, file, url, product
    external_id: str | None
    question: str | None  # the FAQ's question when the source is an FAQ
    text: str  # the chunk's content (an FAQ chunk holds its answer)
    language: str | None
    group_key: str | None  # sources sharing it are translations of one another
    score: float  # fused rank score (reciprocal rank fusion); orders the results
    similarity: float  # cosine similarity of query and chunk embeddings, in [-1, 1]
    text_match: bool  # whether full-text search found it too


@dataclass(frozen=True)
class SourceView:
    """A knowledge source as the Knowledge page lists it."""

    id: int
    kind: str
    title: str
    question: str | None
    content: str
    status: str  # pending (queued), embedding, ready, failed
    error: str | None
    progress_done: int
    progress_total: int
    chunk_count: int
    external_id: str | None
    category: str | None
    language: str | None
    filename: str | None
    updated_at: datetime


@dataclass(frozen=True)
class ImportSummary:
    """What a bulk import did, row by row counted."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
