"""The Security page: my two-factor sign-in; the business's API keys and audit log."""

from __future__ import annotations

from datetime import datetime

import reflex as rx

from backend.auth import account
from backend.auth import service as auth
from backend.auth.permissions import Permission, PermissionDenied
from backend.core.db import session_scope
from backend.security import policy, two_factor
from backend.security import service as security
from state.base import BaseState


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


class SecurityState(BaseState):
    """Two-factor enrolment for the signed-in member; keys and audit for owners and admins."""

    # Two-factor sign-in.
    tfa_enabled: bool = False
    tfa_recovery_left: int = 0
    tfa_enrolling: bool = False
    tfa_qr: str = ""
    tfa_secret: str = ""
    tfa_error: str = ""
    # Shown once, right after enrolment.
    recovery_codes: list[str] = []
    # My signed-in browsers.
    sessions: list[dict[str, str]] = []
    # API keys and the audit log.
    can_manage: bool = False
    scopes: list[str] = list(security.SCOPES)
    keys: list[dict[str, str]] = []
    key_error: str = ""
    new_key: str = ""  # shown once, right after it is made
    audit: list[dict[str, str]] = []
    audit_action: str = ""
    audit_text: str = ""
    # Changing my password.
    password_error: str = ""
    # Owners' business rules: 2FA for everyone, the IP allowlist.
    is_owner: bool = False
    require_two_factor: bool = False
    policy_error: str = ""
    allowlist: str = ""
    allowlist_error: str = ""

    def _ip(self) -> str | None:
        return self.router.session.client_ip or None

    def _current_session_id(self) -> int | None:
        info = self._session_info()
        return info.session_id if info else None

    def _refresh(self, session, actor) -> None:
        self.sessions = [
            {
                "id": str(v.id),
                "device": v.device,
                "ip": v.ip_address or "—",
                "signed_in": _when(v.created_at),
                "last_seen": _when(v.last_seen_at),
                "current": "yes" if v.current else "",
            }
            for v in auth.list_sessions(
                session, user_id=actor.user_id, current_session_id=self._current_session_id()
            )
        ]
        status = two_factor.status(session, user_id=actor.user_id)
        self.tfa_enabled = status.enabled
        self.tfa_recovery_left = status.recovery_codes_left
        self.can_manage = actor.can(Permission.MEMBERS_MANAGE)
        self.is_owner = actor.can(Permission.BUSINESS_MANAGE)
        self.require_two_factor = policy.two_factor_required(session, business_id=actor.business_id)
        if not self.can_manage:
            self.keys, self.audit, self.allowlist = [], [], ""
            return
        self.allowlist = "\n".join(policy.list_allowlist(session, actor=actor))
        self.keys = [
            {
                "id": str(k.id),
                "name": k.name,
                "prefix": k.prefix,
                "scopes": ", ".join(k.scopes),
                "created": _when(k.created_at),
                "expires": _when(k.expires_at) if k.expires_at else "never",
                "last_used": _when(k.last_used_at) if k.last_used_at else "never",
                "status": k.status,
            }
            for k in security.list_api_keys(session, actor=actor)
        ]
        self.audit = [
            {
                "id": str(e.id),
                "when": _when(e.created_at),
                "action": e.action,
                "actor": (
                    f"user {e.actor_user_id}"
                    if e.actor_user_id
                    else (f"API key {e.actor_api_key_id}" if e.actor_api_key_id else "—")
                ),
                "target": e.target,
                "ip": e.ip_address or "—",
            }
            for e in security.list_audit(
                session, actor=actor, action=self.audit_action or None, text=self.audit_text
            )
        ]

    @rx.event
    def load(self):
        """Guard the page and read my 2FA status, the keys and the audit log."""
        actor = self._enter("security")
        if actor is None:
            return None if self.signed_in else self._login_redirect()
        self.tfa_error = self.key_error = self.new_key = self.password_error = ""
        self.policy_error = self.allowlist_error = self.verification_notice = ""
        self.tfa_enrolling, self.tfa_qr, self.tfa_secret = False, "", ""
        self.recovery_codes = []
        with session_scope() as session:
            self._refresh(session, actor)
        return None

    @rx.event
    def start_two_factor(self):
        """Make a secret and show its QR code."""
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        self.tfa_error = ""
        try:
            with session_scope() as session:
                enrolment = two_factor.start_enrolment(session, user_id=actor.user_id)
        except two_factor.TwoFactorError as exc:
            self.tfa_error = exc.message
            return None
        self.tfa_enrolling = True
        self.tfa_qr, self.tfa_secret = enrolment.qr_data_uri, enrolment.secret
        return None

    @rx.event
    def confirm_two_factor(self, form: dict):
        """Turn 2FA on with a code from the app; show the recovery codes once."""
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        self.tfa_error = ""
        try:
            with session_scope() as session:
                codes = two_factor.confirm_enrolment(
                    session,
                    user_id=actor.user_id,
                    business_id=actor.business_id,
                    code=form.get("code", ""),
                    ip=self._ip(),
                    current_session_id=self._current_session_id(),
                )
                self._refresh(session, actor)
        except two_factor.TwoFactorError as exc:
            self.tfa_error = exc.message
            return None
        self.tfa_enrolling, self.tfa_qr, self.tfa_secret = False, "", ""
        self.recovery_codes = codes
        return rx.toast.success("Two-factor sign-in is on.")

    @rx.event
    def disable_two_factor(self, form: dict):
        """Turn 2FA off (needs a current code or a recovery code)."""
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        self.tfa_error = ""
        try:
            with session_scope() as session:
                two_factor.disable(
                    session,
                    user_id=actor.user_id,
                    business_id=actor.business_id,
                    code=form.get("code", ""),
                    ip=self._ip(),
                )
                self._refresh(session, actor)
        except two_factor.TwoFactorError as exc:
            self.tfa_error = exc.message
            return None
        self.recovery_codes = []
        return rx.toast.success("Two-factor sign-in is off.")

    @rx.event
    def create_key(self, form: dict):
        """Create an API key; its secret is shown once."""
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        self.key_error, self.new_key = "", ""
        scopes = [s for s in security.SCOPES if form.get(f"scope-{s}")]
        days = str(form.get("expires_days", "") or "").strip()
        try:
            expires = int(days) if days else None
        except ValueError:
            self.key_error = "Expiry: enter a number of days, or leave it empty for never."
            return None
        try:
            with session_scope() as session:
                created = security.create_api_key(
                    session,
                    actor=actor,
                    name=form.get("name", ""),
                    scopes=scopes,
                    expires_days=expires,
                    ip=self._ip(),
                )
                self._refresh(session, actor)
        except (security.SecurityError, PermissionDenied) as exc:
            self.key_error = getattr(exc, "message", str(exc))
            return None
        self.new_key = created.key
        return None

    @rx.event
    def revoke_key(self, key_id: str):
        """Revoke a key at once."""
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        self.key_error = ""
        try:
            with session_scope() as session:
                security.revoke_api_key(session, actor=actor, key_id=int(key_id), ip=self._ip())
                self._refresh(session, actor)
        except (security.SecurityError, PermissionDenied, ValueError) as exc:
            self.key_error = getattr(exc, "message", str(exc))
            return None
        return rx.toast.success("API key revoked.")

    @rx.event
    def filter_audit(self, action: str):
        """Show only entries of one action ("" for all)."""
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        self.audit_action = "" if action == "all" else action
        with session_scope() as session:
            self._refresh(session, actor)
        return None

    def _end_sessions(self, session_ids: list[int] | None):
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        with session_scope() as session:
            ended = auth.revoke_sessions(
                session,
                user_id=actor.user_id,
                session_ids=session_ids,
                keep_id=self._current_session_id(),
            )
            if ended:
                security.record(session, business_id=actor.business_id, action="session.revoked",
                                actor_user_id=actor.user_id, ip=self._ip(), target_type="user",
                                target_id=actor.user_id, details={"sessions": ended})  # fmt: skip
            self._refresh(session, actor)
        return rx.toast.success(f"Signed out of {ended} other session(s).")

    @rx.event
    def end_session(self, session_id: str):
        """Sign out one of my other browsers."""
        return self._end_sessions([int(session_id)])

    @rx.event
    def end_other_sessions(self):
        """Sign out every browser of mine but this one."""
        return self._end_sessions(None)

    @rx.event
    def search_audit(self, form: dict):
        """Show entries whose action, target, address or details contain the text."""
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        self.audit_text = str(form.get("q", "")).strip()[:100]
        with session_scope() as session:
            self._refresh(session, actor)
        return None

    @rx.event
    def change_password(self, form: dict):
        """Change my password; my other sessions end."""
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        self.password_error = ""
        if form.get("new_password", "") != form.get("confirm", ""):
            self.password_error = "The two new passwords differ; type the same one twice."  # noqa: S105
            return None
        try:
            with session_scope() as session:
                ended = account.change_password(
                    session,
                    user_id=actor.user_id,
                    business_id=actor.business_id,
                    current_password=form.get("current_password", ""),
                    new_password=form.get("new_password", ""),
                    current_session_id=self._current_session_id(),
                    ip=self._ip(),
                )
                self._refresh(session, actor)
        except auth.AuthError as exc:
            self.password_error = exc.message
            return None
        return rx.toast.success(f"Password changed; {ended} other session(s) ended.")

    @rx.event
    def set_require_two_factor(self, required: bool):
        """Owners: require two-factor sign-in for every member (or stop requiring it)."""
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        self.policy_error = ""
        try:
            with session_scope() as session:
                policy.set_two_factor_required(
                    session, actor=actor, required=bool(required), ip=self._ip()
                )
                self._refresh(session, actor)
        except (security.SecurityError, PermissionDenied) as exc:
            self.policy_error = getattr(exc, "message", str(exc))
            return None
        return rx.toast.success(
            "Every member now needs two-factor sign-in."
            if required
            else "Two-factor sign-in is no longer required."
        )

    @rx.event
    def save_allowlist(self, form: dict):
        """Owners: replace the IP allowlist (refused if it leaves out this browser's address)."""
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        self.allowlist_error = ""
        try:
            with session_scope() as session:
                saved = policy.set_allowlist(
                    session, actor=actor, entries=str(form.get("allowlist", "")),
                    current_ip=self._ip(),
                )  # fmt: skip
                self._refresh(session, actor)
        except (security.SecurityError, PermissionDenied) as exc:
            self.allowlist_error = getattr(exc, "message", str(exc))
            return None
        return rx.toast.success(
            f"IP allowlist saved ({len(saved)} ranges)." if saved else "Every address is allowed."
        )
