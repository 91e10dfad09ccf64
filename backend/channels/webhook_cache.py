"""The webhook route's per-process cache of integration configs: no database read or decryption
per webhook.

An entry serves for at most CONFIG_TTL seconds, and never after any BizBot process committed a
change to a channel integration through the ORM: the commit moves an "epoch" in Redis, which the
route reads on every webhook (one GET), so a new app secret, a disconnect or a deletion applies
at once on every backend. A change made outside BizBot (plain SQL in psql) applies within
CONFIG_TTL.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import dataclass
from itertools import chain

from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from backend.channels.base import ChannelConfig
from backend.core.db import session_scope
from backend.core.redis import get_redis
from backend.models.channels import ChannelIntegration

log = logging.getLogger(__name__)

CONFIG_TTL = 5.0
EPOCH_KEY = "bizbot:channel-integrations:epoch"
# Webhooks naming unknown ids are cached too (a flood of them reads the database once per id and
# TTL), so the cache is bounded: past this many entries it starts afresh.
MAX_ENTRIES = 10_000
_CHANGED = "bizbot_channel_integration_changed"


@dataclass(frozen=True)
class _Entry:
    loaded_at: float
    epoch: bytes
    cfg: ChannelConfig | None
    refusal: tuple[str, int, str] | None  # WebhookRefused's message, status, code


_entries: dict[tuple[str, int], _Entry] = {}
_lock = threading.Lock()


def _clock() -> float:
    return time.monotonic()


def webhook_config(*, integration_id: int, kind: str) -> ChannelConfig:
    """The enabled integration a webhook URL names (cached), or WebhookRefused saying why."""
    from backend.channels.service import WebhookRefused

    epoch = current_epoch()
    key = (kind, integration_id)
    entry = _entries.get(key)
    now = _clock()
    if entry is None or entry.epoch != epoch or now - entry.loaded_at >= CONFIG_TTL:
        entry = _load(kind, integration_id, epoch, now)
    if entry.refusal is not None:
        message, status, code = entry.refusal
        raise WebhookRefused(message, status=status, code=code)
    assert entry.cfg is not None
    return entry.cfg


def _load(kind: str, integration_id: int, epoch: bytes, now: float) -> _Entry:
    from backend.channels import service as channels

    try:
        with session_scope() as session:
            cfg = channels.webhook_config(session, integration_id=integration_id, kind=kind)
        entry = _Entry(now, epoch, cfg, None)
    except channels.WebhookRefused as exc:
        if exc.status >= 500:  # BizBot's own trouble (unreadable credentials): ask again next time
            raise
        entry = _Entry(now, epoch, None, (str(exc), exc.status, exc.code))
    with _lock:
        if len(_entries) >= MAX_ENTRIES:
            _entries.clear()
        _entries[(kind, integration_id)] = entry
    return entry


def current_epoch() -> bytes:
    """The Redis epoch of integration configs (created when missing, e.g. after a FLUSHDB)."""
    redis = get_redis()
    value = redis.get(EPOCH_KEY)
    if value is None:
        redis.set(EPOCH_KEY, secrets.token_hex(8), nx=True)
        value = redis.get(EPOCH_KEY) or b""
    return value


def forget(kind: str | None = None, integration_id: int | None = None) -> None:
    """Drop this process's entry for one integration, or every entry."""
    with _lock:
        if kind is None or integration_id is None:
            _entries.clear()
        else:
            _entries.pop((kind, integration_id), None)


def changed() -> None:
    """Tell every process that integration configs changed (moves the epoch)."""
    forget()
    try:
        get_redis().set(EPOCH_KEY, secrets.token_hex(8))
    except RedisError as exc:  # the change is committed; other processes see it within the TTL
        log.warning("could not move the integration config epoch: %s", exc)


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _flush_context) -> None:
    if any(
        isinstance(obj, ChannelIntegration)
        for obj in chain(session.new, session.dirty, session.deleted)
    ):
        session.info[_CHANGED] = True


@event.listens_for(Session, "do_orm_execute")
def _note_bulk(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and any(
        mapper.class_ is ChannelIntegration for mapper in state.all_mappers
    ):
        state.session.info[_CHANGED] = True


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        changed()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_CHANGED, None)
