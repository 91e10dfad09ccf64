"""All SQL of the knowledge domain: sources, their chunks, vector and full-text candidates."""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Session, func, select

from backend.knowledge.chunking import ChunkDraft
from backend.models.knowledge import (
    KnowledgeChunk,
    KnowledgeSource,
    KnowledgeSourceKind,
    KnowledgeSourceStatus,
)
from backend.models.tenants import Business

_SIMPLE = sa.literal_column("'simple'::regconfig")
# Above this many AND-groups a partial match is found word by word instead (see text_matches).
MAX_TERM_COMBINATIONS = 64
# Statements built once per number of query words (search looks at 16 words at most).
MAX_TERM_STATEMENTS = 64


@dataclass(frozen=True)
class Candidate:
    """A chunk one retriever found: its id, cosine distance to the query, and text rank."""

    chunk_id: int
    distance: float | None  # None until looked up (full-text hits)
    text_rank: float = 0.0
    all_terms: bool = False  # full text: every query term matched (not only some)


@dataclass(frozen=True)
class ChunkRow:
    """A chunk with its source's fields, as search hands them out."""

    chunk_id: int
    source_id: int
    source_title: str
    source_kind: str
    external_id: str | None
    question: str | None
    content: str
    language: str | None
    group_key: str | None


# --- sources -------------------------------------------------------------------------------


def business_exists(session: Session, *, business_id: int) -> bool:
    """Whether a business with this id exists (the CLI names a business by id)."""
    return session.exec(select(Business.id).where(Business.id == business_id)).first() is not None


def get_source(session: Session, *, business_id: int, source_id: int) -> KnowledgeSource | None:
    """The business's source with this id."""
    return session.exec(
        select(KnowledgeSource).where(
            KnowledgeSource.business_id == business_id, KnowledgeSource.id == source_id
        )
    ).first()


def get_source_for_job(
    session: Session, *, source_id: int, lock: bool = False
) -> KnowledgeSource | None:
    """A source by id alone, for the embedding job (which learns the tenant from the row)."""
    stmt = select(KnowledgeSource).where(KnowledgeSource.id == source_id)
    if lock:
        stmt = stmt.with_for_update()
    return session.exec(stmt).first()


def find_by_external_id(
    session: Session, *, business_id: int, external_id: str
) -> KnowledgeSource | None:
    """The business's source imported with this id."""
    return session.exec(
        select(KnowledgeSource).where(
            KnowledgeSource.business_id == business_id,
            KnowledgeSource.external_id == external_id,
        )
    ).first()


def find_faq_by_question(
    session: Session, *, business_id: int, question: str
) -> KnowledgeSource | None:
    """The business's FAQ with this question (ignoring case), oldest first."""
    return session.exec(
        select(KnowledgeSource)
        .where(
            KnowledgeSource.business_id == business_id,
            KnowledgeSource.kind == KnowledgeSourceKind.FAQ,
            func.lower(KnowledgeSource.question) == question.lower(),
        )
        .order_by(KnowledgeSource.id)
    ).first()


def find_text_by_title(session: Session, *, business_id: int, title: str) -> KnowledgeSource | None:
    """The business's pasted text with this title (ignoring case)."""
    return session.exec(
        select(KnowledgeSource)
        .where(
            KnowledgeSource.business_id == business_id,
            KnowledgeSource.kind == KnowledgeSourceKind.TEXT,
            func.lower(KnowledgeSource.title) == title.lower(),
        )
        .order_by(KnowledgeSource.id)
    ).first()


def find_file(
    session: Session,
    *,
    business_id: int,
    content_hash: str | None = None,
    filename: str | None = None,
) -> KnowledgeSource | None:
    """The business's uploaded file with these bytes, else with this file name."""
    base = select(KnowledgeSource).where(
        KnowledgeSource.business_id == business_id,
        KnowledgeSource.kind == KnowledgeSourceKind.FILE,
    )
    if content_hash:
        found = session.exec(base.where(KnowledgeSource.content_hash == content_hash)).first()
        if found is not None:
            return found
    if filename:
        return session.exec(
            base.where(KnowledgeSource.filename == filename).order_by(KnowledgeSource.id)
        ).first()
    return None


def count_files_with_hash(session: Session, *, business_id: int, content_hash: str) -> int:
    """How many of the business's file sources still use the upload with this hash."""
    return session.exec(
        select(func.count()).where(
            KnowledgeSource.business_id == business_id,
            KnowledgeSource.kind == KnowledgeSourceKind.FILE,
            KnowledgeSource.content_hash == content_hash,
        )
    ).one()


def _search_filter(business_id: int, search: str):
    conditions = [KnowledgeSource.business_id == business_id]
    search = search.strip()
    if search:
        pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(
            sa.or_(
                KnowledgeSource.title.ilike(pattern, escape="\\"),
                KnowledgeSource.question.ilike(pattern, escape="\\"),
                KnowledgeSource.content.ilike(pattern, escape="\\"),
                KnowledgeSource.category.ilike(pattern, escape="\\"),
                KnowledgeSource.filename.ilike(pattern, escape="\\"),
            )
        )
    return conditions


def list_sources(
    session: Session, *, business_id: int, search: str = "", limit: int = 50, offset: int = 0
) -> list[KnowledgeSource]:
    """The business's sources matching `search` (in title, question, content), newest first."""
    return list(
        session.exec(
            select(KnowledgeSource)
            .where(*_search_filter(business_id, search))
            .order_by(KnowledgeSource.created_at.desc(), KnowledgeSource.id.desc())
            .limit(limit)
            .offset(offset)
        ).all()
    )


def count_sources(session: Session, *, business_id: int, search: str = "") -> int:
    """How many of the business's sources match `search`."""
    return session.exec(select(func.count()).where(*_search_filter(business_id, search))).one()


def save_source(session: Session, source: KnowledgeSource) -> KnowledgeSource:
    """Insert or update a source and flush, so it has its id."""
    session.add(source)
    session.flush()
    return source


def delete_source(session: Session, source: KnowledgeSource) -> None:
    """Delete a source; its chunks go with it (ON DELETE CASCADE)."""
    session.delete(source)
    session.flush()


def list_sources_to_embed(
    session: Session, *, business_id: int | None = None, updated_before: datetime
) -> list[int]:
    """Ids of sources left pending or embedding since before `updated_before`.

    Across all businesses when `business_id` is None: the periodic sweep's lookup.
    """
    stmt = select(KnowledgeSource.id).where(
        KnowledgeSource.status.in_(
            [KnowledgeSourceStatus.PENDING, KnowledgeSourceStatus.EMBEDDING]
        ),
        KnowledgeSource.updated_at < updated_before,
    )
    if business_id is not None:
        stmt = stmt.where(KnowledgeSource.business_id == business_id)
    return list(session.exec(stmt.order_by(KnowledgeSource.id)).all())


# --- chunks --------------------------------------------------------------------------------


def delete_chunks(session: Session, *, business_id: int, source_id: int) -> None:
    """Remove every chunk of a source."""
    session.execute(
        sa.delete(KnowledgeChunk).where(
            KnowledgeChunk.business_id == business_id, KnowledgeChunk.source_id == source_id
        )
    )


def insert_chunks(
    session: Session,
    *,
    business_id: int,
    source_id: int,
    language: str | None,
    drafts: Sequence[ChunkDraft],
    vectors: np.ndarray,
    meta: dict | None = None,
) -> None:
    """Store chunks with their embeddings (the full-text vector is computed by PostgreSQL)."""
    if not drafts:
        return
    session.execute(
        sa.insert(KnowledgeChunk),
        [
            {
                "business_id": business_id,
                "source_id": source_id,
                "position": draft.position,
                "content": draft.content,
                "question": draft.question,
                "language": language,
                "embedding": vector,
                "meta": meta or {},
            }
            for draft, vector in zip(drafts, vectors, strict=True)
        ],
    )


def set_chunk_language(
    session: Session, *, business_id: int, source_id: int, language: str | None
) -> None:
    """Copy a source's new language onto its chunks."""
    session.execute(
        sa.update(KnowledgeChunk)
        .where(KnowledgeChunk.business_id == business_id, KnowledgeChunk.source_id == source_id)
        .values(language=language)
    )


def _searchable(business_id):
    """Join condition + filters: the business's chunks of enabled, ready sources."""
    return (
        KnowledgeSource,
        sa.and_(
            KnowledgeSource.id == KnowledgeChunk.source_id,
            KnowledgeSource.business_id == business_id,
            KnowledgeSource.is_enabled,
            KnowledgeSource.status == KnowledgeSourceStatus.READY,
        ),
    )


def searchable_chunk_count(session: Session, *, business_id: int, cap: int) -> int:
    """How many of the business's chunks are searchable (enabled, ready sources), up to `cap`."""
    target, on = _searchable(business_id)
    rows = (
        sa.select(sa.literal(1).label("one"))
        .select_from(KnowledgeChunk)
        .join(target, on)
        .where(KnowledgeChunk.business_id == business_id)
        .limit(cap)
        .subquery("searchable")
    )
    return int(session.execute(sa.select(func.count()).select_from(rows)).scalar_one())


def term_chunk_counts(
    session: Session, *, business_id: int, terms: Sequence[str], cap: int
) -> dict[str, int]:
    """How many of the business's chunks hold each term, each counted up to `cap`.

    Each count is a GIN index lookup that stops at `cap` rows: a rare word (a name, a number)
    costs microseconds and a common one at most `cap` rows, whatever the size of the knowledge
    base. Search only needs to know whether a word is in more than `cap - 1` chunks."""
    if not terms:
        return {}
    params: dict[str, object] = {"business_id": business_id, "cap": cap}
    params |= {f"t{index}": term for index, term in enumerate(terms)}
    row = session.execute(_term_counts_statement(len(terms)), params).one()
    return dict(zip(terms, (int(value) for value in row), strict=True))


@functools.lru_cache(maxsize=MAX_TERM_STATEMENTS)
def _term_counts_statement(term_count: int) -> sa.Select:
    def capped(index: int):
        holding = (
            sa.select(sa.literal(1).label("one"))
            .select_from(KnowledgeChunk)
            .where(
                KnowledgeChunk.business_id == sa.bindparam("business_id"),
                KnowledgeChunk.tsv.op("@@")(
                    func.websearch_to_tsquery(_SIMPLE, sa.bindparam(f"t{index}"))
                ),
            )
            .limit(sa.bindparam("cap"))
            .subquery(f"holding{index}")
        )
        return sa.select(func.count()).select_from(holding).scalar_subquery().label(f"t{index}")

    return sa.select(*(capped(index) for index in range(term_count)))


# Every connection starts with this HNSW search width (one SET when it opens), so a search with
# it needs no SET LOCAL round trip. Other widths are set for their transaction only.
DEFAULT_EF_SEARCH = 200
_EF_SEARCH_KEY = "bizbot_hnsw_ef_search"


@sa.event.listens_for(sa.engine.Engine, "connect")
def _hnsw_search_width(dbapi_connection, connection_record) -> None:
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    try:
        dbapi_connection.execute(f"SET hnsw.ef_search = {DEFAULT_EF_SEARCH}")
    finally:
        dbapi_connection.autocommit = autocommit
    connection_record.info[_EF_SEARCH_KEY] = DEFAULT_EF_SEARCH


def nearest_chunks_with(
    session: Session,
    *,
    business_id: int,
    vector: np.ndarray,
    limit: int,
    exact: bool,
    ef_search: int = DEFAULT_EF_SEARCH,
    also: Sequence[int] = (),
) -> tuple[list[Candidate], dict[int, float]]:
    """The business's chunks closest to `vector` (exactly, or through the HNSW index), and the
    distances of the chunks `also` named (full-text hits), in one round trip."""
    if not exact and session.connection().info.get(_EF_SEARCH_KEY) != ef_search:
        session.execute(sa.text(f"SET LOCAL hnsw.ef_search = {int(ef_search)}"))
    params = {"business_id": business_id, "vector": vector, "limit": limit, "also": list(also)}
    nearest: list[Candidate] = []
    distances: dict[int, float] = {}
    for chunk_id, value, is_near in session.execute(_nearest_statement(exact, bool(also)), params):
        if is_near:
            nearest.append(Candidate(chunk_id=chunk_id, distance=float(value)))
        elif value is not None:
            distances[chunk_id] = float(value)
    nearest.sort(key=lambda hit: (hit.distance, hit.chunk_id))
    return nearest, distances


@functools.cache
def _nearest_statement(exact: bool, also: bool) -> sa.Select | sa.CompoundSelect:
    """nearest_chunks_with's statement for each shape, built once (every answer runs one)."""
    business_id = sa.bindparam("business_id")
    target, on = _searchable(business_id)
    distance = KnowledgeChunk.embedding.cosine_distance(sa.bindparam("vector"))
    if exact:
        # MATERIALIZED keeps the planner from answering with the shared HNSW index, which is
        # approximate and, filtered by business afterwards, can return fewer than `limit` rows.
        candidates = (
            select(KnowledgeChunk.id.label("chunk_id"), distance.label("distance"))
            .join(target, on)
            .where(KnowledgeChunk.business_id == business_id)
            .cte("candidates")
            .prefix_with("MATERIALIZED")
        )
        near = (
            sa.select(candidates.c.chunk_id, candidates.c.distance, sa.literal(True).label("near"))
            .order_by(candidates.c.distance, candidates.c.chunk_id)
            .limit(sa.bindparam("limit"))
        )
    else:
        near = (
            sa.select(
                KnowledgeChunk.id.label("chunk_id"),
                distance.label("distance"),
                sa.literal(True).label("near"),
            )
            .join(target, on)
            .where(KnowledgeChunk.business_id == business_id)
            .order_by(distance)
            .limit(sa.bindparam("limit"))
        )
    if not also:
        return near
    others = sa.select(
        KnowledgeChunk.id.label("chunk_id"), distance.label("distance"), sa.literal(False)
    ).where(KnowledgeChunk.business_id == business_id, KnowledgeChunk.id == _any_id("also"))
    return sa.union_all(near, others)


def _any_id(name: str) -> sa.ColumnElement:
    """`= ANY(:name)` with the ids as one array: one statement text for any number of ids."""
    return sa.any_(sa.bindparam(name, type_=postgresql.ARRAY(sa.Integer)))


def text_matches(
    session: Session,
    *,
    business_id: int,
    query: str,
    terms: Sequence[str] = (),
    min_terms: int = 0,
    limit: int,
) -> list[Candidate]:
    """Full-text hits of the business's chunks, best first (distance not looked up).

    A hit matches all of `query` (web-search syntax), or at least `min_terms` of `terms`;
    those matching everything rank first, then by how many terms they match.
    """
    params: dict[str, object] = {"business_id": business_id, "query": query, "limit": limit}
    partial = bool(terms and min_terms)
    grouped = partial and math.comb(len(terms), min_terms) <= MAX_TERM_COMBINATIONS
    if partial:
        params |= {f"t{index}": term for index, term in enumerate(terms)}
        params["any"] = " or ".join(terms)
        params["min_terms"] = min_terms
        # "At least n of these words" as one tsquery of AND-groups the GIN index answers, so
        # only chunks that qualify are read (not every chunk holding any one word).
        params["partial"] = (
            " or ".join(" ".join(group) for group in itertools.combinations(terms, min_terms))
            if grouped
            else params["any"]
        )
    rows = session.execute(_text_match_statement(len(terms) if partial else 0), params).all()
    return [
        Candidate(
            chunk_id=row.id, distance=None, text_rank=float(row.rank), all_terms=bool(row.all_terms)
        )
        for row in rows
    ]


@functools.lru_cache(maxsize=MAX_TERM_STATEMENTS)
def _text_match_statement(term_count: int) -> sa.Select:
    """text_matches' statement for `term_count` partial-match words (0: all words only), built
    once per shape with bound parameters: a customer message then costs no SQL building."""
    business_id = sa.bindparam("business_id")
    target, on = _searchable(business_id)
    all_terms = KnowledgeChunk.tsv.op("@@")(
        func.websearch_to_tsquery(_SIMPLE, sa.bindparam("query"))
    )
    matched = sa.literal(0)
    for index in range(term_count):
        term = func.websearch_to_tsquery(_SIMPLE, sa.bindparam(f"t{index}"))
        matched = matched + sa.cast(KnowledgeChunk.tsv.op("@@")(term), sa.Integer)
    if term_count:
        partial = func.websearch_to_tsquery(_SIMPLE, sa.bindparam("partial"))
        condition = sa.or_(
            all_terms,
            sa.and_(KnowledgeChunk.tsv.op("@@")(partial), matched >= sa.bindparam("min_terms")),
        )
        rank_query = func.websearch_to_tsquery(_SIMPLE, sa.bindparam("any"))
    else:
        condition = all_terms
        rank_query = func.websearch_to_tsquery(_SIMPLE, sa.bindparam("query"))
    rank = func.ts_rank(KnowledgeChunk.tsv, rank_query)
    return (
        sa.select(KnowledgeChunk.id, rank.label("rank"), all_terms.label("all_terms"))
        .join(target, on)
        .where(KnowledgeChunk.business_id == business_id, condition)
        .order_by(all_terms.desc(), matched.desc(), rank.desc(), KnowledgeChunk.id)
        .limit(sa.bindparam("limit"))
    )


def get_chunk_rows(session: Session, *, business_id: int, chunk_ids: list[int]) -> list[ChunkRow]:
    """The business's chunks with these ids, with their sources' fields (in no given order)."""
    if not chunk_ids:
        return []
    params = {"business_id": business_id, "chunk_ids": list(chunk_ids)}
    return [ChunkRow(*row) for row in session.execute(_chunk_rows_statement(), params)]


@functools.cache
def _chunk_rows_statement() -> sa.Select:
    business_id = sa.bindparam("business_id")
    return (
        sa.select(
            KnowledgeChunk.id,
            KnowledgeChunk.source_id,
            KnowledgeSource.title,
            KnowledgeSource.kind,
            KnowledgeSource.external_id,
            KnowledgeChunk.question,
            KnowledgeChunk.content,
            KnowledgeChunk.language,
            KnowledgeSource.group_key,
        )
        .join(KnowledgeSource, KnowledgeSource.id == KnowledgeChunk.source_id)
        .where(
            KnowledgeChunk.business_id == business_id,
            KnowledgeSource.business_id == business_id,
            KnowledgeChunk.id == _any_id("chunk_ids"),
        )
    )


# --- planner statistics (maintenance across tenants) ----------------------------------------


def knowledge_rows_changed_since_analyze(session: Session) -> int:
    """Rows of the chunk and source tables written since PostgreSQL last sampled them (all
    businesses: a maintenance lookup)."""
    changed = session.execute(
        sa.text(
            "SELECT coalesce(sum(n_mod_since_analyze), 0) FROM pg_stat_user_tables "
            "WHERE relid IN ('knowledgechunk'::regclass, 'knowledgesource'::regclass)"
        )
    ).scalar_one()
    return int(changed)


def analyze_knowledge_tables(session: Session) -> None:
    """Sample the chunk and source tables again (skipped while autovacuum holds them)."""
    session.execute(sa.text("ANALYZE (SKIP_LOCKED) knowledgechunk, knowledgesource"))
