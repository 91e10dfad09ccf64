"""The Settings (business profile) and Users & Roles pages."""

from __future__ import annotations

from dataclasses import asdict

import reflex as rx

from backend.auth.permissions import PermissionDenied
from backend.core.db import session_scope
from backend.tenants import service as tenants
from state.base import BaseState


class SettingsState(BaseState):
    """The business profile form (owners)."""

    profile: dict[str, str] = {}
    errors: dict[str, str] = {}
    saved: bool = False

    @rx.event
    def load(self):
        """Guard the page and read the profile."""
        actor = self._enter("settings")
        if actor is None:
            return None if self.signed_in else self._login_redirect()
        with session_scope() as session:
            profile = tenants.get_profile(session, actor=actor)
        self.profile = {k: str(v) for k, v in asdict(profile).items()}
        self.errors, self.saved = {}, False
        return None

    @rx.event
    def save(self, form: dict):
        """Save the profile; errors name the field."""
        self.errors, self.saved = {}, False
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        try:
            with session_scope() as session:
                profile = tenants.update_profile(
                    session,
                    actor=actor,
                    name=form.get("name", ""),
                    timezone=form.get("timezone", ""),
                    default_language=form.get("default_language", ""),
                    currency=form.get("currency", ""),
                )
        except tenants.BusinessError as exc:
            self.errors = {exc.field or "form": exc.message}
            return None
        except PermissionDenied as exc:
            self.errors = {"form": str(exc)}
            return None
        self.profile = {k: str(v) for k, v in asdict(profile).items()}
        self.business_name = profile.name
        self.saved = True
        return rx.toast.success("Business profile saved.")


class TeamState(BaseState):
    """The member list (owners and admins)."""

    members: list[tenants.Member] = []

    @rx.event
    def load(self):
        """Guard the page and list the team."""
        actor = self._enter("users")
        if actor is None:
            return None if self.signed_in else self._login_redirect()
        with session_scope() as session:
            members = tenants.list_members(session, actor=actor)
        self.members = members
        return None
