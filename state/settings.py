"""The Settings page: business profile and logo, business hours, email (SMTP), data retention
and the danger zone (delete the business)."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Any

import reflex as rx

from backend.auth.permissions import PermissionDenied
from backend.core.db import session_scope
from backend.notifications.schemas import EmailFailed
from backend.privacy import service as privacy
from backend.security import two_factor
from backend.tenants import deletion, email_settings
from backend.tenants import hours as business_hours
from backend.tenants import service as tenants
from state.base import BaseState

LOGO_UPLOAD_ID = "business-logo-upload"
ACCEPTED_LOGOS: dict[str, list[str]] = {
    "image/png": [".png"],
    "image/jpeg": [".jpg", ".jpeg"],
    "image/webp": [".webp"],
}
MAX_LOGO_BYTES = tenants.MAX_LOGO_BYTES
# The same for every business and visitor: rendered into the page, not kept in each
# client's state.
TIMEZONES = list(tenants.timezone_choices())
LANGUAGES = [asdict(choice) for choice in tenants.language_choices()]
CURRENCIES = [asdict(choice) for choice in tenants.currency_choices()]


def _message(exc: Exception) -> str:
    return getattr(exc, "message", None) or str(exc)


class SettingsState(BaseState):
    """The Settings page (owners)."""

    profile: dict[str, str] = {}
    errors: dict[str, str] = {}
    saved: bool = False
    logo_note: str = ""
    # Business hours (stored on the AI rules).
    hours: list[dict[str, Any]] = []
    hours_message: str = ""
    hours_timezone: str = ""
    hours_always_open: bool = True
    hours_errors: dict[str, str] = {}
    hours_version: int = 0
    # Email (SMTP): the password itself never comes back to the browser.
    smtp: dict[str, str] = {}
    smtp_password_set: bool = False
    smtp_default_server: str = ""
    smtp_errors: dict[str, str] = {}
    smtp_notice: str = ""
    smtp_notice_ok: bool = False
    smtp_testing: bool = False
    smtp_version: int = 0
    # Data retention (owned by the Privacy page; shown here read-only).
    retention_text: str = ""
    # Danger zone.
    delete_errors: dict[str, str] = {}
    delete_needs_code: bool = False
    deleted_name: str = ""

    def _read(self, session, actor) -> None:
        profile = tenants.get_profile(session, actor=actor)
        self.profile = {k: str(v) for k, v in asdict(profile).items()}
        self._read_hours(business_hours.get_hours(session, actor=actor))
        self._read_smtp(email_settings.get_email_settings(session, actor=actor))
        days = privacy.get_retention(session, actor=actor).conversation_days
        self.retention_text = (
            f"Conversations idle for more than {days} days are deleted automatically."
            if days
            else "Conversations are kept until you delete them (no automatic deletion)."
        )
        self.delete_needs_code = two_factor.is_enabled(session, user_id=actor.user_id)

    def _read_hours(self, view: business_hours.HoursView) -> None:
        self.hours = [asdict(day) for day in view.days]
        self.hours_message = view.out_of_hours_message
        self.hours_timezone = view.timezone
        self.hours_always_open = view.always_open
        self.hours_version += 1

    def _read_smtp(self, view: email_settings.EmailSettingsView) -> None:
        self.smtp = {"host": view.host, "port": str(view.port), "username": view.username,
                     "from_address": view.from_address, "security": view.security}  # fmt: skip
        self.smtp_password_set = view.password_set
        self.smtp_default_server = view.default_server
        self.smtp_version += 1

    @rx.event
    def load(self):
        """Guard the page and read every setting."""
        actor = self._enter("settings")
        if actor is None:
            return None if self.signed_in else self._login_redirect()
        with session_scope() as session:
            self._read(session, actor)
        self.errors, self.hours_errors, self.smtp_errors, self.delete_errors = {}, {}, {}, {}
        self.saved, self.logo_note, self.smtp_notice = False, "", ""
        return None

    def _actor_or_redirect(self):
        actor = self.current_actor()
        return actor, (None if actor is not None else self._login_redirect())

    # --- profile ----------------------------------------------------------------------------

    @rx.event
    def save(self, form: dict):
        """Save the profile; errors name the field."""
        self.errors, self.saved = {}, False
        actor, redirect = self._actor_or_redirect()
        if actor is None:
            return redirect
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
                # The hours card names the time zone its times are in, which may just change.
                self._read_hours(business_hours.get_hours(session, actor=actor))
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

    @rx.event
    async def receive_logo(self, files: list[rx.UploadFile]):
        """Store the uploaded logo (its type is checked from its bytes on the server)."""
        actor, redirect = self._actor_or_redirect()
        if actor is None:
            return redirect
        if not files:
            return None
        upload = files[0]
        if upload.size is not None and upload.size > MAX_LOGO_BYTES:
            self.logo_note = f"{upload.name} is larger than 1 MB; shrink it and upload it again."
            return None
        data = await upload.read()
        try:
            with session_scope() as session:
                profile = tenants.set_logo(session, actor=actor, filename=upload.name or "logo",
                                           data=data, ip=self._client_ip())  # fmt: skip
        except (tenants.BusinessError, PermissionDenied) as exc:
            self.logo_note = _message(exc)
            return None
        self.business_logo_url = profile.logo_url
        self.logo_note = "Logo saved."
        return None

    @rx.event
    def logo_refused(self, refused: list[dict[str, Any]]):
        """Say why the browser did not take the file."""
        first = refused[0] if refused else {}
        codes = first.get("codes") or []
        name = first.get("name") or "That file"
        self.logo_note = (
            f"{name} is larger than 1 MB; shrink it and upload it again."
            if "file-too-large" in codes
            else f"{name} is not a PNG, JPEG or WebP image; upload one of those."
        )

    @rx.event
    def remove_logo(self):
        """Take the logo down."""
        actor, redirect = self._actor_or_redirect()
        if actor is None:
            return redirect
        try:
            with session_scope() as session:
                tenants.remove_logo(session, actor=actor, ip=self._client_ip())
        except (tenants.BusinessError, PermissionDenied) as exc:
            self.logo_note = _message(exc)
            return None
        self.business_logo_url = ""
        self.logo_note = "Logo removed."
        return None

    # --- business hours ---------------------------------------------------------------------

    @rx.event
    def save_hours(self, form: dict):
        """Save the weekly hours and the out-of-hours reply (the AI rules' own fields)."""
        self.hours_errors = {}
        actor, redirect = self._actor_or_redirect()
        if actor is None:
            return redirect
        days = [d["day"] for d in self.hours]
        try:
            with session_scope() as session:
                view = business_hours.save_hours(
                    session,
                    actor=actor,
                    open_days={d: bool(form.get(f"open_{d}")) for d in days},
                    ranges={d: str(form.get(f"ranges_{d}", "")) for d in days},
                    out_of_hours_message=str(form.get("out_of_hours_message", "")),
                )
        except (tenants.BusinessError, PermissionDenied) as exc:
            self.hours_errors = {getattr(exc, "field", None) or "form": _message(exc)}
            return None
        self._read_hours(view)
        return rx.toast.success("Business hours saved.")

    # --- email (SMTP) -----------------------------------------------------------------------

    @rx.event
    def save_smtp(self, form: dict):
        """Save the business's own SMTP server (an empty host goes back to the default)."""
        self.smtp_errors, self.smtp_notice = {}, ""
        actor, redirect = self._actor_or_redirect()
        if actor is None:
            return redirect
        try:
            with session_scope() as session:
                view = email_settings.save_email_settings(
                    session,
                    actor=actor,
                    host=str(form.get("smtp_host", "")),
                    port=str(form.get("smtp_port", "") or "587"),
                    username=str(form.get("smtp_username", "")),
                    password=str(form.get("smtp_password", "")) or None,
                    from_address=str(form.get("smtp_from", "")),
                    security=str(form.get("smtp_security", "starttls")),
                    ip=self._client_ip(),
                )
        except (tenants.BusinessError, PermissionDenied) as exc:
            self.smtp_errors = {getattr(exc, "field", None) or "form": _message(exc)}
            return None
        self._read_smtp(view)
        return rx.toast.success(
            "Email settings saved." if view.host else "Emails use the default server again."
        )

    @rx.event(background=True)
    async def send_test_email(self):
        """Send a test email to me through the business's server; say what happened."""
        async with self:
            actor = self.current_actor()
            if actor is None:
                return self._login_redirect()
            self.smtp_testing, self.smtp_notice = True, ""
        ok = False
        try:
            with session_scope() as session:
                message, server = email_settings.compose_test_email(session, actor=actor)
            # The SMTP conversation runs outside the state lock and any transaction.
            notice = email_settings.send_test_email(message, server=server)
            ok = True
        except EmailFailed as exc:
            notice = f"The test email was not sent. {exc} Check the settings and try again."
        except (tenants.BusinessError, PermissionDenied) as exc:
            notice = _message(exc)
        async with self:
            self.smtp_testing = False
            self.smtp_notice, self.smtp_notice_ok = notice, ok
        return None

    # --- danger zone ------------------------------------------------------------------------

    @rx.event(background=True)
    async def delete_business(self, form: dict):
        """Delete the business once the owner typed its name, their password (and 2FA code).

        A background event: the password hash check and the cascade over every table of a
        large business run in a thread, never on the websocket's event loop."""
        async with self:
            self.delete_errors = {}
            actor, redirect = self._actor_or_redirect()
            if actor is None:
                return redirect
            ip = self._client_ip()

        def delete():
            with session_scope() as session:
                return deletion.delete_business(
                    session,
                    actor=actor,
                    confirm_name=str(form.get("confirm_name", "")),
                    password=str(form.get("password", "")),
                    code=str(form.get("code", "")),
                    ip=ip,
                )

        try:
            deleted = await asyncio.to_thread(delete)
        except (tenants.BusinessError, PermissionDenied) as exc:
            async with self:
                self.delete_errors = {getattr(exc, "field", None) or "form": _message(exc)}
            return None
        async with self:
            self.deleted_name = deleted.name
            self._forget()
        return rx.redirect("/business-deleted")
