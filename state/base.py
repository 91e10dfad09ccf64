"""The root state: who is signed in, in which business, and the sign-in guard."""

from __future__ import annotations

import json
from http.cookies import CookieError, SimpleCookie
from urllib.parse import quote

import reflex as rx

from backend.auth import account
from backend.auth import service as auth
from backend.auth.permissions import SECTION_PERMISSIONS, Actor
from backend.auth.schemas import SessionInfo
from backend.core.db import session_scope
from backend.onboarding import service as onboarding
from backend.ops import system
from backend.security import policy
from backend.tenants import service as tenants


def hard_redirect(url: str) -> rx.event.EventSpec:
    """Navigate with a real page load (for HTTP routes that set or clear cookies)."""
    return rx.call_script(f"window.location.assign({json.dumps(url)})")


class BaseState(rx.State):
    """Session, current user and tenant; every page state derives from it."""

    signed_in: bool = False
    user_name: str = ""
    user_email: str = ""
    business_name: str = ""
    # The business's logo beside its name in the sidebar ("" when it has none).
    business_logo_url: str = ""
    role: str = ""
    allowed_sections: list[str] = []
    # The section slug of the page being shown, and whether the role may open it.
    section: str = ""
    section_allowed: bool = True
    # What keeps a signed-in member out ("ip" or "two_factor"), and the words to show them.
    gate: str = ""
    gate_message: str = ""
    # The member has not confirmed their email yet (the dashboard offers to resend the link).
    email_unverified: bool = False
    verification_notice: str = ""
    # Runs this installation: sees the System page (its nav entry is "system" in allowed_sections).
    is_instance_admin: bool = False
    # The setup checklist's nudge in the header (owners, until it is done or dismissed).
    setup_nudging: bool = False
    setup_dismissed: bool = False
    setup_done: int = 0
    setup_total: int = 0
    setup_next_title: str = ""
    setup_next_route: str = ""
    setup_next_action: str = ""

    def _session_token(self) -> str | None:
        try:
            cookie = SimpleCookie(self.router.headers.cookie or "")
        except CookieError:
            return None
        morsel = cookie.get(auth.SESSION_COOKIE)
        return morsel.value if morsel else None

    def _session_info(self) -> SessionInfo | None:
        with session_scope() as session:
            return auth.resolve_session(session, token=self._session_token())

    def _remember(self, info: SessionInfo) -> None:
        self.signed_in = True
        self.user_name = info.user_name
        self.user_email = info.email
        self.business_name = info.business_name
        self.role = str(info.role)
        self.allowed_sections = [s for s in SECTION_PERMISSIONS if info.actor.can_open(s)]

    def _forget(self) -> None:
        self.signed_in = False
        self.user_name = self.user_email = self.business_name = self.role = ""
        self.allowed_sections = []
        self.is_instance_admin = False

    def _client_ip(self) -> str | None:
        return self.router.session.client_ip or None

    def current_actor(self) -> Actor | None:
        """The signed-in actor, re-read from the session store (None when signed out, or when
        the business's IP allowlist or its two-factor rule keeps them out: see `gate`)."""
        with session_scope() as session:
            info = auth.resolve_session(session, token=self._session_token())
            gate = unverified = None
            logo = ""
            admin = False
            if info is not None:
                gate = policy.access_gate(session, business_id=info.business_id,
                                          user_id=info.user_id, ip=self._client_ip())  # fmt: skip
                unverified = not account.is_verified(session, user_id=info.user_id)
                logo = tenants.logo_url_for(session, business_id=info.business_id)
                admin = system.is_instance_admin(session, user_id=info.user_id)
        if info is None or gate is not None:
            self._forget()
            self.gate, self.gate_message = (gate.kind, gate.message) if gate else ("", "")
            return None
        self.gate = self.gate_message = ""
        self.email_unverified = bool(unverified)
        self._remember(info)
        self.business_logo_url = logo
        self.is_instance_admin = bool(admin)
        if self.is_instance_admin:  # not a business section: no role grants it
            self.allowed_sections = [*self.allowed_sections, "system"]
        return info.actor

    def _login_redirect(self) -> rx.event.EventSpec:
        if self.gate == "two_factor":
            return rx.redirect("/two-factor-setup")
        if self.gate == "ip":
            return rx.redirect("/access-denied")
        url = self.router.url
        target = url.path + (f"?{url.query}" if url.query else "")
        return rx.redirect(f"/login?next={quote(target or '/', safe='')}")

    def _enter(self, section: str) -> Actor | None:
        """Mark `section` as shown; the actor if signed in and allowed to open it."""
        actor = self.current_actor()
        self.section = section
        self.section_allowed = actor is not None and actor.can_open(section)
        self._read_setup(actor)
        return actor if self.section_allowed else None

    def _read_setup(self, actor: Actor | None) -> onboarding.Checklist | None:
        """Refresh the header's setup nudge (one query; nothing for roles without setup) and
        return the checklist it read, for a page that shows it whole."""
        if actor is None or not actor.can_open("onboarding"):
            self.setup_nudging = self.setup_dismissed = False
            return None
        with session_scope() as session:
            checklist = onboarding.checklist(session, actor=actor)
        step = checklist.next_step
        self.setup_nudging, self.setup_dismissed = checklist.nudging, checklist.dismissed
        self.setup_done, self.setup_total = checklist.done_count, checklist.total
        self.setup_next_title = step.title if step else ""
        self.setup_next_route = step.route if step else ""
        self.setup_next_action = step.action if step else ""
        return checklist

    @rx.event
    def open_section(self, section: str):
        """Check the session (else go to /login) and whether the role may open `section`."""
        self._enter(section)
        return None if self.signed_in else self._login_redirect()

    @rx.event
    def logout(self):
        """End this browser's session and show the login page."""
        with session_scope() as session:
            auth.end_session(session, token=self._session_token())
        self._forget()
        return hard_redirect("/api/auth/logout")

    @rx.event
    def resend_verification(self):
        """Email a new link to confirm my address (the "confirm your email" banner)."""
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        try:
            with session_scope() as session:
                account.resend_verification(
                    session, user_id=actor.user_id, business_id=actor.business_id
                )
        except auth.AuthError as exc:
            self.verification_notice = exc.message
            return None
        self.verification_notice = f"A new link is on its way to {self.user_email}."
        return None
