"""The login and sign-up forms."""

from __future__ import annotations

from urllib.parse import quote

import reflex as rx

from backend.api.auth_routes import safe_next
from backend.auth import service as auth
from backend.auth.schemas import LoginTicket
from backend.core.config import settings
from backend.core.db import session_scope
from state.base import BaseState, hard_redirect


def _ticket_url(ticket: LoginTicket, next_path: str | None) -> str:
    code = auth.issue_login_ticket(ticket)
    return f"/api/auth/session?ticket={quote(code)}&next={quote(safe_next(next_path), safe='')}"


class LoginState(BaseState):
    """The login form: one generic error for a wrong email or password."""

    error: str = ""
    notice: str = ""
    submitting: bool = False

    @rx.event
    def load(self):
        """Send a signed-in user on; explain an expired login ticket."""
        self.error = ""
        self.submitting = False
        params = self.router.url.query_parameters
        self.notice = (
            "That sign-in link expired. Please log in again." if params.get("expired") else ""
        )
        if self.current_actor() is not None:
            return rx.redirect(safe_next(params.get("next")))
        return None

    @rx.event
    def submit(self, form: dict):
        """Check the credentials and hand the browser its session cookie."""
        self.error = ""
        try:
            with session_scope() as session:
                ticket = auth.authenticate(
                    session, email=form.get("email", ""), password=form.get("password", "")
                )
        except auth.AuthError as exc:
            self.error = exc.message
            return None
        self.submitting = True
        return hard_redirect(_ticket_url(ticket, self.router.url.query_parameters.get("next")))


class SignupState(BaseState):
    """The sign-up form: creates a business and its owner, with errors per field."""

    errors: dict[str, str] = {}
    signup_open: bool = True
    submitting: bool = False

    @rx.event
    def load(self):
        """Send a signed-in user to the dashboard; say when sign-up is closed."""
        self.errors = {}
        self.submitting = False
        self.signup_open = settings.allow_signup
        if self.current_actor() is not None:
            return rx.redirect("/")
        return None

    @rx.event
    def submit(self, form: dict):
        """Create the business and owner; nothing is kept if any field is wrong."""
        self.errors = {}
        try:
            with session_scope() as session:
                result = auth.sign_up(
                    session,
                    business_name=form.get("business_name", ""),
                    name=form.get("name", ""),
                    email=form.get("email", ""),
                    password=form.get("password", ""),
                )
        except auth.AuthError as exc:
            self.errors = {exc.field or "form": exc.message}
            return None
        self.submitting = True
        ticket = LoginTicket(user_id=result.user_id, business_id=result.business_id)
        return hard_redirect(_ticket_url(ticket, "/onboarding"))
