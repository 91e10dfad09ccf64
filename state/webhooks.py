"""The Webhooks page: the business's outgoing webhook endpoints and their deliveries."""

from __future__ import annotations

from datetime import datetime

import reflex as rx

from backend.auth.permissions import Actor, Permission, PermissionDenied
from backend.core.db import session_scope
from backend.outgoing import service as outgoing
from backend.outgoing.schemas import (
    EVENT_TYPES,
    DeliveryNotFound,
    EndpointNotFound,
    WebhookError,
)
from state.base import BaseState


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "—"


class WebhooksState(BaseState):
    """Endpoints (secret shown once), a test event, and deliveries with each attempt."""

    event_types: list[str] = list(EVENT_TYPES)
    endpoints: list[dict[str, str]] = []
    deliveries: list[dict[str, str]] = []
    # The attempts of the delivery whose details are open.
    open_delivery: str = ""
    attempts: list[dict[str, str]] = []
    error: str = ""
    # Shown once, right after an endpoint is added or its secret rotated.
    new_secret: str = ""
    new_secret_url: str = ""

    def _actor(self) -> Actor | None:
        actor = self.current_actor()
        self.section = "settings"
        self.section_allowed = actor is not None and actor.can(Permission.INTEGRATIONS_MANAGE)
        return actor if self.section_allowed else None

    def _refresh(self, session, actor: Actor) -> None:
        urls = {}
        rows = []
        for e in outgoing.list_endpoints(session, actor=actor):
            urls[e.id] = e.url
            rows.append(
                {
                    "id": str(e.id),
                    "url": e.url,
                    "events": ", ".join(e.events),
                    "secret_hint": e.secret_hint,
                    "status": "on" if e.is_enabled else "off",
                    "reason": e.disabled_reason or "",
                    "failures": str(e.consecutive_failures),
                    "last_success": _when(e.last_success_at),
                }
            )
        self.endpoints = rows
        views = outgoing.list_deliveries(session, actor=actor, limit=50)
        self.deliveries = [
            {
                "id": str(d.id),
                "webhook_id": d.webhook_id,
                "url": urls.get(d.endpoint_id, "—"),
                "event": d.event_type,
                "status": d.status,
                "attempts": str(d.attempts),
                "code": str(d.last_status_code or "—"),
                "error": d.last_error or "",
                "when": _when(d.created_at),
            }
            for d in views
        ]
        opened = next((d for d in views if str(d.id) == self.open_delivery), None)
        self.attempts = [
            {
                "number": str(a.number),
                "when": _when(a.created_at),
                "code": str(a.status_code or "—"),
                "duration": f"{a.duration_ms} ms",
                "result": "ok" if a.succeeded else (a.error or "failed"),
                "body": a.response_body or "",
            }
            for a in (opened.attempt_log if opened else [])
        ]

    def _do(self, work, success: str | None = None):
        """Run `work(session, actor)`, refresh, and show errors in the page."""
        actor = self._actor()
        if actor is None:
            return None if self.signed_in else self._login_redirect()
        self.error = ""
        try:
            with session_scope() as session:
                work(session, actor)
                self._refresh(session, actor)
        except (WebhookError, PermissionDenied, EndpointNotFound, DeliveryNotFound) as exc:
            self.error = getattr(exc, "message", None) or str(exc)
            return None
        return rx.toast.success(success) if success else None

    @rx.event
    def load(self):
        """Guard the page (owners and admins) and read endpoints and deliveries."""
        self.new_secret = self.new_secret_url = self.error = self.open_delivery = ""
        self.attempts = []
        return self._do(lambda session, actor: None)

    @rx.event
    def refresh(self):
        """Read the deliveries again (a test event is sent in the background)."""
        return self._do(lambda session, actor: None)

    @rx.event
    def create(self, form: dict):
        """Add an endpoint for the ticked events; show its secret once."""
        events = [e for e in EVENT_TYPES if form.get(f"event-{e}")]

        def work(session, actor):
            created = outgoing.create_endpoint(
                session, actor=actor, url=form.get("url", ""), events=events,
                description=form.get("description") or None, ip=self._ip(),
            )  # fmt: skip
            self.new_secret, self.new_secret_url = created.secret, created.endpoint.url

        return self._do(work, "Endpoint added.")

    def _ip(self) -> str | None:
        return self.router.session.client_ip or None

    @rx.event
    def rotate(self, endpoint_id: str):
        """Give an endpoint a new signing secret, shown once."""

        def work(session, actor):
            created = outgoing.rotate_secret(
                session, actor=actor, endpoint_id=int(endpoint_id), ip=self._ip()
            )
            self.new_secret, self.new_secret_url = created.secret, created.endpoint.url

        return self._do(work, "New secret made; the old one no longer signs.")

    @rx.event
    def toggle(self, endpoint_id: str, enable: bool):
        """Switch an endpoint on or off."""
        return self._do(
            lambda session, actor: outgoing.set_enabled(
                session, actor=actor, endpoint_id=int(endpoint_id), enabled=bool(enable),
                ip=self._ip(),
            ),
            "Endpoint switched on." if enable else "Endpoint switched off.",
        )  # fmt: skip

    @rx.event
    def delete(self, endpoint_id: str):
        """Delete an endpoint and its deliveries."""
        return self._do(
            lambda session, actor: outgoing.delete_endpoint(
                session, actor=actor, endpoint_id=int(endpoint_id), ip=self._ip()
            ),
            "Endpoint deleted.",
        )

    @rx.event
    def send_test(self, endpoint_id: str):
        """Queue a test event to an endpoint."""
        return self._do(
            lambda session, actor: outgoing.send_test(
                session, actor=actor, endpoint_id=int(endpoint_id)
            ),
            "Test event queued; press Refresh to see the answer.",
        )

    @rx.event
    def retry(self, delivery_id: str):
        """Send a failed delivery again."""
        return self._do(
            lambda session, actor: outgoing.retry_delivery(
                session, actor=actor, delivery_id=int(delivery_id)
            ),
            "Delivery queued again.",
        )

    @rx.event
    def show_attempts(self, delivery_id: str):
        """Open (or close) the attempts of one delivery."""
        self.open_delivery = "" if self.open_delivery == delivery_id else delivery_id
        return self._do(lambda session, actor: None)

    @rx.event
    def hide_secret(self):
        """Forget the secret shown once."""
        self.new_secret = self.new_secret_url = ""
