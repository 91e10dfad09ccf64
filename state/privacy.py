"""The Privacy page: what BizBot stores, the retention setting, and contact export/erasure."""

from __future__ import annotations

import json
from datetime import datetime

import reflex as rx

from backend.auth.permissions import Actor, Permission, PermissionDenied
from backend.core.db import session_scope
from backend.privacy import service as privacy
from backend.privacy.schemas import ContactNotFound, PrivacyError
from state.base import BaseState


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "never"


class PrivacyState(BaseState):
    """Owners and admins: retention, and a contact search with export and erase."""

    retention_days: str = ""
    last_purge: str = ""
    retention_error: str = ""
    query: str = ""
    matches: list[dict[str, str]] = []
    error: str = ""
    # The contact whose erasure is being confirmed (typed "ERASE").
    erase_id: str = ""
    erase_label: str = ""
    erased_summary: str = ""

    def _actor(self) -> Actor | None:
        actor = self.current_actor()
        self.section = "settings"
        self.section_allowed = actor is not None and actor.can(Permission.MEMBERS_MANAGE)
        return actor if self.section_allowed else None

    def _ip(self) -> str | None:
        return self.router.session.client_ip or None

    def _read(self, session, actor: Actor) -> None:
        view = privacy.get_retention(session, actor=actor)
        self.retention_days = str(view.conversation_days or "")
        self.last_purge = (
            f"Last purge: {_when(view.last_purge_at)} ({view.last_purge_count} conversations)"
            if view.last_purge_at
            else ""
        )
        self.matches = [
            {
                "id": str(m.id),
                "name": m.name or ("(erased)" if m.erased else "(no name)"),
                "email": m.email or "—",
                "phone": m.phone or "—",
                "conversations": str(m.conversations),
                "since": _when(m.created_at),
                "erased": "yes" if m.erased else "",
            }
            for m in privacy.search_contacts(session, actor=actor, query=self.query)
        ]

    @rx.event
    def load(self):
        """Guard the page (owners and admins) and read the setting and the newest contacts."""
        actor = self._actor()
        if actor is None:
            return None if self.signed_in else self._login_redirect()
        self.error = self.retention_error = self.erase_id = self.erased_summary = ""
        self.query = ""
        with session_scope() as session:
            self._read(session, actor)
        return None

    @rx.event
    def search(self, form: dict):
        """Find contacts by name, email, phone or id."""
        actor = self._actor()
        if actor is None:
            return self._login_redirect()
        self.query = str(form.get("query", ""))[:200]
        self.error = ""
        with session_scope() as session:
            self._read(session, actor)
        return None

    @rx.event
    def save_retention(self, form: dict):
        """Set (or turn off) the retention period."""
        actor = self._actor()
        if actor is None:
            return self._login_redirect()
        self.retention_error = ""
        try:
            with session_scope() as session:
                privacy.set_retention(
                    session, actor=actor, days=str(form.get("days", "")), ip=self._ip()
                )
                self._read(session, actor)
        except (PrivacyError, PermissionDenied) as exc:
            self.retention_error = getattr(exc, "message", None) or str(exc)
            return None
        if self.retention_days:
            return rx.toast.success(
                f"Conversations idle for {self.retention_days} days will be purged."
            )
        return rx.toast.success("Retention is off: conversations are kept.")

    @rx.event
    def export(self, contact_id: str):
        """Download everything BizBot holds about the contact as JSON."""
        actor = self._actor()
        if actor is None:
            return self._login_redirect()
        self.error = ""
        try:
            with session_scope() as session:
                data = privacy.export_contact(
                    session, actor=actor, contact_id=int(contact_id), ip=self._ip()
                )
        except (ContactNotFound, PermissionDenied) as exc:
            self.error = str(exc)
            return None
        return rx.download(
            data=json.dumps(data, ensure_ascii=False, indent=2),
            filename=f"bizbot-contact-{contact_id}.json",
        )

    @rx.event
    def ask_erase(self, contact_id: str, label: str):
        """Open the typed confirmation for erasing a contact."""
        self.erase_id, self.erase_label, self.error = contact_id, label, ""

    @rx.event
    def cancel_erase(self):
        """Close the confirmation."""
        self.erase_id = self.erase_label = ""

    @rx.event
    def erase(self, form: dict):
        """Erase the contact once ERASE was typed."""
        actor = self._actor()
        if actor is None:
            return self._login_redirect()
        self.error = ""
        try:
            with session_scope() as session:
                summary = privacy.erase_contact(
                    session, actor=actor, contact_id=int(self.erase_id or 0),
                    confirm=str(form.get("confirm", "")), ip=self._ip(),
                )  # fmt: skip
                self._read(session, actor)
        except (PrivacyError, ContactNotFound, PermissionDenied) as exc:
            self.error = getattr(exc, "message", None) or str(exc)
            return None
        self.erase_id = self.erase_label = ""
        self.erased_summary = (
            f"Contact {summary.contact_id} erased: {summary.messages_redacted} messages "
            f"redacted, {summary.files_deleted} files deleted, {summary.leads_deleted} leads "
            f"deleted, {summary.orders_anonymised} orders kept without the customer."
        )
        return rx.toast.success("Contact erased.")
