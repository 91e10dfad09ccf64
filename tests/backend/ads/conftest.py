"""Fixtures of the Ads Studio tests: offline by default, or pointed at the fake OpenAI server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from backend.ai import llm
from backend.core.config import settings
from tests.fakes.openai_server import FakeOpenAI


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No LLM unless a test asks for `fake_openai`."""
    monkeypatch.setattr(settings, "openai_api_key", None)
    monkeypatch.setattr(settings, "openai_base_url", None)
    monkeypatch.setattr(settings, "llm_model", "fake-gpt")
    llm._client.cache_clear()


@pytest.fixture
def fake_openai(_offline: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    """A running fake OpenAI server that the settings point at."""
    with FakeOpenAI() as server:
        monkeypatch.setattr(settings, "openai_base_url", server.url)
        monkeypatch.setattr(settings, "openai_api_key", server.api_key)
        yield server
    llm._client.cache_clear()
