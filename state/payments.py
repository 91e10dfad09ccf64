"""The Integrations page's payment providers: connect, test, switch on or off, remove.

Secrets go to the payments service and never come back: the page only learns which keys are
set. The payments service takes a business id, so this state checks the member's role first.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import reflex as rx

from backend.auth import service as auth
from backend.auth.permissions import Actor, Permission, PermissionDenied
from backend.core.db import session_scope
from backend.payments import registry
from backend.payments import service as payments
from backend.payments.registry import UnknownProvider
from backend.payments.schemas import PaymentError, ProviderView
from state.base import BaseState


@dataclass(frozen=True)
class ProviderRow:
    """One connected provider account, as the card shows it (no secrets)."""

    id: int
    kind: str
    label: str
    is_enabled: bool
    is_test_mode: bool
    currencies: str  # "KES, USD" or "any currency"
    keys_set: str  # "secret_key, webhook_secret"
    missing: str  # required keys without a value
    webhook_url: str


@dataclass(frozen=True)
class KindOption:
    """A provider kind the owner can connect."""

    kind: str
    label: str


@dataclass(frozen=True)
class CredentialField:
    """One credential input of the add form."""

    name: str
    label: str
    required: bool


def provider_row(view: ProviderView) -> ProviderRow:
    """A provider account as the card shows it."""
    return ProviderRow(
        id=view.id,
        kind=view.kind,
        label=view.label,
        is_enabled=view.is_enabled,
        is_test_mode=view.is_test_mode,
        currencies=", ".join(view.currencies) or "any currency it supports",
        keys_set=", ".join(view.credentials_set),
        missing=", ".join(view.missing),
        webhook_url=view.webhook_url,
    )


def kind_options() -> list[KindOption]:
    """Every provider kind with an adapter installed."""
    options = []
    for kind in registry.kinds():
        try:
            options.append(KindOption(kind, registry.get_provider(kind).label))
        except (UnknownProvider, ImportError):
            continue
    return options


def credential_fields(kind: str) -> list[CredentialField]:
    """The credential inputs of a provider kind: required first, then optional."""
    try:
        adapter = registry.get_provider(kind)
    except (UnknownProvider, ImportError):
        return []
    required = [CredentialField(k, k.replace("_", " ").capitalize(), True)
                for k in adapter.credential_fields]  # fmt: skip
    optional = [CredentialField(k, k.replace("_", " ").capitalize() + " (optional)", False)
                for k in getattr(adapter, "optional_credential_fields", ())]  # fmt: skip
    return required + optional


def _message(exc: Exception) -> str:
    return getattr(exc, "message", None) or str(exc)


def _currencies(text: str) -> list[str]:
    return [c.strip().upper() for c in text.replace(";", ",").split(",") if c.strip()]


class PaymentsState(BaseState):
    """The business's payment provider accounts."""

    providers: list[ProviderRow] = []
    kinds: list[KindOption] = []
    loaded_payments: bool = False

    add_open: bool = False
    add_kind: str = ""
    add_fields: list[CredentialField] = []
    add_error: str = ""

    # Provider id (as text) -> what the last test said; and which tests are running.
    test_results: dict[str, str] = {}
    test_ok: dict[str, bool] = {}
    testing: list[int] = []

    remove_open: bool = False
    remove_id: int = 0
    remove_label: str = ""

    def _manager(self) -> Actor | None:
        actor = self.current_actor()
        if actor is None or not actor.can(Permission.INTEGRATIONS_MANAGE):
            return None
        return actor

    def _read(self, actor: Actor) -> None:
        with session_scope() as session:
            views = payments.list_providers(session, business_id=actor.business_id)
        self.providers = [provider_row(v) for v in views]
        self.loaded_payments = True

    @rx.event
    def load_payments(self):
        """List the provider accounts and the kinds that can be added."""
        actor = self._manager()
        if actor is None:
            return None
        self.kinds = kind_options()
        self._read(actor)
        return None

    # --- adding ------------------------------------------------------------------------------

    @rx.event
    def open_add(self):
        """Open the add form on the first kind."""
        self.kinds = self.kinds or kind_options()
        first = self.kinds[0].kind if self.kinds else ""
        self.add_kind, self.add_fields, self.add_error = first, credential_fields(first), ""
        self.add_open = True

    @rx.event
    def set_add_open(self, is_open: bool):
        """Open or close the add form."""
        self.add_open = is_open

    @rx.event
    def set_add_kind(self, kind: str):
        """Show the credential inputs of another kind."""
        self.add_kind, self.add_fields, self.add_error = kind, credential_fields(kind), ""

    @rx.event
    def save_provider(self, form: dict[str, Any]):
        """Connect the provider with the typed keys; it stays off until its test succeeds."""
        self.add_error = ""
        actor = self._manager()
        if actor is None:
            self.add_error = str(PermissionDenied(self.role, Permission.INTEGRATIONS_MANAGE))
            return None
        credentials = {f.name: str(form.get(f"cred_{f.name}") or "").strip()
                       for f in self.add_fields}  # fmt: skip
        config = {}
        base_url = str(form.get("base_url") or "").strip()
        if base_url:
            config["base_url"] = base_url
        try:
            with session_scope() as session:
                provider_id = payments.add_provider(
                    session,
                    business_id=actor.business_id,
                    kind=self.add_kind,
                    credentials=credentials,
                    config=config,
                    currencies=_currencies(str(form.get("currencies") or "")),
                    is_test_mode=str(form.get("test_mode") or "") in ("on", "true"),
                )
        except (PaymentError, ValueError) as exc:
            self.add_error = _message(exc)
            return None
        self.add_open = False
        self._read(actor)
        return [
            rx.toast.success("Saved. Testing the connection…"),
            PaymentsState.test_provider(provider_id),
        ]

    # --- testing, switching, removing --------------------------------------------------------

    @rx.event(background=True)
    async def test_provider(self, provider_id: int):
        """Try the keys with the provider (a network call, off the websocket); on success the
        provider is switched on."""
        async with self:
            if provider_id in self.testing:
                return
            self.testing = [*self.testing, provider_id]
            token = self._session_token()
        try:
            ok, text = await asyncio.to_thread(_test, token, provider_id)
        finally:
            async with self:
                self.testing = [i for i in self.testing if i != provider_id]
        async with self:
            self.test_results = {**self.test_results, str(provider_id): text}
            self.test_ok = {**self.test_ok, str(provider_id): ok}
            actor = self._manager()
            if actor is not None:
                self._read(actor)

    @rx.event
    def toggle_provider(self, provider_id: int, is_enabled: bool):
        """Switch a provider on or off for new payments."""
        actor = self._manager()
        if actor is None:
            return rx.toast.error("Your role cannot change payment providers.")
        try:
            with session_scope() as session:
                view = payments.update_provider(
                    session,
                    business_id=actor.business_id,
                    provider_id=provider_id,
                    is_enabled=is_enabled,
                )
        except PaymentError as exc:
            return rx.toast.error(_message(exc))
        self._read(actor)
        return rx.toast.success(f"{view.label} is {'on' if view.is_enabled else 'off'}.")

    @rx.event
    def ask_remove(self, provider_id: int, label: str):
        """Ask the owner to confirm removing a provider."""
        self.remove_id, self.remove_label, self.remove_open = provider_id, label, True

    @rx.event
    def set_remove_open(self, is_open: bool):
        """Open or close the remove confirmation."""
        self.remove_open = is_open

    @rx.event
    def confirm_remove(self):
        """Disconnect the provider the owner confirmed (its past payments stay)."""
        self.remove_open = False
        actor = self._manager()
        if actor is None:
            return rx.toast.error("Your role cannot change payment providers.")
        try:
            with session_scope() as session:
                payments.remove_provider(
                    session, business_id=actor.business_id, provider_id=self.remove_id
                )
        except PaymentError as exc:
            return rx.toast.error(_message(exc))
        self._read(actor)
        return rx.toast.success(f"{self.remove_label} removed.")


def _actor_for(token: str | None) -> Actor | None:
    with session_scope() as session:
        info = auth.resolve_session(session, token=token)
    return info.actor if info else None


def _test(token: str | None, provider_id: int) -> tuple[bool, str]:
    actor = _actor_for(token)
    if actor is None or not actor.can(Permission.INTEGRATIONS_MANAGE):
        return False, "Your session has ended or your role cannot test providers; log in again."
    try:
        with session_scope() as session:
            info = payments.test_connection(
                session, business_id=actor.business_id, provider_id=provider_id
            )
    except PaymentError as exc:
        return False, _message(exc)
    if info.ok:
        return True, f"Connected to {info.display_name or 'the account'}."
    return False, info.error or "The provider refused the keys."
