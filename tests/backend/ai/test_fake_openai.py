"""The fake OpenAI server speaks the real API shapes (checked with the official client)."""

from __future__ import annotations

import numpy as np
import openai
import pytest

from tests.fakes.openai_server import FakeError, FakeOpenAI


@pytest.fixture
def client(fake_openai: FakeOpenAI) -> openai.OpenAI:
    return openai.OpenAI(base_url=fake_openai.url, api_key=fake_openai.api_key, max_retries=0)


def test_chat_completion(client, fake_openai):
    fake_openai.queue("Hello there")
    response = client.chat.completions.create(
        model="fake-gpt", messages=[{"role": "user", "content": "hi"}]
    )
    assert response.choices[0].message.content == "Hello there"
    assert response.choices[0].finish_reason == "stop"
    assert response.usage.total_tokens == response.usage.prompt_tokens + 3
    assert fake_openai.chat_requests[0].body["messages"] == [{"role": "user", "content": "hi"}]


def test_streaming_ends_with_done_and_reports_usage(client, fake_openai):
    fake_openai.queue(lambda body: "A streamed answer that spans several chunks.")
    stream = client.chat.completions.create(
        model="fake-gpt",
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "A streamed answer that spans several chunks."
    assert len([c for c in chunks if c.choices]) > 3
    assert chunks[-1].usage.completion_tokens == 11


def test_errors_use_openais_shape(client, fake_openai):
    fake_openai.queue(FakeError(429, "Rate limit reached", "requests"))
    with pytest.raises(openai.RateLimitError, match="Rate limit reached"):
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])


def test_a_wrong_key_is_refused(fake_openai):
    bad = openai.OpenAI(base_url=fake_openai.url, api_key="sk-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.models.list()


def test_models(client):
    assert "fake-gpt" in [m.id for m in client.models.list()]


def test_embeddings_are_meaningful_in_float_and_base64(client):
    texts = [
        "query: When do you open?",
        "passage: We open at 8am, Monday to Saturday.",
        "passage: Delivery costs 200 KES.",
    ]
    as_floats = client.embeddings.create(model="e5", input=texts, encoding_format="float")
    default = client.embeddings.create(model="e5", input=texts)  # the client asks for base64
    a = np.array([d.embedding for d in as_floats.data])
    b = np.array([d.embedding for d in default.data])
    assert a.shape == (3, 384)
    assert np.allclose(a, b, atol=1e-6)
    assert a[0] @ a[1] > a[0] @ a[2] + 0.03
