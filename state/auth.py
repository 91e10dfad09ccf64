"""The login and sign-up forms, and the pages emailed links open: password reset, email
verification, invitations; and the two gates (two-factor set-up, refused address)."""

from __future__ import annotations

import time
from urllib.parse import quote

import reflex as rx

from backend.api.auth_routes import safe_next
from backend.auth import account, members
from backend.auth import service as auth
from backend.auth.schemas import LoginTicket
from backend.core.config import settings
from backend.core.db import session_scope
from backend.security import policy, two_factor
from backend.security import service as security
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
                refusal = policy.refuse_ip(session, business_id=ticket.business_id, ip=ip,
                                           via="login", user_id=ticket.user_id)  # fmt: skip
                if refusal is not None:
                    self.error = refusal
                    return None
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
                    ip=self.router.session.client_ip or None,
                )
        except auth.AuthError as exc:  # TooManyAttempts included: it names the wait
            self.errors = {exc.field or "form": exc.message}
            return None
        self.submitting = True
        ticket = LoginTicket(user_id=result.user_id, business_id=result.business_id)
        return hard_redirect(_ticket_url(ticket, "/onboarding"))


class ForgotPasswordState(BaseState):
    """`/forgot-password`: one answer whether or not the email has an account."""

    sent_message: str = ""
    error: str = ""

    @rx.event
    def load(self):
        """Clear an old error (an answer stays: a submit may beat this on_load to the server)."""
        self.error = ""

    @rx.event
    def submit(self, form: dict):
        """Email a reset link if the account exists; say the same thing either way."""
        self.error = ""
        try:
            with session_scope() as session:
                self.sent_message = account.request_password_reset(
                    session, email=form.get("email", ""), ip=self._client_ip()
                )
        except auth.AuthError as exc:
            self.error = exc.message


class ResetPasswordState(BaseState):
    """`/reset-password?token=…`: choose a new password through the emailed link."""

    link_error: str = ""
    email: str = ""
    error: str = ""
    done: bool = False
    _token: str = ""

    @rx.event
    def load(self):
        """Check the link first, so a used or expired one says so before anything is typed."""
        self._token = self.router.url.query_parameters.get("token", "")
        self.error, self.done, self.email, self.link_error = "", False, "", ""
        try:
            with session_scope() as session:
                self.email = account.check_reset_link(session, token=self._token).email
        except account.LinkError as exc:
            self.link_error = exc.message

    @rx.event
    def submit(self, form: dict):
        """Set the new password; every session of the account ends."""
        self.error = ""
        if form.get("password", "") != form.get("confirm", ""):
            self.error = "The two passwords differ; type the same new password twice."
            return
        try:
            with session_scope() as session:
                account.reset_password(
                    session,
                    token=self._token,
                    password=form.get("password", ""),
                    ip=self._client_ip(),
                )
        except account.LinkError as exc:
            self.link_error = exc.message
            return
        except auth.AuthError as exc:
            self.error = exc.message
            return
        self.done = True


class VerifyEmailState(BaseState):
    """`/verify-email?token=…`: confirm the address the link was sent to."""

    message: str = ""
    ok: bool = False

    @rx.event
    def load(self):
        """Use the link (once) and say how it went."""
        token = self.router.url.query_parameters.get("token", "")
        try:
            with session_scope() as session:
                target = account.verify_email(session, token=token, ip=self._client_ip())
        except account.LinkError as exc:
            self.ok, self.message = False, exc.message
            return
        self.ok, self.message = True, f"Thanks, {target.email} is confirmed."


class InviteState(BaseState):
    """`/invite?token=…`: join a business, with a new account or an existing one."""

    link_error: str = ""
    business: str = ""
    email: str = ""
    role: str = ""
    has_account: bool = False
    error: str = ""
    submitting: bool = False
    _token: str = ""

    @rx.event
    def load(self):
        """Show what the invitation offers, or why the link does not work."""
        self._token = self.router.url.query_parameters.get("token", "")
        self.error, self.link_error, self.submitting = "", "", False
        try:
            with session_scope() as session:
                details = members.invitation_details(session, token=self._token)
        except members.MemberError as exc:
            self.link_error = exc.message
            return
        self.business, self.email = details.business_name, details.email
        self.role, self.has_account = details.role, details.has_account

    @rx.event
    def submit(self, form: dict):
        """Accept: create the account (or check its password), then sign in."""
        self.error = ""
        try:
            with session_scope() as session:
                ticket = members.accept_invitation(
                    session, token=self._token, name=form.get("name", ""),
                    password=form.get("password", ""), ip=self._client_ip(),
                )  # fmt: skip
        except auth.AuthError as exc:
            self.error = exc.message
            return None
        self.submitting = True
        return hard_redirect(_ticket_url(ticket, "/"))


class TwoFactorSetupState(BaseState):
    """`/two-factor-setup`: members of a business that requires 2FA enrol here before anything
    else (the gate in BaseState sends them)."""

    qr: str = ""
    secret: str = ""
    error: str = ""
    recovery_codes: list[str] = []

    def _enrolling(self):
        """The session of a member the two-factor gate holds (None: anyone else)."""
        if self.current_actor() is not None or self.gate != "two_factor":
            return None
        return self._session_info()

    @rx.event
    def load(self):
        """Members who must enrol get their QR code; others go on (or to their own gate)."""
        self.error, self.recovery_codes = "", []
        info = self._enrolling()
        if info is None:
            return rx.redirect("/") if self.signed_in else self._login_redirect()
        with session_scope() as session:
            enrolment = two_factor.resume_enrolment(session, user_id=info.user_id)
        self.qr, self.secret = enrolment.qr_data_uri, enrolment.secret
        return None

    @rx.event
    def confirm(self, form: dict):
        """Turn 2FA on with a code from the app; show the recovery codes once."""
        self.error = ""
        info = self._enrolling()
        if info is None:
            return rx.redirect("/") if self.signed_in else self._login_redirect()
        try:
            with session_scope() as session:
                self.recovery_codes = two_factor.confirm_enrolment(
                    session, user_id=info.user_id, business_id=info.business_id,
                    code=form.get("code", ""), ip=self._client_ip(),
                    current_session_id=info.session_id,
                )  # fmt: skip
        except two_factor.TwoFactorError as exc:
            self.error = exc.message
            return None
        self.qr = self.secret = ""
        return None


class AccessDeniedState(BaseState):
    """`/access-denied`: the business's IP allowlist does not include this address."""

    @rx.event
    def load(self):
        """Stay here while refused; go on once allowed, or log in when signed out."""
        if self.current_actor() is not None:
            return rx.redirect("/")
        if self.gate == "ip":
            return None
        return self._login_redirect()
