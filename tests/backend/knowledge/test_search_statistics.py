"""Search's planner statistics: a bulk import is sampled at once, so its searches plan well."""

from __future__ import annotations

import numpy as np
import sqlalchemy as sa

from backend.core.db import session_scope
from backend.knowledge import service, tasks

ENTRIES = tasks.STATS_REFRESH_MIN_CHANGED + 50


class _SeededEmbedder:
    """Fast stand-in where the vectors do not matter."""

    name = "test/seeded"

    def __init__(self) -> None:
        self.rng = np.random.default_rng(3)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        vectors = self.rng.normal(size=(len(texts), 384)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    embed_queries = embed_passages


def _estimated_chunks(business_id: int) -> int:
    """How many chunks of the business PostgreSQL's planner expects a search to read."""
    with session_scope() as session:
        plan = session.execute(
            sa.text("EXPLAIN (FORMAT JSON) SELECT id FROM knowledgechunk WHERE business_id = :b"),
            {"b": business_id},
        ).scalar_one()
    return int(plan[0]["Plan"]["Plan Rows"])


def test_a_bulk_import_is_sampled_for_the_planner_when_it_is_embedded(committed_owner):
    business_id = committed_owner.business_id
    rows = [
        {"id": f"q{i}", "question": f"What about item {i}?", "answer": f"Item {i} costs ${i}."}
        for i in range(ENTRIES)
    ]
    with session_scope() as session:
        summary = service.import_rows(session, business_id=business_id, rows=rows, enqueue=False)
        pending = service.sources_to_embed(session, business_id=business_id)
    assert summary.created == ENTRIES

    statuses = tasks.embed_sources(pending, embedder=_SeededEmbedder())

    assert set(statuses.values()) == {"ready"}
    # Without fresh statistics a new tenant's rows are estimated at a handful, and search's
    # joins then read the business's chunks once per chunk.
    assert _estimated_chunks(business_id) >= ENTRIES // 2


def test_statistics_are_refreshed_only_after_enough_changes(committed):
    with session_scope() as session:
        assert tasks.refresh_search_statistics(session, min_changed=0) is True
    with session_scope() as session:
        assert tasks.refresh_search_statistics(session, min_changed=10**9) is False
