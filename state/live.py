"""Live updates for open pages: the business's Redis channel, heard by every open tab.

A dashboard page's on_load ends with `LiveState.start`, which starts one background task for the
tab. The task joins its process's hub for the signed-in member's business (one Redis
subscription to `bizbot:live:{business_id}` per process and business, never another business's
channel) and hands each batch of events to the page states registered with `@live_consumer`.
Events carry ids only: a consumer re-reads what it shows through the services, as the member.
Reads that do not depend on who is looking (a conversation's row, the board) are made once per
batch for all tabs of the process (`SharedReads`).

The task ends when the tab goes: Reflex cancels the page-load chain it belongs to when the
websocket disconnects or the tab navigates (the next page's on_load starts a fresh one); the task
also checks every few seconds that its tab is still connected and its session still valid
(logout). A reconnect runs on_load again, which starts it again; a second start for the same tab
replaces the first, so a tab never has two.

The same task is the tab's clock: every `tick_seconds` (TICK_SECONDS unless the consumer asks
for another) it hands each consumer shown on the page a tick batch, so relative times are
redone and a page that watches something other than the business's events (the System page's
workers and queues) re-reads it; no page runs a loop of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import threading
import time
from collections.abc import Callable, Collection, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import redis.asyncio as aioredis
import reflex as rx

from backend.auth import service as auth
from backend.auth.permissions import Actor
from backend.core.db import session_scope
from backend.core.redis import redis_url
from backend.live import tenant_channel
from state.base import BaseState

log = logging.getLogger(__name__)

# A consumer's default tick: relative times ("5 min ago", SLA time left) are redone this often.
TICK_SECONDS = 20.0
# How often a listener checks that its tab is connected and its session still valid.
CHECK_SECONDS = 5.0
# After the first event of a burst, wait this long for more so they are handled together.
BATCH_WINDOW_SECONDS = 0.03
# Tabs are updated at most this often: events arriving faster are handled together, so a busy
# business costs each open tab a few updates a second, however many messages arrive.
MIN_INTERVAL_SECONDS = 0.4
MAX_BATCH = 1000
RESYNC = "live.resync"
TICK = "live.tick"
T = TypeVar("T")
S = TypeVar("S", bound=type)


class SharedReads:
    """Reads made once for every tab that handles the same batch (in worker threads).

    Only reads whose result does not depend on who asks may be keyed without the member;
    anything per member (counts with "mine", notifications) has the user id in its key.
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._entries: dict[Hashable, tuple[threading.Lock, list]] = {}

    def get(self, key: Hashable, read: Callable[[], T]) -> T:
        """The value of `read()` for `key`, computed by the first tab that asks."""
        with self._guard:
            lock, box = self._entries.setdefault(key, (threading.Lock(), []))
        with lock:
            if not box:
                box.append(read())
            return box[0]


@dataclass(frozen=True)
class LiveBatch:
    """Events that arrived together, or a resync (the subscription started: refresh all) or a
    tick (time passed: refresh relative times)."""

    events: tuple[dict[str, Any], ...] = ()
    resync: bool = False
    tick: bool = False
    names: frozenset[str] = field(default_factory=frozenset)
    shared: SharedReads = field(default_factory=SharedReads, compare=False)

    @classmethod
    def of(cls, events: Iterable[dict[str, Any]]) -> LiveBatch:
        """A batch of real events."""
        found = tuple(e for e in events if isinstance(e, dict) and isinstance(e.get("event"), str))
        return cls(events=found, names=frozenset(str(e["event"]) for e in found))

    def has(self, *prefixes: str) -> bool:
        """Whether an event named like one of `prefixes` ("conversation." or an exact name) came."""
        return any(name.startswith(p) for name in self.names for p in prefixes)

    def conversation_ids(self) -> set[int]:
        """Every conversation the events name."""
        ids = set()
        for event in self.events:
            value = event.get("conversation_id")
            if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
                ids.add(int(value))
        return ids

    def for_user(self, user_id: int, *prefixes: str) -> bool:
        """Whether an event named like `prefixes` is addressed to member `user_id`."""
        return any(
            str(e["event"]).startswith(prefixes) and e.get("user_id") == user_id
            for e in self.events
        )


@dataclass(frozen=True)
class _Consumer:
    cls: type
    read: Callable[[Actor, Any, SharedReads], Any]
    routes: tuple[str, ...] | None  # the pages it shows on; None: every page
    events: tuple[str, ...] | None  # the events it may act on; None: all
    tick_seconds: float = TICK_SECONDS  # how often it is handed a tick batch

    def shows_on(self, path: str) -> bool:
        """Whether the page state is shown on the page at `path`."""
        return self.routes is None or path in self.routes

    def wants(self, path: str, batch: LiveBatch) -> bool:
        """Whether to wake the page state for this batch (without loading it)."""
        if not self.shows_on(path):
            return False
        return self.events is None or batch.resync or batch.tick or batch.has(*self.events)


_CONSUMERS: list[_Consumer] = []


def live_consumer(
    read: Callable[[Actor, Any, SharedReads], Any],
    *,
    routes: tuple[str, ...] | None = None,
    events: tuple[str, ...] | None = None,
    tick_seconds: float = TICK_SECONDS,
) -> Callable[[S], S]:
    """Register a page state to hear live events on the pages at `routes` (None: every page),
    when a batch has an event named like one of `events` (prefixes; None: any event; (): none,
    only resyncs and ticks), and a tick batch every `tick_seconds` while its page is open.

    The state defines `_live_request(self, batch, actor) -> request | None` (decide what to
    re-read, from plain data) and `_live_apply(self, request, result)` (show it; it may return
    an event handler to run next, such as a slow background follow-up); both run with the
    tab's state lock held. `read(actor, request, shared)` runs in a worker thread between
    the two and calls the services (through `shared` for reads that all tabs share).
    """

    if not tick_seconds > 0:
        raise ValueError(f"tick_seconds must be a positive number of seconds, not {tick_seconds}")

    def register(cls: S) -> S:
        _CONSUMERS.append(_Consumer(cls, read, routes, events, tick_seconds))
        return cls

    return register


def _decode(message: dict | None) -> dict[str, Any] | None:
    if not message or message.get("type") != "message":
        return None
    try:
        data = json.loads(message["data"])
    except (TypeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


class _Hub:
    """This process's subscription to one business's channel, fanned out to its open tabs."""

    def __init__(self, business_id: int) -> None:
        self.business_id = business_id
        self.tabs: set[asyncio.Queue[LiveBatch]] = set()
        self.task: asyncio.Task | None = None

    def join(self) -> asyncio.Queue[LiveBatch]:
        queue: asyncio.Queue[LiveBatch] = asyncio.Queue()
        self.tabs.add(queue)
        self.ensure_running()
        return queue

    def ensure_running(self) -> None:
        """Subscribe again if the subscription died (Redis restarted, say)."""
        if self.tabs and (self.task is None or self.task.done()):
            self.task = asyncio.create_task(self._run(), name=f"bizbot-live-{self.business_id}")

    def leave(self, queue: asyncio.Queue[LiveBatch]) -> None:
        self.tabs.discard(queue)
        if not self.tabs and self.task is not None:
            self.task.cancel()
            _HUBS.pop(self.business_id, None)

    async def _run(self) -> None:
        client = aioredis.from_url(redis_url())
        pubsub = client.pubsub()
        try:
            await pubsub.subscribe(tenant_channel(self.business_id))
            last = 0.0
            while self.tabs:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=60)
                if (first := _decode(message)) is None:
                    continue
                events = [first]
                deadline = max(time.monotonic() + BATCH_WINDOW_SECONDS, last + MIN_INTERVAL_SECONDS)
                while len(events) < MAX_BATCH:
                    left = deadline - time.monotonic()
                    message = await pubsub.get_message(
                        ignore_subscribe_messages=True, timeout=max(0.0, left)
                    )
                    if (data := _decode(message)) is not None:
                        events.append(data)
                    elif left <= 0:
                        break
                batch = LiveBatch.of(events)
                for queue in list(self.tabs):
                    queue.put_nowait(batch)
                last = time.monotonic()
        except Exception:  # Redis went away: the tabs notice the silence and keep checking.
            log.exception("live subscription of business %s failed", self.business_id)
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
                await client.aclose()


_HUBS: dict[int, _Hub] = {}
# This process's listener task of each tab (client token); a tab's websocket and its
# background events are served by one process.
_LISTENERS: dict[str, asyncio.Task] = {}


def _hub(business_id: int) -> _Hub:
    hub = _HUBS.get(business_id)
    if hub is None:
        hub = _HUBS[business_id] = _Hub(business_id)
    return hub


def _actor_for(token: str | None) -> Actor | None:
    with session_scope() as session:
        info = auth.resolve_session(session, token=token)
    return info.actor if info else None


_app_namespace: Any = None


def _tab_connected(client_token: str) -> bool:
    """Whether the tab's websocket is still connected to this process."""
    global _app_namespace
    if _app_namespace is None:
        try:
            from reflex.utils import prerequisites

            _app_namespace = prerequisites.get_and_validate_app().app.event_namespace
        except Exception:  # Not inside the Reflex backend (unit tests): assume connected.
            return True
    if _app_namespace is None:
        return True
    return client_token in _app_namespace.token_to_sid


def _merged(batch: LiveBatch, queue: asyncio.Queue[LiveBatch]) -> LiveBatch:
    """`batch` and any batches that queued up behind it, as one (for a tab that fell behind)."""
    more = []
    while not queue.empty():
        more.append(queue.get_nowait())
    if not more:
        return batch
    events = [e for b in (batch, *more) for e in b.events]
    return LiveBatch(
        events=tuple(events),
        names=frozenset(str(e["event"]) for e in events),
        shared=more[-1].shared,
    )


class _Clock:
    """When each consumer shown on a tab's page is next due a tick (monotonic seconds)."""

    def __init__(self, consumers: Iterable[_Consumer], now: float) -> None:
        self._next = {c: now + c.tick_seconds for c in consumers}

    def next_at(self) -> float:
        """When the next tick is due (infinity when no consumer shows on the page)."""
        return min(self._next.values(), default=math.inf)

    def due(self, now: float) -> frozenset[_Consumer]:
        """The consumers whose tick is due at `now`; their next one is counted from `now`."""
        found = frozenset(c for c, at in self._next.items() if at <= now)
        for consumer in found:
            self._next[consumer] = now + consumer.tick_seconds
        return found


class LiveState(BaseState):
    """Starts and runs the tab's live subscription; has no vars of its own to show."""

    @rx.event
    def start(self):
        """Start listening for this tab (the last on_load step of every dashboard page)."""
        if not self.signed_in:
            return None
        return LiveState.listen

    async def _deliver(
        self, batch: LiveBatch, actor: Actor, only: Collection[_Consumer] | None = None
    ) -> list:
        """Let every consumer shown on the tab's page (of `only`, when given) re-read and show
        what the batch changed; the events they ask to run next (slow follow-ups such as
        translations).

        The tab's state lock is held throughout, so nothing the member does in between can be
        overwritten by an older read; the reads are bounded (one page of rows, one thread) and
        mostly shared with the process's other tabs.
        """
        follow_ups = []
        async with self:
            path = self.router.url.path.rstrip("/") or "/"
            for consumer in _CONSUMERS:
                if (only is not None and consumer not in only) or not consumer.wants(path, batch):
                    continue
                page = await self.get_state(consumer.cls)
                request = page._live_request(batch, actor)
                if request is None:
                    continue
                try:
                    result = await asyncio.to_thread(consumer.read, actor, request, batch.shared)
                except Exception:  # One page's failure never stops the others' updates.
                    log.exception("live read for %s failed", consumer.cls.__name__)
                    continue
                if (follow_up := page._live_apply(request, result)) is not None:
                    follow_ups.append(follow_up)
        return follow_ups

    @rx.event(background=True)
    async def listen(self):
        """Listen on the business's live channel for as long as this tab is open."""
        async with self:
            client_token = self.router.session.client_token
            session_token = self._session_token()
            signed_in = self.signed_in
            path = self.router.url.path.rstrip("/") or "/"
        if not signed_in or not client_token:
            return
        me = asyncio.current_task()
        previous = _LISTENERS.get(client_token)
        if previous is not None and previous is not me and not previous.done():
            previous.cancel()  # a reconnect or a new page: the newest listener wins
        if me is not None:
            _LISTENERS[client_token] = me
        hub = queue = None
        try:
            actor = await asyncio.to_thread(_actor_for, session_token)
            if actor is None:
                return
            hub = _hub(actor.business_id)
            queue = hub.join()
            # Whatever changed between the page's load and the subscription shows now.
            for follow_up in await self._deliver(
                LiveBatch(resync=True, names=frozenset({RESYNC})), actor
            ):
                yield follow_up
            last_check = time.monotonic()
            # A new page starts a new listener, so the consumers shown stay these.
            clock = _Clock((c for c in _CONSUMERS if c.shows_on(path)), last_check)
            while _LISTENERS.get(client_token) is me:
                wake_at = min(last_check + CHECK_SECONDS, clock.next_at())
                try:
                    batch = await asyncio.wait_for(
                        queue.get(), timeout=max(0.0, wake_at - time.monotonic())
                    )
                except TimeoutError:
                    batch = None
                now = time.monotonic()
                if now - last_check >= CHECK_SECONDS:
                    # Still open, and still signed in (a logout elsewhere ends the session).
                    last_check = now
                    if not _tab_connected(client_token):
                        return
                    current = await asyncio.to_thread(_actor_for, session_token)
                    if current is None or current.business_id != actor.business_id:
                        return
                    actor = current
                    hub.ensure_running()
                deliveries: list[tuple[LiveBatch, frozenset[_Consumer] | None]] = []
                if batch is not None:
                    deliveries.append((_merged(batch, queue), None))
                # Ticks come on time even while events keep arriving (a busy business).
                if due := clock.due(now):
                    deliveries.append((LiveBatch(tick=True, names=frozenset({TICK})), due))
                for update, only in deliveries:
                    try:
                        follow_ups = await self._deliver(update, actor, only)
                    except Exception:  # A failed update must not end the tab's live updates.
                        log.exception("live update of tab %s failed", client_token[:8])
                        continue
                    for follow_up in follow_ups:
                        yield follow_up
        finally:
            if _LISTENERS.get(client_token) is me:
                del _LISTENERS[client_token]
            if hub is not None and queue is not None:
                hub.leave(queue)
