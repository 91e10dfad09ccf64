"""RQ jobs of the channels domain."""

from __future__ import annotations

from backend.channels import service
from backend.core.db import session_scope


def purge_webhook_bodies() -> int:
    """Delete raw webhook bodies older than WEBHOOK_RETENTION_DAYS (run periodically)."""
    with session_scope() as session:
        return service.purge_deliveries(session)
