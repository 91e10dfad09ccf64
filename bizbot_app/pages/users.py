"""`/users`: the team."""

from __future__ import annotations

import reflex as rx

from bizbot_app.pages.shell import section_page
from state.team import TeamState


def _row(member) -> rx.Component:
    return rx.table.row(
        rx.table.cell(member.name),
        rx.table.cell(member.email),
        rx.table.cell(rx.badge(member.role)),
        rx.table.cell(member.availability),
    )


def users_page() -> rx.Component:
    """Every member with their role; invitations arrive with the security issue."""
    table = rx.table.root(
        rx.table.header(
            rx.table.row(
                rx.table.column_header_cell("Name"),
                rx.table.column_header_cell("Email"),
                rx.table.column_header_cell("Role"),
                rx.table.column_header_cell("Availability"),
            )
        ),
        rx.table.body(rx.foreach(TeamState.members, _row)),
        variant="surface",
        width="100%",
    )
    return section_page("users", table)
