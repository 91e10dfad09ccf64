"""Jobs of payments: the minute sweep that expires links and asks about pending mobile money."""

from __future__ import annotations

import logging

from backend.core.db import session_scope
from backend.notifications import service as notifications
from backend.payments import service
from backend.payments.base import ProviderError
from backend.payments.schemas import PaymentError

log = logging.getLogger(__name__)


def sweep_payments() -> dict[str, int]:
    """Every minute: expire links past their time; query the provider about push payments
    pending for over a minute (each in its own transaction, so one failing stops no other)."""
    with session_scope() as session:
        expired = service.expire_links(session)
        pending = service.pending_push_payments(session)
    totals = {"expired_links": expired, "checked": 0, "paid": 0, "failed_checks": 0}
    for business_id, payment_id in pending:
        try:
            with session_scope() as session:
                outcome = service.confirm_payment(
                    session, business_id=business_id, payment_id=payment_id
                )
        except (ProviderError, PaymentError) as exc:
            totals["failed_checks"] += 1
            log.warning("payment %s: status query failed: %s", payment_id, exc)
            continue
        except Exception:  # One broken adapter must not stop the sweep of the others.
            totals["failed_checks"] += 1
            log.exception("payment %s: status query crashed", payment_id)
            continue
        totals["checked"] += 1
        totals["paid"] += outcome == "paid"
    return totals


def notify_payment_received(business_id: int, payment_id: int) -> int:
    """Tell the business's owners and admins a payment arrived (once per payment)."""
    with session_scope() as session:
        notice = service.paid_notice(session, business_id=business_id, payment_id=payment_id)
        if notice is None:
            return 0
        return len(
            notifications.notify_payment_received(
                session, business_id=business_id, payment_id=payment_id, **notice
            )
        )
