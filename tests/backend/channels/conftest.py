"""Fake Graph API and Telegram Bot API servers, with BizBot's settings pointed at them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.backend.channels.helpers import fake_graph, fake_telegram
from tests.fakes.graph_server import FakeGraph
from tests.fakes.telegram_server import FakeTelegram


@pytest.fixture
def graph(monkeypatch) -> Iterator[FakeGraph]:
    """The fake Graph API with the test WhatsApp number, Facebook Page and Instagram account."""
    with fake_graph(monkeypatch) as server:
        yield server


@pytest.fixture
def telegram(monkeypatch) -> Iterator[FakeTelegram]:
    """The fake Telegram Bot API with the test bot."""
    with fake_telegram(monkeypatch) as server:
        yield server
