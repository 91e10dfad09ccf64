"""`/system`: the installation's workers, queues, failed jobs and last errors (instance admins)."""

from __future__ import annotations

import reflex as rx

from bizbot_app.pages.shell import dashboard_page
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
from state.system import SystemState


def system_page() -> rx.Component:
    """Everything an instance admin watches, refreshed every few seconds."""
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
    return dashboard_page(
        "system",
        title="System",
        subtitle="This installation's workers, queues, failed jobs and errors.",
        body=body,
        denied=not_admin(),
    )
