"""The owner's pipeline on /leads in Chromium: add a lead, move it by menu and by dragging,
column totals follow, a reload keeps it, and a lead the pipeline captures appears live."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import DEMO_PASSWORD, App

pytestmark = pytest.mark.e2e

OWNER = "owner@sunrise-bakery.example"
CAPTURE = """
from backend.core.db import session_scope
from backend.leads import service
from backend.tenants.service import find_demo_business
with session_scope() as session:
    business = find_demo_business(session)
    service.capture(session, business_id=business.id, source="ai", name="Live Lucy",
                    interest="A birthday cake")
"""


def open_leads(page: Page, app_url: str) -> None:
    page.goto(app_url + "/leads")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fleads"))
    page.get_by_label("Email").fill(OWNER)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/leads/?$"))
    expect(page.get_by_role("heading", name="Leads", level=1)).to_be_visible()


def column(page: Page, label: str):
    return page.get_by_role("region", name=label, exact=True)


def in_column(page: Page, label: str, lead: str):
    return column(page, label).get_by_role("listitem", name=lead)


def expect_totals(page: Page, stage: str, count: str, total: str) -> None:
    expect(page.locator(f"#count-{stage}")).to_have_text(count)
    expect(page.locator(f"#total-{stage}")).to_have_text(total)


def test_owner_adds_a_lead_and_moves_it_by_menu_and_by_dragging(page: Page, app: App):
    open_leads(page, app.url)
    expect_totals(page, "qualified", "0", "0.00 USD")

    page.get_by_role("button", name="New lead").click()
    dialog = page.get_by_role("dialog", name="New lead")
    dialog.get_by_label("Name").fill("Wanjiru Weddings")
    dialog.get_by_label("Value").fill("lots")
    dialog.get_by_role("button", name="Add lead").click()
    expect(dialog.get_by_text("is not a value")).to_be_visible()  # named, nothing stored
    dialog.get_by_label("Value").fill("500")
    dialog.get_by_role("button", name="Add lead").click()
    expect(dialog).to_be_hidden()

    card = page.get_by_role("listitem", name="Wanjiru Weddings")
    expect(in_column(page, "New", "Wanjiru Weddings")).to_be_visible()
    expect(card).to_contain_text("500.00 USD")

    # By keyboard-friendly menu: to Qualified.
    card.get_by_role("button", name="Move to…").click()
    page.get_by_role("menuitem", name="Qualified").click()
    expect(in_column(page, "Qualified", "Wanjiru Weddings")).to_be_visible()
    expect_totals(page, "qualified", "1", "500.00 USD")

    # By dragging: to Won.
    card.drag_to(column(page, "Won"))
    expect(in_column(page, "Won", "Wanjiru Weddings")).to_be_visible()
    expect_totals(page, "won", "1", "500.00 USD")
    expect_totals(page, "qualified", "0", "0.00 USD")

    # Stored, not just shown.
    page.reload()
    expect(in_column(page, "Won", "Wanjiru Weddings")).to_be_visible()
    expect_totals(page, "won", "1", "500.00 USD")

    # A lead the pipeline captures appears on the open board without a reload.
    app.python(CAPTURE)
    expect(in_column(page, "New", "Live Lucy")).to_be_visible()
