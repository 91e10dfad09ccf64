"""Rate limits on Redis (the `limits` library), shared by every process serving BizBot."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import lru_cache

from limits import RateLimitItem, parse
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter

from backend.core.redis import get_redis, redis_url


@dataclass(frozen=True)
class RateLimited(Exception):
    """Too many requests: `retry_after` seconds until the next one is allowed."""

    limit: str
    retry_after: int

    def __str__(self) -> str:
        return f"rate limit {self.limit} reached; try again in {self.retry_after} s"


@lru_cache(maxsize=1)
def _limiter() -> MovingWindowRateLimiter:
    url = redis_url()
    uri = "redis+unix://" + url.removeprefix("unix://") if url.startswith("unix://") else url
    # The process's own connection pool: one set of connections for queue, events and limits.
    storage = RedisStorage(uri, connection_pool=get_redis().connection_pool, key_prefix="bizbot")
    return MovingWindowRateLimiter(storage)


@lru_cache(maxsize=64)
def _item(limit: str) -> RateLimitItem:
    return parse(limit)


def hit(limit: str, *keys: str) -> None:
    """Count one request against `limit` (e.g. "20/minute") for `keys`; RateLimited when over."""
    item = _item(limit)
    limiter = _limiter()
    if limiter.hit(item, *keys):
        return
    stats = limiter.get_window_stats(item, *keys)
    raise RateLimited(limit=limit, retry_after=max(1, math.ceil(stats.reset_time - time.time())))


def reset_cache() -> None:
    """Forget the limiter (after the Redis URL changed, in tests)."""
    _limiter.cache_clear()
