"""The System page refreshes through the tab's one live listener: its clock, no loop of its own."""

from __future__ import annotations

import pytest

from state import live
from state.live import TICK_SECONDS, LiveBatch, live_consumer
from state.notifications import BellState
from state.system import REFRESH_SECONDS, SystemState


def _consumer(cls: type) -> live._Consumer:
    [found] = [c for c in live._CONSUMERS if c.cls is cls]
    return found


def test_the_system_page_is_woken_by_its_clock_only_on_its_own_route():
    page = _consumer(SystemState)
    assert page.tick_seconds == REFRESH_SECONDS < TICK_SECONDS
    assert page.wants("/system", LiveBatch(tick=True))
    assert not page.wants("/leads", LiveBatch(tick=True))
    # A business's events say nothing about the installation's workers and queues.
    assert not page.wants("/system", LiveBatch.of([{"event": "message.created"}]))
    assert not hasattr(SystemState, "auto_refresh")


def test_each_consumer_on_a_page_ticks_at_its_own_interval():
    on_system = [c for c in live._CONSUMERS if c.shows_on("/system")]
    page = _consumer(SystemState)
    others = {c for c in on_system if c is not page}
    assert _consumer(BellState) in others  # the bell in the header shows on every page
    clock = live._Clock(on_system, 100.0)
    assert clock.next_at() == 100.0 + REFRESH_SECONDS
    assert clock.due(100.0 + REFRESH_SECONDS - 0.1) == frozenset()
    ticks = [clock.due(100.0 + REFRESH_SECONDS * n) for n in range(1, 5)]
    assert ticks == [{page}] * 3 + [{page} | others]  # at 5, 10, 15 s; 20 s for the others
    assert clock.next_at() == 100.0 + 5 * REFRESH_SECONDS


def test_a_page_without_consumers_never_ticks_and_a_tick_must_be_positive():
    assert live._Clock([], 0.0).next_at() == float("inf")
    with pytest.raises(ValueError, match="tick_seconds must be a positive number"):
        live_consumer(lambda actor, request, shared: None, tick_seconds=0)
