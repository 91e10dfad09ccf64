"""The Redis connection shared by the queue, live events and rate limits."""

from __future__ import annotations

from functools import lru_cache

from redis import Redis

from backend.core.config import settings
from backend.core.embedded import embedded_redis_url


def redis_url() -> str:
    """REDIS_URL when set, else the embedded Redis started by `make run`."""
    return settings.redis_url or embedded_redis_url()


@lru_cache(maxsize=1)
def get_redis() -> Redis:
    """The process-wide Redis client (bytes in, bytes out, as RQ expects)."""
    return Redis.from_url(redis_url(), socket_timeout=10, health_check_interval=30)
