"""Query vectors are embedded once per model and text, shared by every worker through Redis."""

from __future__ import annotations

import numpy as np

from backend.core.redis import get_redis
from backend.knowledge import embeddings, service
from backend.knowledge.embeddings import QueryVectorCache
from tests.factories import make_business


class CountingModel:
    """A stand-in model: a vector derived from the text; it counts every text it embeds."""

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.embedded.extend(texts)
        rows = [np.random.default_rng(abs(hash(t)) % 2**32).random(384) for t in texts]
        return np.asarray(rows, dtype=np.float32).reshape(len(texts), 384)


def test_a_repeated_question_is_embedded_once_whatever_its_spacing():
    cache, model = QueryVectorCache(), CountingModel()
    first = cache.vectors("m1", ["When are you open?"], model)
    again = cache.vectors("m1", ["  When are   you open? "], model)
    assert model.embedded == ["When are you open?"]
    assert np.array_equal(first, again)
    again[0][0] = 42.0  # callers get their own copy: the cached vector stays as it was
    assert np.array_equal(cache.vectors("m1", ["When are you open?"], model), first)


def test_another_model_never_gets_this_models_vectors():
    cache, model = QueryVectorCache(), CountingModel()
    cache.vectors("m1", ["Do you deliver?"], model)
    cache.vectors("m2", ["Do you deliver?"], model)
    assert model.embedded == ["Do you deliver?", "Do you deliver?"]


def test_a_second_worker_gets_the_vector_from_redis_without_embedding():
    worker_a, worker_b = QueryVectorCache(), QueryVectorCache()  # two processes' caches
    model_a, model_b = CountingModel(), CountingModel()
    [vector] = worker_a.vectors("m1", ["How can I pay?"], model_a)
    [shared] = worker_b.vectors("m1", ["How can I pay?"], model_b)
    assert model_b.embedded == []
    assert np.array_equal(vector, shared)
    # A batch embeds only what neither cache has.
    worker_b.vectors("m1", ["How can I pay?", "Is there parking?", "Is there parking?"], model_b)
    assert model_b.embedded == ["Is there parking?"]


def test_a_damaged_redis_entry_is_ignored_and_replaced():
    cache, model = QueryVectorCache(), CountingModel()
    key = cache._key("m1", "Hello")
    get_redis().set(key, b"not a vector")
    [vector] = cache.vectors("m1", ["Hello"], model)
    assert model.embedded == ["Hello"]
    assert get_redis().get(key) == vector.astype("<f4").tobytes()


def test_the_local_cache_keeps_only_the_newest_entries():
    cache, model = QueryVectorCache(size=2), CountingModel()
    for text in ("a", "b", "c"):
        cache.vectors("m1", [text], model)
    get_redis().flushdb()
    cache.vectors("m1", ["c", "b", "a"], model)
    assert model.embedded == ["a", "b", "c", "a"]


def test_search_embeds_a_repeated_customer_question_once(db, monkeypatch):
    business = make_business(db)
    calls: list[list[str]] = []
    bundled = embeddings.BUNDLED
    real_encode = bundled._encode_queries

    def counting_encode(texts):
        calls.append(list(texts))
        return real_encode(texts)

    monkeypatch.setattr(bundled, "_encode_queries", counting_encode)
    embeddings.QUERY_CACHE.clear()
    get_redis().flushdb()
    service.search(db, business_id=business.id, query="Do you have oat milk?", k=3)
    service.search(db, business_id=business.id, query="Do you have  oat milk?", k=3)
    service._QUERY_EMBEDDING.submit(lambda: None).result()  # the embedding thread is done
    assert calls == [["Do you have oat milk?"]]
