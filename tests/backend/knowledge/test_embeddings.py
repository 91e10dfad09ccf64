"""The bundled e5 model, and an OpenAI-compatible embeddings endpoint (a local fake server)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from backend.core.config import settings
from backend.knowledge import embeddings
from backend.knowledge.embeddings import EmbeddingError, LocalE5Embedder, RemoteEmbedder


def test_bundled_model_gives_normalised_384_dimension_vectors():
    embedder = embeddings.get_embedder()
    assert isinstance(embedder, LocalE5Embedder)
    assert embedder is embeddings.get_embedder()
    queries = embedder.embed_queries(["When are you open?"])
    passages = embedder.embed_passages(["We open at 7am.", "Free wifi in the café."])
    assert queries.shape == (1, 384)
    assert passages.shape == (2, 384)
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-3)
    # e5 embeds the two sides with different prefixes, so the same text differs.
    same = embedder.embed_passages(["When are you open?"])[0]
    assert not np.allclose(queries[0], same)
    assert float(passages[0] @ queries[0]) > float(passages[1] @ queries[0])
    assert embedder.embed_passages([]).shape == (0, 384)


class _FakeEmbeddings(BaseHTTPRequestHandler):
    """Speaks OpenAI's POST /v1/embeddings; vectors of `dimensions` floats derived from the text."""

    dimensions = 384
    requests: list[dict] = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(
            {"path": self.path, "auth": self.headers["Authorization"], **body}
        )
        data = []
        for index, text in enumerate(body["input"]):
            rng = np.random.default_rng(sum(text.encode()))
            vector = rng.normal(size=self.dimensions) * 3  # not normalised, as some servers do
            data.append({"object": "embedding", "index": index, "embedding": vector.tolist()})
        payload = json.dumps(
            {
                "object": "list",
                "data": list(reversed(data)),  # the index, not the order, says which is which
                "model": body["model"],
                "usage": {"prompt_tokens": 1, "total_tokens": 1},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_endpoint(monkeypatch) -> Iterator[type[_FakeEmbeddings]]:
    _FakeEmbeddings.requests = []
    _FakeEmbeddings.dimensions = 384
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeEmbeddings)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setattr(
        settings, "embeddings_base_url", f"http://127.0.0.1:{server.server_port}/v1"
    )
    monkeypatch.setattr(settings, "embeddings_api_key", "sk-test")
    monkeypatch.setattr(settings, "embeddings_model", "multilingual-e5-small")
    embeddings._embedder.cache_clear()
    yield _FakeEmbeddings
    server.shutdown()
    server.server_close()
    embeddings._embedder.cache_clear()


def test_remote_endpoint_gets_the_raw_text_and_vectors_come_back_normalised(fake_endpoint):
    embedder = embeddings.get_embedder()
    assert isinstance(embedder, RemoteEmbedder)
    assert embedder.name == "remote/multilingual-e5-small"
    vectors = embedder.embed_passages(["We open at 7am.", "Free wifi."])
    [request] = fake_endpoint.requests
    assert request["path"] == "/v1/embeddings"
    assert request["auth"] == "Bearer sk-test"
    assert request["model"] == "multilingual-e5-small"
    assert request["input"] == ["We open at 7am.", "Free wifi."]
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    rng = np.random.default_rng(sum(b"Free wifi."))
    expected = rng.normal(size=384)
    assert np.allclose(vectors[1], expected / np.linalg.norm(expected), atol=1e-5)


def test_remote_e5_model_can_be_given_its_prefixes(fake_endpoint, monkeypatch):
    monkeypatch.setattr(settings, "embeddings_query_prefix", "query: ")
    embeddings.get_embedder().embed_queries(["open?"])
    assert fake_endpoint.requests[-1]["input"] == ["query: open?"]


def test_remote_model_with_the_wrong_dimension_is_a_clear_error(fake_endpoint):
    fake_endpoint.dimensions = 768
    with pytest.raises(EmbeddingError) as error:
        embeddings.get_embedder().embed_queries(["open?"])
    message = str(error.value)
    assert "returns 768-dimensional vectors; BizBot stores 384" in message
    assert "EMBEDDINGS_MODEL" in message


def test_unreachable_endpoint_names_the_settings(monkeypatch):
    monkeypatch.setattr(settings, "embeddings_base_url", "http://127.0.0.1:9/v1")
    embeddings._embedder.cache_clear()
    try:
        embedder = embeddings.get_embedder()
        embedder._client = embedder._client.with_options(max_retries=0, timeout=2)
        with pytest.raises(EmbeddingError, match="Check EMBEDDINGS_BASE_URL"):
            embedder.embed_queries(["open?"])
    finally:
        embeddings._embedder.cache_clear()
