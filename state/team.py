"""The Users & Roles page."""

from __future__ import annotations

import reflex as rx

from backend.auth import members as team
from backend.auth import service as auth
from backend.auth.permissions import PermissionDenied
from backend.core.db import session_scope
from backend.models.tenants import Role
from backend.tenants import service as tenants
from state.base import BaseState


class TeamState(BaseState):
    """The member list with invitations, role changes and removals (owners and admins)."""

    members: list[tenants.Member] = []
    invitations: list[dict[str, str]] = []
    roles: list[str] = [r.value for r in Role]
    invite_error: str = ""
    team_error: str = ""
    me: int = 0

    def _reload(self, session, actor) -> None:
        self.members = tenants.list_members(session, actor=actor)
        self.invitations = [
            {"id": str(i.id), "email": i.email, "role": i.role,
             "expires": i.expires_at.strftime("%Y-%m-%d")}
            for i in team.list_invitations(session, actor=actor)
        ]  # fmt: skip
        self.me = actor.user_id

    @rx.event
    def load(self):
        """Guard the page and list the team and open invitations."""
        actor = self._enter("users")
        if actor is None:
            return None if self.signed_in else self._login_redirect()
        self.invite_error = self.team_error = ""
        with session_scope() as session:
            self._reload(session, actor)
        return None

    def _change(self, work, done: str, *, error_var: str = "team_error"):
        actor = self.current_actor()
        if actor is None:
            return self._login_redirect()
        self.invite_error = self.team_error = ""
        try:
            with session_scope() as session:
                work(session, actor)
                self._reload(session, actor)
        except (team.MemberError, auth.AuthError, PermissionDenied) as exc:
            setattr(self, error_var, getattr(exc, "message", str(exc)))
            return None
        return rx.toast.success(done)

    @rx.event
    def invite(self, form: dict):
        """Email an invitation link with the chosen role."""
        email, role = form.get("email", ""), form.get("role", "agent") or "agent"
        return self._change(
            lambda s, a: team.invite_member(s, actor=a, email=email, role=role,
                                            ip=self._client_ip()),
            f"Invitation sent to {email.strip()}.",
            error_var="invite_error",
        )  # fmt: skip

    @rx.event
    def revoke_invitation(self, invitation_id: str):
        """Withdraw an open invitation."""
        return self._change(
            lambda s, a: team.revoke_invitation(s, actor=a, invitation_id=int(invitation_id),
                                                ip=self._client_ip()),
            "Invitation withdrawn.",
        )  # fmt: skip

    @rx.event
    def change_role(self, user_id: int, role: str):
        """Give a member another role; their sessions end so it applies at once."""
        return self._change(
            lambda s, a: team.change_role(s, actor=a, user_id=int(user_id), role=role,
                                          ip=self._client_ip()),
            f"Role changed to {role}.",
        )  # fmt: skip

    @rx.event
    def remove(self, user_id: int):
        """Remove a member from the business."""
        return self._change(
            lambda s, a: team.remove_member(s, actor=a, user_id=int(user_id),
                                            ip=self._client_ip()),
            "Member removed.",
        )  # fmt: skip
