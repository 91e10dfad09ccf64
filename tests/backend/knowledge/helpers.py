"""Helpers for knowledge tests: running the embedding job, reading rows back."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import select

from backend.core.db import session_scope
from backend.knowledge import service, tasks
from backend.models import KnowledgeChunk, KnowledgeSource


def embed_pending(business_id: int) -> dict[int, str]:
    """Run the embedding job's code for every source of the business waiting for it."""
    with session_scope() as session:
        ids = service.sources_to_embed(session, business_id=business_id)
    return tasks.embed_sources(ids)


def load_source(source_id: int) -> KnowledgeSource | None:
    """The source as stored now."""
    with session_scope() as session:
        return session.get(KnowledgeSource, source_id)


def chunks_of(source_id: int) -> list[KnowledgeChunk]:
    """The stored chunks of a source, in order."""
    with session_scope() as session:
        return list(
            session.exec(
                select(KnowledgeChunk)
                .where(KnowledgeChunk.source_id == source_id)
                .order_by(KnowledgeChunk.position)
            ).all()
        )


def in_session(func: Callable, **kwargs):
    """Call a service function in its own committed session, like a page handler does."""
    with session_scope() as session:
        return func(session, **kwargs)
