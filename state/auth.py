"""The login and sign-up forms."""

from __future__ import annotations

import time
from urllib.parse import quote

import reflex as rx

from backend.api.auth_routes import safe_next
from backend.auth import service as auth
from backend.auth.schemas import LoginTicket
from backend.core.config import settings
from backend.core.db import session_scope
from backend.security import service as security
from backend.security import two_factor
from state.base import BaseState, hard_redirect

# How long the password step stays good while the two-factor code is asked for.
CODE_STEP_SECONDS = 300


def _ticket_url(ticket: LoginTicket, next_path: str | None) -> str:
    code = auth.issue_login_ticket(ticket)
    return f"/api/auth/session?ticket={quote(code)}&next={quote(safe_next(next_path), safe='')}"


class LoginState(BaseState):
    """The login form: one generic error for a wrong email or password, then the two-factor
    code when the account has it on. Failed attempts are throttled per account and address."""

    error: str = ""
    notice: str = ""
    submitting: bool = False
    # The password checked out and the account asks for a code next.
    needs_code: bool = False
    _pending_user_id: int = 0
    _pending_business_id: int = 0
    _pending_email: str = ""
    _pending_since: float = 0.0

    def _client_ip(self) -> str | None:
        return self.router.session.client_ip or None

    def _reset_code_step(self) -> None:
        self.needs_code = False
        self._pending_user_id = self._pending_business_id = 0
        self._pending_email = ""
        self._pending_since = 0.0

    @rx.event
    def load(self):
        """Send a signed-in user on; explain an expired login ticket."""
        self.error = ""
        self.submitting = False
        self._reset_code_step()
        params = self.router.url.query_parameters
        self.notice = (
            "That sign-in link expired. Please log in again." if params.get("expired") else ""
        )
        if self.current_actor() is not None:
            return rx.redirect(safe_next(params.get("next")))
        return None

    def _signed_in(self, ticket: LoginTicket):
        self.submitting = True
        self._reset_code_step()
        return hard_redirect(_ticket_url(ticket, self.router.url.query_parameters.get("next")))

    @rx.event
    def submit(self, form: dict):
        """Check the credentials; hand the browser its session cookie, or ask for the code."""
        self.error = ""
        email, ip = form.get("email", ""), self._client_ip()
        try:
            with session_scope() as session:
                ticket = auth.authenticate(
                    session, email=email, password=form.get("password", ""), ip=ip
                )
                if two_factor.is_enabled(session, user_id=ticket.user_id):
                    self.needs_code = True
                    self._pending_user_id, self._pending_business_id = (
                        ticket.user_id,
                        ticket.business_id,
                    )
                    self._pending_email = email
                    self._pending_since = time.time()
                    return None
                security.record_login(
                    session, user_id=ticket.user_id, business_id=ticket.business_id, ip=ip
                )
        except auth.AuthError as exc:
            self.error = exc.message
            if isinstance(exc, auth.InvalidCredentials):
                # Refusals while locked out are not logged, so a flood cannot fill the log.
                with session_scope() as session:
                    security.record_failed_login(session, email=email, ip=ip, reason="password")
            return None
        return self._signed_in(ticket)

    @rx.event
    def submit_code(self, form: dict):
        """Check the authenticator (or recovery) code, then sign in."""
        self.error = ""
        if not self.needs_code or not self._pending_user_id:
            self._reset_code_step()
            return None
        if time.time() - self._pending_since > CODE_STEP_SECONDS:
            self._reset_code_step()
            self.error = "That took too long. Please log in again."
            return None
        ip, email = self._client_ip(), self._pending_email
        ticket = LoginTicket(user_id=self._pending_user_id, business_id=self._pending_business_id)
        try:
            auth.check_login_throttle(email=email, ip=ip)
            with session_scope() as session:
                two_factor.verify(
                    session,
                    user_id=ticket.user_id,
                    code=form.get("code", ""),
                    business_id=ticket.business_id,
                    ip=ip,
                )
                security.record_login(
                    session, user_id=ticket.user_id, business_id=ticket.business_id, ip=ip
                )
        except (auth.AuthError, two_factor.TwoFactorError) as exc:
            self.error = exc.message
            if isinstance(exc, two_factor.TwoFactorError):
                auth.count_failed_login(email=email, ip=ip)
                with session_scope() as session:
                    security.record_failed_login(
                        session, email=email, ip=ip, reason="second factor"
                    )
            return None
        return self._signed_in(ticket)

    @rx.event
    def cancel_code(self):
        """Back to email and password."""
        self.error = ""
        self._reset_code_step()


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
