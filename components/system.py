"""Pieces of the System page: workers, queues, failed jobs, last errors and the doctor's checks.

Every table scrolls sideways inside its card, so the page works on a 390-px phone."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx


def _scroll(table: rx.Component) -> rx.Component:
    return rx.box(table, overflow_x="auto", width="100%", max_width="100%")


def _table(headers: tuple[str, ...], rows: rx.Var[list[dict]], row) -> rx.Component:
    return _scroll(
        rx.table.root(
            rx.table.header(
                rx.table.row(*[rx.table.column_header_cell(h, white_space="nowrap")
                               for h in headers])
            ),
            rx.table.body(rx.foreach(rows, row)),
            variant="surface",
            size="1",
            width="100%",
        )
    )  # fmt: skip


def _card(title: str, *children: rx.Component, action: rx.Component | None = None):
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(title, size="4", as_="h2"),
                action if action is not None else rx.fragment(),
                justify="between",
                align="center",
                width="100%",
                wrap="wrap",
                spacing="2",
            ),
            *children,
            spacing="3",
            width="100%",
        ),
        width="100%",
        min_width="0",
        role="region",
        aria_label=title,
    )


def _none(rows: rx.Var[list[dict]], text: str, table: rx.Component) -> rx.Component:
    return rx.cond(rows.length() > 0, table, rx.text(text, size="2", color_scheme="gray"))


def header_bar(
    *, read_at: rx.Var[str], notice: rx.Var[str], error: rx.Var[str], on_refresh
) -> rx.Component:
    """When the figures were read, the Refresh button, and the outcome of the last action."""
    return rx.vstack(
        rx.hstack(
            rx.text("Updated ", read_at, " · refreshes every 5 s while this page is open",
                    size="2", color_scheme="gray"),
            rx.button(rx.icon("refresh-cw", size=14), "Refresh", size="1", variant="soft",
                      on_click=on_refresh),
            align="center",
            spacing="3",
            wrap="wrap",
        ),
        rx.cond(notice != "", rx.callout(notice, icon="circle-check", color_scheme="green",
                                          size="1", role="status")),
        rx.cond(error != "", rx.callout(error, icon="circle-alert", color_scheme="red",
                                         size="1", role="alert")),
        spacing="2",
        width="100%",
    )  # fmt: skip


def _worker_row(w: rx.Var[dict]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(w["name"]), white_space="nowrap"),
        rx.table.cell(w["host"], white_space="nowrap"),
        rx.table.cell(w["pid"]),
        rx.table.cell(w["queues"]),
        rx.table.cell(
            rx.badge(w["state"], color_scheme=rx.match(
                w["state"], ("busy", "blue"), ("idle", "green"), ("stale", "red"), "gray"))
        ),
        rx.table.cell(rx.code(w["current_job"]), white_space="nowrap"),
        rx.table.cell(w["heartbeat"], white_space="nowrap"),
        rx.table.cell(w["successful"]),
        rx.table.cell(w["failed"]),
    )  # fmt: skip


def workers_card(*, workers: rx.Var[list[dict]], alive: rx.Var[int]) -> rx.Component:
    """Every RQ worker: host, pid, queues, busy or idle, current job, heartbeat, counts."""
    headers = ("Worker", "Host", "PID", "Queues", "State", "Current job", "Heartbeat", "Done",
               "Failed")  # fmt: skip
    return _card(
        "Workers",
        rx.text(alive, " alive (heartbeat in the last 90 s)", size="2"),
        _none(workers, "No worker is running: jobs wait in their queues. Start BizBot with "
                       "`make run`, or run `python -m backend.worker` on any host.",
              _table(headers, workers, _worker_row)),
    )  # fmt: skip


def _queue_row(q: rx.Var[dict]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(q["name"], weight="medium")),
        rx.table.cell(q["depth"]),
        rx.table.cell(q["oldest"], white_space="nowrap"),
        rx.table.cell(q["scheduled"]),
        rx.table.cell(q["deferred"]),
        rx.table.cell(q["failed"]),
    )


def queues_card(*, queues: rx.Var[list[dict]]) -> rx.Component:
    """Jobs waiting per queue, how long the oldest has waited, scheduled, deferred, failed."""
    headers = ("Queue", "Waiting", "Oldest waiting", "Scheduled", "Deferred", "Failed")
    return _card("Queues", _table(headers, queues, _queue_row))


def _failed_row(j: rx.Var[dict], on_retry, on_discard) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.code(j["function"]), white_space="nowrap"),
        rx.table.cell(j["queue"]),
        rx.table.cell(j["failed_at"], white_space="nowrap"),
        rx.table.cell(rx.text(j["error"], size="1", color=rx.color("red", 11)), min_width="16em"),
        rx.table.cell(j["business_id"]),
        rx.table.cell(rx.code(j["id"], size="1"), white_space="nowrap"),
        rx.table.cell(
            rx.hstack(
                rx.button("Retry", size="1", variant="soft", on_click=on_retry(j["id"])),
                rx.button("Discard", size="1", variant="soft", color_scheme="red",
                          on_click=on_discard(j["id"])),
                spacing="2",
            )
        ),
    )  # fmt: skip


def failed_jobs_card(
    *,
    jobs: rx.Var[list[dict]],
    on_retry: Callable,
    on_discard: Callable,
    on_retry_all,
) -> rx.Component:
    """Jobs that failed after their last retry, with Retry, Discard and Retry all."""
    headers = ("Job", "Queue", "Failed at", "Error", "Business", "Id", "")
    return _card(
        "Failed jobs",
        rx.text("Jobs land here after their last automatic retry. Fix the cause (see the error "
                "and the last errors below), then retry them; discard what should not run "
                "again.", size="2"),
        _none(jobs, "No failed jobs.",
              _table(headers, jobs, lambda j: _failed_row(j, on_retry, on_discard))),
        action=rx.cond(
            jobs.length() > 0,
            rx.button("Retry all", size="1", variant="soft", on_click=on_retry_all),
        ),
    )  # fmt: skip


def discard_dialog(
    *, job: rx.Var[str], on_open_change: Callable, on_confirm: rx.event.EventSpec
) -> rx.Component:
    """Asks before a failed job is deleted for good."""
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Discard this job?"),
            rx.alert_dialog.description(
                "Job ", rx.code(job), " is deleted and will not run again. This cannot be "
                "undone.", size="2",
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button("Discard job", color_scheme="red", on_click=on_confirm)
                ),
                justify="end",
                spacing="3",
                margin_top="1em",
            ),
            max_width="480px",
        ),
        open=job != "",
        on_open_change=on_open_change,
    )  # fmt: skip


def _error_row(e: rx.Var[dict]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(e["at"], white_space="nowrap"),
        rx.table.cell(rx.code(e["logger"], size="1"), white_space="nowrap"),
        rx.table.cell(rx.text(e["event"], size="1"), min_width="14em"),
        rx.table.cell(rx.text(e["error"], size="1", color=rx.color("red", 11)), min_width="14em"),
        rx.table.cell(e["business_id"]),
        rx.table.cell(rx.code(e["job_id"], size="1"), white_space="nowrap"),
    )


def errors_card(*, errors: rx.Var[list[dict]]) -> rx.Component:
    """The newest ERROR lines logged by any BizBot process (the last 200 are kept)."""
    headers = ("When (UTC)", "Logger", "What", "Error", "Business", "Job")
    return _card(
        "Last errors",
        _none(errors, "No errors logged.", _table(headers, errors, _error_row)),
    )


def _finding_row(f: rx.Var[dict]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(f["name"], weight="medium")),
        rx.table.cell(
            rx.badge(f["status"], color_scheme=rx.match(
                f["status"], ("ok", "green"), ("warn", "amber"), "red"))
        ),
        rx.table.cell(rx.text(f["detail"], size="1"), min_width="14em"),
        rx.table.cell(rx.text(f["fix"], size="1"), min_width="14em"),
    )  # fmt: skip


def doctor_card(
    *,
    findings: rx.Var[list[dict]],
    running: rx.Var[bool],
    ran_at: rx.Var[str],
    on_run,
) -> rx.Component:
    """The doctor's checks of every dependency and setting, run on demand."""
    return _card(
        "Checks",
        rx.text("The same checks as `python -m backend.cli doctor`: database, Redis, workers, "
                "settings, email, AI and tools; each says what to fix.", size="2"),
        rx.cond(
            findings.length() > 0,
            rx.vstack(
                rx.text("Checked at ", ran_at, size="1", color_scheme="gray"),
                _table(("Check", "Status", "Detail", "Fix"), findings, _finding_row),
                width="100%",
            ),
        ),
        action=rx.button(
            rx.cond(running, rx.spinner(size="1"), rx.icon("stethoscope", size=14)),
            rx.cond(running, "Checking…", "Run checks"),
            size="1",
            variant="soft",
            disabled=running,
            on_click=on_run,
        ),
    )  # fmt: skip


def not_admin() -> rx.Component:
    """What a member who does not run the installation sees at /system."""
    return rx.center(
        rx.vstack(
            rx.icon("lock", size=28, color=rx.color("accent", 11)),
            rx.heading("The System page is for this installation's admins", size="4", as_="h2"),
            rx.text("It shows the workers and jobs of every business on this BizBot. An "
                    "instance admin can give you access with `python -m backend.cli user admin "
                    "--email <your email> --grant`.", color=rx.color("gray", 11),
                    text_align="center", max_width="34em"),
            align="center",
            spacing="3",
        ),
        padding="4em 1em",
        border=f"1px dashed {rx.color('gray', 6)}",
        border_radius="12px",
        width="100%",
    )  # fmt: skip
