"""Jobs of leads: the periodic follow-up reminders."""

from __future__ import annotations

import logging

from backend.core.db import session_scope
from backend.leads import service

log = logging.getLogger(__name__)


def remind_follow_ups() -> dict[str, int]:
    """Every minute: remind owners of leads whose follow-up came due (once per follow-up time).

    Each business runs in its own transaction, so one failing never stops the others.
    """
    with session_scope() as session:
        business_ids = service.businesses_with_due_follow_ups(session)
    totals = {"businesses": 0, "reminded": 0}
    for business_id in business_ids:
        try:
            with session_scope() as session:
                reminded = service.send_due_reminders(session, business_id=business_id)
        except Exception:
            log.exception("follow-up reminders of business %s failed", business_id)
            continue
        totals["businesses"] += 1
        totals["reminded"] += reminded
    if totals["reminded"]:
        log.info("lead follow-up reminders: %s", totals)
    return totals
