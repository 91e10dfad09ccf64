"""Live push: every domain event of a business is published on its Redis channel.

Open dashboard pages of that business subscribe (a background event in their Reflex state) and
update within a second. One channel per tenant, so no page ever hears another business.
"""

from __future__ import annotations

import json

from backend.core.redis import get_redis
from backend.events import DomainEvent, listener


def tenant_channel(business_id: int) -> str:
    """The Redis pub/sub channel of one business's live events."""
    return f"bizbot:live:{business_id}"


@listener("*")
def push_live(domain_event: DomainEvent) -> None:
    """Publish the event for the business's open pages."""
    payload = json.dumps({"event": domain_event.name, **domain_event.data}, default=str)
    get_redis().publish(tenant_channel(domain_event.business_id), payload)
