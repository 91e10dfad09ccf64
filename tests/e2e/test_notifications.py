"""The Notifications page's filters: kind chips with counts, dates, unread, in Chromium."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import App

pytestmark = pytest.mark.e2e

OWNER = "filters@notify.example"
PASSWORD = "quiet harbour lemon 24"
# (kind, title, day of November 2026): the owner's notifications, newest last.
SEEDED = [
    ("new_handoff", "Handoff: Zawadi", 10),
    ("sla_breached", "SLA missed: Juma", 12),
    ("sla_about_to_breach", "SLA soon: Achieng", 14),
    ("new_lead", "New lead: Amina", 14),
]


@pytest.fixture(scope="module")
def seeded(app: App) -> None:
    app.cli("user", "create", "--email", OWNER, "--password", PASSWORD, "--name", "Filter Owner",
            "--business-name", "Filter Flowers")  # fmt: skip
    app.python(
        "from datetime import datetime, UTC\n"
        "import sqlalchemy as sa\n"
        "from backend.auth import repository\n"
        "from backend.core.db import session_scope\n"
        "from backend.models import Notification\n"
        "from backend.notifications import service\n"
        "from backend.tenants.repository import list_memberships_of_user\n"
        "with session_scope() as s:\n"
        f"    user = repository.find_user_by_login_email(s, email={OWNER!r})\n"
        "    m = list_memberships_of_user(s, user_id=user.id)[0]\n"
        f"    for kind, title, day in {SEEDED!r}:\n"
        "        [nid] = service.notify(s, business_id=m.business_id, kind=kind,\n"
        "                               user_ids=[user.id], title=title)\n"
        "        s.execute(sa.update(Notification).where(Notification.id == nid)\n"
        "                  .values(created_at=datetime(2026, 11, day, 12, tzinfo=UTC)))\n"
    )


def entries(page: Page):
    return page.get_by_label("Notifications list").get_by_test_id("notification")


@pytest.mark.usefixtures("seeded")
def test_filter_by_kind_and_dates_with_unread_and_mark_all(page: Page, app_url: str):
    page.goto(app_url + "/notifications")
    page.get_by_label("Email").fill(OWNER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Notifications", level=1)).to_be_visible()
    expect(entries(page)).to_have_count(4)

    kinds = page.get_by_role("group", name="Filter by kind")
    sla = kinds.get_by_role("button", name=re.compile(r"^SLA"))
    expect(sla).to_contain_text("2")
    expect(kinds.get_by_role("button", name=re.compile(r"^Leads"))).to_contain_text("1")
    expect(kinds.get_by_role("button", name=re.compile(r"^Payments"))).to_have_count(0)

    sla.click()
    expect(sla).to_have_attribute("aria-pressed", "true")
    expect(entries(page)).to_have_count(2)
    expect(entries(page).first).to_contain_text("SLA soon: Achieng")
    expect(entries(page).last).to_contain_text("SLA missed: Juma")

    # Dates narrow the list and the chips' counts.
    page.get_by_label("From date").fill("2026-11-13")
    expect(entries(page)).to_have_count(1)
    expect(entries(page)).to_contain_text("SLA soon: Achieng")
    expect(sla).to_contain_text("1")

    # Combined with the unread switch: read that one, and unread-only shows nothing left.
    entries(page).first.get_by_role("button", name="Mark read").click()
    page.get_by_text("Unread only").click()
    expect(entries(page)).to_have_count(0)
    expect(page.get_by_text("Nothing matches these filters")).to_be_visible()

    page.get_by_role("button", name="Clear filters").first.click()
    expect(page.get_by_label("From date")).to_have_value("")
    expect(entries(page)).to_have_count(3)  # the unread ones of every kind

    # Mark all read marks every notification, not only the ones a filter showed.
    page.get_by_text("Unread only").click()
    kinds.get_by_role("button", name=re.compile(r"^Handoffs")).click()
    expect(entries(page)).to_have_count(1)
    page.get_by_role("button", name="Mark all read").click()
    expect(page.get_by_test_id("page-unread")).to_contain_text("0 unread")
    page.reload()
    expect(page.get_by_test_id("page-unread")).to_contain_text("0 unread")
    expect(page.locator('[data-testid="notification"][data-read="false"]')).to_have_count(0)
