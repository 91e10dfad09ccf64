"""What the business knows (FAQs, texts, files, pages, products) and its searchable chunks."""

from __future__ import annotations

from enum import StrEnum

import sqlalchemy as sa
from pgvector.sqlalchemy import Vector
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlmodel import Field

from backend.models.base import Table, business_fk, enum_field, json_field

EMBEDDING_DIMENSIONS = 384


class KnowledgeSourceKind(StrEnum):
    """Where a piece of knowledge came from."""

    FAQ = "faq"
    TEXT = "text"
    FILE = "file"
    URL = "url"
    PRODUCT = "product"


class KnowledgeSourceStatus(StrEnum):
    """Whether a source has been chunked and embedded."""

    PENDING = "pending"  # queued for embedding
    EMBEDDING = "embedding"
    READY = "ready"
    FAILED = "failed"


class KnowledgeSource(Table, table=True):
    """One thing the business taught the AI: an FAQ, a text, an uploaded file, a web page."""

    __table_args__ = (
        # An imported row's own id: re-importing the file updates that entry, never duplicates.
        sa.Index(
            "uq_knowledgesource_business_external",
            "business_id",
            "external_id",
            unique=True,
            postgresql_where=sa.text("external_id IS NOT NULL"),
        ),
    )

    business_id: int = business_fk()
    kind: str = enum_field(...)
    title: str = Field(max_length=200)
    question: str | None = Field(default=None, sa_type=sa.Text)
    # The FAQ's answer, or the text extracted from the file, page or product.
    content: str = Field(default="", sa_type=sa.Text)
    url: str | None = Field(default=None, max_length=2000)
    product_id: int | None = Field(
        default=None, foreign_key="product.id", ondelete="CASCADE", index=True
    )
    filename: str | None = Field(default=None, max_length=255)
    mime_type: str | None = Field(default=None, max_length=127)
    # sha256 hex of the content: unchanged content is not re-embedded.
    content_hash: str | None = Field(default=None, max_length=64, index=True)
    status: str = enum_field(KnowledgeSourceStatus.PENDING)
    error: str | None = Field(default=None, sa_type=sa.Text)
    chunk_count: int = Field(default=0)
    is_enabled: bool = Field(default=True)
    external_id: str | None = Field(default=None, max_length=255)
    category: str | None = Field(default=None, max_length=120)
    # The entry's language (ISO 639-1); entries sharing a group_key translate one another.
    language: str | None = Field(default=None, max_length=16)
    group_key: str | None = Field(default=None, max_length=255, index=True)
    # Embedding progress while status is "embedding": done of total chunks.
    progress_done: int = Field(default=0)
    progress_total: int = Field(default=0)


class KnowledgeChunk(Table, table=True):
    """A passage of a knowledge source with its embedding and full-text vector, for retrieval."""

    __table_args__ = (
        sa.Index(
            "ix_knowledgechunk_embedding_hnsw",
            "embedding",
            postgresql_using="hnsw",
            postgresql_with={"m": 16, "ef_construction": 64},
            postgresql_ops={"embedding": "vector_cosine_ops"},
        ),
        sa.Index("ix_knowledgechunk_tsv", "tsv", postgresql_using="gin"),
    )

    business_id: int = business_fk()
    source_id: int = Field(foreign_key="knowledgesource.id", ondelete="CASCADE", index=True)
    position: int = Field(default=0)
    content: str = Field(sa_type=sa.Text)
    question: str | None = Field(default=None, sa_type=sa.Text)
    language: str | None = Field(default=None, max_length=16)
    embedding: list[float] = Field(
        sa_type=Vector(EMBEDDING_DIMENSIONS), sa_column_kwargs={"nullable": False}
    )
    tsv: str | None = Field(
        default=None,
        sa_column=sa.Column(
            TSVECTOR,
            sa.Computed(
                "to_tsvector('simple', coalesce(question, '') || ' ' || content)", persisted=True
            ),
        ),
    )
    meta: dict = json_field()
