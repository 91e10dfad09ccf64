"""`/system`: the installation's workers, queues, failed jobs and last errors (instance admins)."""

from __future__ import annotations

import reflex as rx

from bizbot_app.pages.shell import bell
from bizbot_app.sections import NAV_ITEMS
from components.layout import page_frame
from components.sidebar import mobile_nav, sidebar
from components.system import (
    discard_dialog,
    doctor_card,
    errors_card,
    failed_jobs_card,
    header_bar,
    not_admin,
    queues_card,
    workers_card,
)
from state.base import BaseState
from state.system import SystemState


def system_page() -> rx.Component:
    """Everything an instance admin watches, refreshed every few seconds."""
    nav = {
        "allowed": BaseState.allowed_sections,
        "current": BaseState.section,
        "business_name": BaseState.business_name,
        "user_name": BaseState.user_name,
        "role": BaseState.role,
        "on_logout": BaseState.logout,
    }
    body = rx.vstack(
        header_bar(read_at=SystemState.read_at, notice=SystemState.notice,
                   error=SystemState.error, on_refresh=SystemState.refresh),
        failed_jobs_card(jobs=SystemState.failed_jobs, on_retry=SystemState.retry,
                         on_discard=SystemState.ask_discard, on_retry_all=SystemState.retry_all),
        discard_dialog(job=SystemState.discard_id, on_open_change=SystemState.set_discard_open,
                       on_confirm=SystemState.discard),
        workers_card(workers=SystemState.workers, alive=SystemState.workers_alive),
        queues_card(queues=SystemState.queues),
        errors_card(errors=SystemState.errors),
        doctor_card(findings=SystemState.findings, running=SystemState.doctor_running,
                    ran_at=SystemState.doctor_ran_at, on_run=SystemState.run_checks),
        spacing="4",
        width="100%",
    )  # fmt: skip
    return page_frame(
        sidebar(NAV_ITEMS, **nav),
        top_bar=mobile_nav(NAV_ITEMS, **nav),
        title="System",
        subtitle="This installation's workers, queues, failed jobs and errors.",
        body=rx.cond(BaseState.section_allowed, body, not_admin()),
        ready=BaseState.signed_in & (BaseState.section == "system"),
        header_actions=bell(),
    )
