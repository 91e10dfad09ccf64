"""Live push: every domain event of a business is published on its Redis channel.

Open dashboard pages of that business subscribe (a background event in their Reflex state) and
update within a second. One channel per tenant, so no page ever hears another business. The
events of one commit go out together, in order, in one Redis round trip.
"""

from __future__ import annotations

import json

from backend.core.redis import get_redis
from backend.events import DomainEvent, after_batch, listener


def tenant_channel(business_id: int) -> str:
    """The Redis pub/sub channel of one business's live events."""
    return f"bizbot:live:{business_id}"


def _publish_all(messages: list[tuple[str, str]]) -> None:
    if len(messages) == 1:
        get_redis().publish(*messages[0])
        return
    pipe = get_redis().pipeline(transaction=False)
    for channel, payload in messages:
        pipe.publish(channel, payload)
    pipe.execute()


@listener("*")
def push_live(domain_event: DomainEvent) -> None:
    """Publish the event for the business's open pages (with the rest of its commit's)."""
    payload = json.dumps({"event": domain_event.name, **domain_event.data}, default=str)
    message = (tenant_channel(domain_event.business_id), payload)
    if not after_batch("live", message, _publish_all):
        _publish_all([message])
