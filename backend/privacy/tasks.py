"""Jobs of privacy: delete an erased contact's files; the periodic retention purge."""

from __future__ import annotations

import logging

from backend.core.db import session_scope
from backend.privacy import service

log = logging.getLogger(__name__)


def delete_files(business_id: int, paths: list[str]) -> int:
    """Delete files of an erasure once it is committed; how many were deleted."""
    return service.delete_files(business_id=business_id, paths=paths)


def purge_business(business_id: int, days: int) -> dict[str, int]:
    """Purge one business's conversations idle for more than `days`, batch by batch (each
    batch its own transaction, files deleted after it commits); audited once with the counts."""
    totals = {"conversations": 0, "messages": 0, "files": 0}
    while True:
        with session_scope() as session:
            batch = service.purge_batch(session, business_id=business_id, days=days)
        totals["files"] += service.delete_files(business_id=business_id, paths=batch.files)
        totals["conversations"] += batch.conversations
        totals["messages"] += batch.messages
        if batch.conversations < service.PURGE_BATCH:
            break
    if totals["conversations"]:
        with session_scope() as session:
            service.record_purge(session, business_id=business_id, days=days, **totals)
    return totals


def purge_retention() -> dict[str, int]:
    """Every hour: purge old conversations in every business with a retention period.

    Each business is purged on its own, so one failing never stops the others.
    """
    with session_scope() as session:
        policies = service.businesses_with_retention(session)
    totals = {"businesses": 0, "conversations": 0, "messages": 0, "files": 0}
    for business_id, days in policies:
        try:
            done = purge_business(business_id, days)
        except Exception:
            log.exception("retention purge of business %s failed", business_id)
            continue
        totals["businesses"] += 1
        for key, value in done.items():
            totals[key] += value
    if totals["conversations"]:
        log.info("retention purge: %s", totals)
    return totals
