"""`/handoff`: the agents' workspace: the live board, who is online, SLA policies."""

from __future__ import annotations

import reflex as rx

from bizbot_app.pages.shell import section_page
from components.inbox import agent_card, board_column
from components.knowledge import form_error
from components.layout import labelled_field
from state.conversations import CHANNEL_LABELS
from state.handoff import HandoffState

S = HandoffState
_MUTED = rx.color("gray", 11)


def _my_presence() -> rx.Component:
    return rx.cond(
        S.my_availability != "",
        rx.card(
            rx.hstack(
                rx.switch(
                    checked=S.my_availability == "online",
                    on_change=S.set_online,
                    aria_label="I am online",
                ),
                rx.vstack(
                    rx.text(rx.cond(S.my_availability == "online", "You are online",
                                    "You are away"), weight="medium", size="2",
                            custom_attrs={"data-testid": "my-availability"}),
                    rx.text(rx.cond(S.my_availability == "online",
                                    "Waiting conversations may be assigned to you.",
                                    "Nothing new is assigned to you."), size="1", color=_MUTED),
                    spacing="0",
                ),
                spacing="3",
                align="center",
            ),
            size="1",
        ),
    )  # fmt: skip


def _capacity_editor(agent: rx.Var) -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.el.input(type="hidden", name="user_id", value=agent.user_id.to_string()),
            rx.text("Capacity", size="1", color=_MUTED),
            rx.input(name="capacity", type="number", min="0", max="500", size="1",
                     default_value=agent.capacity.to_string(), width="5em",
                     aria_label="Capacity of " + agent.name),
            rx.button("Save", size="1", variant="soft", type="submit"),
            spacing="2",
            align="center",
        ),
        on_submit=S.save_capacity,
        reset_on_submit=False,
        key=agent.user_id.to_string() + "-" + agent.capacity.to_string(),
    )  # fmt: skip


def _agents() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Agents", size="4", as_="h2"),
            rx.badge(S.online_count, " online", color_scheme="grass", radius="full"),
            align="center",
            spacing="2",
        ),
        rx.grid(
            rx.foreach(
                S.agents,
                lambda a: agent_card(a, rx.cond(S.can_manage, _capacity_editor(a))),
            ),
            columns=rx.breakpoints(initial="1", sm="2", lg="4"),
            spacing="3",
            width="100%",
        ),
        spacing="3",
        width="100%",
    )


def _flag(name: str, label: str) -> rx.Component:
    return rx.el.label(
        rx.hstack(
            rx.el.input(type="checkbox", name=name,
                        default_checked=S.policy_form.get(name, "") == "on"),
            rx.text(label, size="2"),
            spacing="2",
            align="center",
        ),
    )  # fmt: skip


def _policy_dialog() -> rx.Component:
    form, errors = S.policy_form, S.policy_errors

    def minutes(name: str, label: str, placeholder: str) -> rx.Component:
        return labelled_field(label, name, type_="number", required=False,
                              error=errors.get(name, ""), placeholder=placeholder,
                              default_value=form.get(name, ""))  # fmt: skip

    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(S.policy_id == 0, "New SLA policy", "Edit SLA policy")),
            rx.dialog.description(
                "Promise response and resolution times for conversations in people's hands. "
                "Empty targets are not timed.",
                size="2", color=_MUTED, margin_bottom="1em",
            ),
            rx.form(
                rx.vstack(
                    labelled_field("Name", "name", error=errors.get("name", ""),
                                   placeholder="Standard", default_value=form.get("name", "")),
                    rx.grid(
                        minutes("first_response_minutes", "First reply (minutes)", "15"),
                        minutes("next_response_minutes", "Next reply (minutes)", "30"),
                        minutes("resolution_minutes", "Resolution (minutes)", "480"),
                        minutes("warn_before_minutes", "Warn before (minutes)", "5"),
                        columns="2",
                        spacing="3",
                        width="100%",
                    ),
                    _flag("business_hours_only", "Count business hours only"),
                    rx.text("On a breach", size="2", weight="medium"),
                    _flag("escalate_notify_owner", "Notify the owners"),
                    _flag("escalate_raise_priority", "Raise the priority"),
                    _flag("escalate_reassign", "Reassign to another online agent"),
                    rx.text("Channels (none ticked: every channel)", size="2", weight="medium"),
                    rx.hstack(
                        *[
                            rx.el.label(
                                rx.hstack(
                                    rx.el.input(
                                        type="checkbox", name=f"channel_{kind}",
                                        default_checked=form.get("channels", "")
                                        .to(str).contains(kind),
                                    ),
                                    rx.text(label, size="2"),
                                    spacing="1",
                                    align="center",
                                ),
                            )
                            for kind, label in CHANNEL_LABELS.items()
                        ],
                        spacing="3",
                        wrap="wrap",
                    ),
                    rx.cond(errors.get("applies_to_channels", "") != "",
                            rx.text(errors.get("applies_to_channels", ""), size="2",
                                    color=rx.color("red", 11))),
                    _flag("is_active", "Active"),
                    form_error(errors.get("form", "")),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray",
                                                  type="button")),
                        rx.button("Save policy", type="submit"),
                        justify="end",
                        spacing="3",
                        width="100%",
                    ),
                    spacing="3",
                ),
                on_submit=S.save_policy,
                reset_on_submit=False,
                key=S.policy_id.to_string() + "-" + S.policy_open.to_string(),
            ),
            max_width="600px",
        ),
        open=S.policy_open,
        on_open_change=S.set_policy_open,
    )  # fmt: skip


def _delete_policy_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete this SLA policy?"),
            rx.alert_dialog.description(
                "“", S.delete_policy_name, "” will be deleted; conversations it times stop "
                "being timed.", size="2",
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray",
                                                 on_click=S.cancel_delete_policy)),
                rx.alert_dialog.action(rx.button("Delete", color_scheme="red",
                                                 on_click=S.confirm_delete_policy)),
                justify="end",
                spacing="3",
                margin_top="1em",
            ),
        ),
        open=S.delete_policy_id != 0,
    )  # fmt: skip


def _policies() -> rx.Component:
    def row(p: rx.Var) -> rx.Component:
        return rx.table.row(
            rx.table.row_header_cell(
                rx.vstack(
                    rx.hstack(rx.text(p.name, weight="medium", size="2"),
                              rx.cond(~p.is_active, rx.badge("inactive", color_scheme="gray")),
                              spacing="2"),
                    rx.text(p.escalation, size="1", color=_MUTED),
                    spacing="0",
                ),
            ),
            rx.table.cell(rx.text(p.summary, size="2")),
            rx.table.cell(rx.text(p.scope, size="2")),
            rx.table.cell(rx.text(rx.cond(p.business_hours_only, "Business hours",
                                          "Around the clock"), size="2")),
            rx.table.cell(
                rx.cond(
                    S.can_manage,
                    rx.hstack(
                        rx.icon_button(rx.icon("pencil", size=14), variant="ghost", size="1",
                                       aria_label="Edit " + p.name,
                                       on_click=S.edit_policy(p.id)),
                        rx.icon_button(rx.icon("trash-2", size=14), variant="ghost", size="1",
                                       color_scheme="red", aria_label="Delete " + p.name,
                                       on_click=S.ask_delete_policy(p.id, p.name)),
                        spacing="3",
                    ),
                ),
            ),
            align="center",
        )  # fmt: skip

    return rx.vstack(
        rx.hstack(
            rx.heading("SLA policies", size="4", as_="h2"),
            rx.spacer(),
            rx.cond(S.can_manage,
                    rx.button(rx.icon("circle-plus", size=15), "New policy", on_click=S.new_policy,
                              variant="soft")),
            width="100%",
            align="center",
        ),
        rx.cond(
            ~S.can_manage,
            rx.text("Owners and admins set SLA policies and capacities.", size="2", color=_MUTED),
        ),
        rx.cond(
            S.policies.length() > 0,
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                               ("Policy", "Targets", "Channels", "Clock", "")])),
                rx.table.body(rx.foreach(S.policies, row)),
                variant="surface",
                size="1",
                width="100%",
            ),
            rx.text("No SLA policy yet: conversations with people are not timed.", size="2",
                    color=_MUTED),
        ),
        spacing="3",
        width="100%",
    )  # fmt: skip


def handoff_page() -> rx.Component:
    """Waiting, assigned and breaching conversations (live), agents, and SLA policies."""
    board = rx.grid(
        board_column("Waiting", "hourglass", "amber", S.waiting,
                     "Nobody is waiting for a person.", "column-waiting"),
        board_column("Assigned", "user-check", "teal", S.assigned,
                     "No conversation is with an agent.", "column-assigned"),
        board_column("Breaching SLA", "siren", "red", S.breaching,
                     "No deadline is at risk.", "column-breaching"),
        columns=rx.breakpoints(initial="1", md="3"),
        spacing="3",
        width="100%",
    )  # fmt: skip
    body = rx.box(
        _policy_dialog(),
        _delete_policy_dialog(),
        rx.cond(
            S.loaded,
            rx.vstack(
                _my_presence(),
                board,
                _agents(),
                _policies(),
                spacing="5",
                width="100%",
            ),
            rx.center(rx.spinner(size="3"), padding="4em"),
        ),
        width="100%",
    )
    return section_page("handoff", body, wide=True)
