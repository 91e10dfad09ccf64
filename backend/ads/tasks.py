"""Listeners of the ads studio: conversations started from an ad's click-to-chat link."""

from __future__ import annotations

from backend.ads import repository, service
from backend.core.db import session_scope
from backend.events import BusinessFlag, DomainEvent, listener
from backend.models.ads import AdAsset


def _ad_links_exist(business_id: int, _key: object = None) -> bool:
    # Ref codes are given to copy assets (any status counts, as in count_conversation).
    with session_scope() as session:
        return bool(
            repository.list_assets(session, business_id=business_id, include_archived=True, limit=1)
        )


# Whether a business has any ad with a click-to-chat ref code, remembered for a few seconds per
# process (every customer message asks): a link saved in Ads Studio counts conversations at most
# AD_LINKS_TTL seconds later in the workers (at once in the process that saved it).
AD_LINKS_TTL = 5.0
_has_ad_links = BusinessFlag(_ad_links_exist, ttl=AD_LINKS_TTL, watch=(AdAsset,))


@listener("message.created")
def count_ad_conversation(domain_event: DomainEvent) -> None:
    """A customer's first message carrying an ad's ref code counts that conversation once."""
    data = domain_event.data
    if data.get("sender_type") != "customer" or not data.get("message_id"):
        return
    if not _has_ad_links(domain_event.business_id):
        return
    with session_scope() as session:
        service.count_conversation(
            session, business_id=domain_event.business_id, message_id=int(data["message_id"])
        )
