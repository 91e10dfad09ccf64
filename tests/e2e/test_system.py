"""The System page in Chromium: an instance admin retries a failed job; a member cannot look."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import DEMO_PASSWORD, App

pytestmark = pytest.mark.e2e

OWNER = "owner@sunrise-bakery.example"
AGENT = "agent@sunrise-bakery.example"


def log_in(page: Page, email: str, password: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_an_instance_admin_sees_a_failed_job_and_retries_it(page: Page, app: App):
    granted = app.cli("user", "admin", "--email", OWNER, "--grant")
    assert granted["is_instance_admin"] is True
    page.goto(app.url + "/login")
    log_in(page, OWNER, DEMO_PASSWORD)
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="System").click()
    expect(page.get_by_role("heading", name="System", level=1)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/system$"))
    expect(page.get_by_role("region", name="Workers")).to_contain_text("default")

    # A real job that fails until its cause is fixed: it removes a file that is not there yet.
    target = Path(tempfile.mkdtemp(prefix="bizbot-e2e-system-")) / "stale-export.csv"
    job_id = app.python(
        "from backend.core.queue import get_queue\n"
        f"print(get_queue('default').enqueue('os.remove', {str(target)!r}).id)"
    ).strip()
    # The worker fails it within moments; the open page shows it on its next auto-refresh.
    failed = (
        page.get_by_role("region", name="Failed jobs").get_by_role("row").filter(has_text=job_id)
    )
    expect(failed).to_contain_text("FileNotFoundError")
    expect(failed).to_contain_text("remove")
    expect(page.get_by_role("region", name="Queues")).to_contain_text("inbound")

    target.write_text("id,total\n")  # the cause, fixed
    failed.get_by_role("button", name="Retry").click()
    expect(page.get_by_text(f"Job {job_id} is back on the default queue.")).to_be_visible()
    expect(failed).to_have_count(0)

    checks = page.get_by_role("region", name="Checks")
    checks.get_by_role("button", name="Run checks").click()
    database = checks.get_by_role("row").filter(
        has=page.get_by_role("cell", name="database", exact=True)
    )
    # The Status column's cell (a badge) says exactly "ok".
    expect(database.get_by_role("cell").nth(1)).to_have_text("ok")
    expect(checks.get_by_role("button", name="Run checks")).to_be_enabled()

    # On a phone the wide tables scroll inside their cards; the page itself does not.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    workers = page.get_by_role("region", name="Workers")
    expect(workers).to_contain_text("default")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert workers.evaluate(
        "card => [...card.querySelectorAll('*')].some(e => e.scrollWidth > e.clientWidth"
        " && ['auto', 'scroll'].includes(getComputedStyle(e).overflowX))"
    )


def test_a_member_who_is_not_instance_admin_gets_no_system_page(page: Page, app_url: str):
    page.goto(app_url + "/login")
    log_in(page, AGENT, DEMO_PASSWORD)
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    nav = page.get_by_role("navigation", name="Sections")
    expect(nav.get_by_role("link", name="Conversations")).to_be_visible()
    expect(nav.get_by_role("link", name="System")).to_have_count(0)

    page.goto(app_url + "/system")
    expect(page.get_by_text("The System page is for this installation's admins")).to_be_visible()
    expect(page.get_by_role("heading", name="Failed jobs")).to_have_count(0)
