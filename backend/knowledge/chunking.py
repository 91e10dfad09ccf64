"""Splitting a source into the passages that get embedded and retrieved."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from semantic_text_splitter import MarkdownSplitter, TextSplitter

# multilingual-e5-small reads 512 tokens; 1000 characters stays under that in most languages.
CHUNK_CHARACTERS = 1000
CHUNK_OVERLAP = 100


@dataclass(frozen=True)
class ChunkDraft:
    """A passage about to be embedded: its text, and the FAQ question when it is an FAQ."""

    position: int
    content: str
    question: str | None = None

    @property
    def passage(self) -> str:
        """The text the embedding is computed from (an FAQ matches on question and answer)."""
        return f"{self.question}\n{self.content}" if self.question else self.content


@lru_cache(maxsize=2)
def _splitter(markdown: bool) -> TextSplitter | MarkdownSplitter:
    kind = MarkdownSplitter if markdown else TextSplitter
    return kind(CHUNK_CHARACTERS, overlap=CHUNK_OVERLAP, trim=True)


def split_text(text: str, *, markdown: bool = False) -> list[str]:
    """Split text at the largest semantic units (sections, paragraphs, sentences) that fit."""
    return [chunk for chunk in _splitter(markdown).chunks(text) if chunk.strip()]


def faq_chunks(question: str, answer: str) -> list[ChunkDraft]:
    """An FAQ is one chunk, however long its answer, so it is always retrieved whole."""
    return [ChunkDraft(position=0, content=answer, question=question)]


def document_chunks(text: str, *, markdown: bool = False) -> list[ChunkDraft]:
    """The chunks of a document's text, in order."""
    return [
        ChunkDraft(position=index, content=chunk)
        for index, chunk in enumerate(split_text(text, markdown=markdown))
    ]
