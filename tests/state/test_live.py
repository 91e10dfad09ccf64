"""The live subscription behind open pages: batching, sharing reads, one business per channel."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from backend.core.redis import get_redis
from backend.events import DomainEvent
from backend.live import push_live, tenant_channel
from state import live
from state.live import LiveBatch, SharedReads


def test_a_batch_names_its_conversations_and_addressees():
    batch = LiveBatch.of(
        [
            {"event": "message.created", "conversation_id": 7, "message_id": 1},
            {"event": "conversation.updated", "conversation_id": "8", "status": "human"},
            {"event": "notification.created", "user_id": 3, "notification_id": 9},
            {"no": "name"},
        ]
    )
    assert len(batch.events) == 3
    assert batch.conversation_ids() == {7, 8}
    assert batch.has("conversation.")
    assert not batch.has("sla.")
    assert batch.for_user(3, "notification.")
    assert not batch.for_user(4, "notification.")


def test_shared_reads_run_once_for_all_tabs():
    shared, calls = SharedReads(), []

    def read() -> str:
        calls.append(1)
        time.sleep(0.05)
        return "rows"

    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(shared.get(("rows", 1), read)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["rows"] * 8
    assert len(calls) == 1
    assert shared.get(("rows", 2), lambda: "other") == "other"


def test_a_failed_shared_read_is_tried_again_by_the_next_tab():
    shared = SharedReads()

    def fail() -> str:
        raise LookupError("gone")

    with pytest.raises(LookupError):
        shared.get("thread", fail)
    assert shared.get("thread", lambda: "found") == "found"


def _in_own_loop(scenario):
    """Run an async scenario on a fresh event loop in its own thread (another test's
    Playwright may own this thread's loop)."""
    outcome: list = []
    thread = threading.Thread(target=lambda: outcome.append(asyncio.run(scenario())))
    thread.start()
    thread.join(30)
    assert outcome, "the scenario did not finish"
    return outcome[0]


def _subscribers(business_id: int) -> int:
    return dict(get_redis().pubsub_numsub(tenant_channel(business_id)))[
        tenant_channel(business_id).encode()
    ]


def test_tabs_of_a_business_hear_its_events_together_and_never_another_business():
    async def scenario() -> tuple[list[LiveBatch], list[LiveBatch], int, int]:
        first, second = live._hub(101).join(), live._hub(101).join()
        other = live._hub(202).join()
        for _ in range(100):  # the hubs subscribe in the background
            if _subscribers(101) and _subscribers(202):
                break
            await asyncio.sleep(0.02)
        for n in range(5):
            push_live(DomainEvent("message.created", 101, {"conversation_id": n}))
        batch = await asyncio.wait_for(first.get(), 5)
        same = await asyncio.wait_for(second.get(), 5)
        await asyncio.sleep(0.3)
        got_other = [other.get_nowait() for _ in range(other.qsize())]
        open_channels = _subscribers(101)
        for hub_id, queue in ((101, first), (101, second), (202, other)):
            live._HUBS[hub_id].leave(queue)
        await asyncio.sleep(0.3)
        return [batch, same], got_other, open_channels, _subscribers(101) + _subscribers(202)

    (batch, same), other, open_channels, left = _in_own_loop(scenario)
    # One subscription per business per process, one batch for the burst, the same for both.
    assert open_channels == 1
    assert [e["conversation_id"] for e in batch.events] == [0, 1, 2, 3, 4]
    assert same is batch
    assert other == []
    assert left == 0
    assert live._HUBS == {}
