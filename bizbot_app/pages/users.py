"""`/users`: the team, its roles, and invitations by email link."""

from __future__ import annotations

import reflex as rx

from bizbot_app.pages.shell import section_page
from components.security import error_callout
from state.team import TeamState


def _row(member) -> rx.Component:
    return rx.table.row(
        rx.table.cell(member.name),
        rx.table.cell(member.email),
        rx.table.cell(
            rx.select(
                TeamState.roles,
                value=member.role,
                on_change=lambda role: TeamState.change_role(member.user_id, role),
                size="1",
                aria_label="Role of " + member.email,
                disabled=member.user_id == TeamState.me,
            )
        ),
        rx.table.cell(member.availability),
        rx.table.cell(
            rx.cond(
                member.user_id == TeamState.me,
                rx.text("you", size="1", color=rx.color("gray", 10)),
                rx.button("Remove", size="1", color_scheme="red", variant="soft",
                          on_click=TeamState.remove(member.user_id),
                          aria_label="Remove " + member.email),
            )
        ),
    )  # fmt: skip


def _invitation_row(item: rx.Var[dict]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(item["email"]),
        rx.table.cell(rx.badge(item["role"])),
        rx.table.cell(item["expires"]),
        rx.table.cell(rx.button("Withdraw", size="1", variant="soft",
                                on_click=TeamState.revoke_invitation(item["id"]))),
    )  # fmt: skip


def _invite_form() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Invite a member", size="4", as_="h2"),
            rx.form(
                rx.hstack(
                    rx.input(name="email", type="email", placeholder="name@example.com",
                             aria_label="Email to invite", required=True, width="18em"),
                    rx.select(TeamState.roles, name="role", default_value="agent",
                              aria_label="Role for the invitation"),
                    rx.button("Send invitation", type="submit"),
                    spacing="2",
                    wrap="wrap",
                ),
                on_submit=TeamState.invite,
                reset_on_submit=True,
            ),
            error_callout(TeamState.invite_error),
            rx.cond(
                TeamState.invitations.length() > 0,
                rx.table.root(
                    rx.table.header(rx.table.row(
                        *[rx.table.column_header_cell(h)
                          for h in ("Invited", "Role", "Link expires", "")]
                    )),
                    rx.table.body(rx.foreach(TeamState.invitations, _invitation_row)),
                    variant="surface",
                    width="100%",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )  # fmt: skip


def users_page() -> rx.Component:
    """Every member with their role (changeable), removal, and invitations."""
    table = rx.table.root(
        rx.table.header(
            rx.table.row(
                rx.table.column_header_cell("Name"),
                rx.table.column_header_cell("Email"),
                rx.table.column_header_cell("Role"),
                rx.table.column_header_cell("Availability"),
                rx.table.column_header_cell(""),
            )
        ),
        rx.table.body(rx.foreach(TeamState.members, _row)),
        variant="surface",
        width="100%",
    )
    body = rx.vstack(error_callout(TeamState.team_error), table, _invite_form(),
                     spacing="4", width="100%")  # fmt: skip
    return section_page("users", body)
