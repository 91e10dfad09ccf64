"""Every listener of the product, registered in one place.

Listeners live next to the work they do (`@listener("order.paid")` in their domain's module);
this list names those modules, and `backend.events` installs them all the first time an event
is published, in whichever process that is: a worker, the scheduler, the web app, the CLI or a
test. No entry point has to remember an import.

To add listeners: put them in a module of your domain and add the module's dotted name to
`LISTENER_MODULES` (tests/backend/conversations/test_listeners.py fails while a module using
`@listener` is missing from it). Modules are imported by name, so the pipeline's code never
depends on the domains that listen to it (the import-linter layers stay as drawn).
"""

from __future__ import annotations

import importlib
import logging
import threading

log = logging.getLogger(__name__)

LISTENER_MODULES: tuple[str, ...] = (
    "backend.live",  # every event → open dashboard pages of the business (Redis pub/sub)
    "backend.handoff.tasks",  # handoff.requested → route; agent message.created → SLA clocks
    "backend.notifications.tasks",  # lead.created → notify the team
    "backend.outgoing.tasks",  # message/handoff/order/lead events → outgoing webhooks
    "backend.billing.listeners",  # billing.limit_reached → tell the owners, once a month
    "backend.ops.listeners",  # handoffs and failed sends → /metrics counters
    "backend.ads.tasks",  # customer message.created with an ad's ref code → count it
    "backend.onboarding.listeners",  # onboarding.completed → tell the owners "all set", once
    "backend.templates.listeners",  # a broadcast's message status → broadcast.updated
)

_lock = threading.RLock()
_installed = False


def install() -> None:
    """Import every listener module once per process (later calls do nothing).

    A module that fails to import is logged and skipped: the other listeners still run.
    """
    global _installed
    if _installed:
        return
    with _lock:
        if _installed:
            return
        for name in LISTENER_MODULES:
            try:
                importlib.import_module(name)
            except Exception:
                log.exception("listener module %s failed to import; its listeners are off", name)
        _installed = True
