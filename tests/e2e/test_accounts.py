"""A new business signs up, logs out, logs back in and walks its dashboard, in Chromium."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from bizbot_app.sections import SECTIONS
from tests.e2e.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.e2e

PASSWORD = "saffron kettle harbour 31"


def log_in(page: Page, email: str, password: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_sign_up_log_out_log_in_and_walk_every_section(page: Page, app_url: str):
    page.goto(app_url + "/settings")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fsettings"))

    page.get_by_role("link", name="Create a business account").click()
    expect(page.get_by_role("heading", name="Create your business account")).to_be_visible()
    page.get_by_label("Business name").fill("Kilimani Kicks")
    page.get_by_label("Your name").fill("Wanjiru")
    page.get_by_label("Email").fill("wanjiru@kicks.example")
    page.get_by_label("Password").fill("password1")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert")).to_contain_text("too weak")

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/onboarding"))
    expect(page.get_by_role("heading", name="Onboarding", level=1)).to_be_visible()
    nav = page.get_by_role("navigation", name="Sections")
    expect(page.get_by_text("Kilimani Kicks")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login"))
    page.goto(app_url + "/")
    expect(page).to_have_url(re.compile(r"/login"))

    page.goto(app_url + "/settings")
    log_in(page, "wanjiru@kicks.example", "not my password")
    expect(page.get_by_role("alert")).to_contain_text("do not match an account")
    log_in(page, "wanjiru@kicks.example", PASSWORD)
    expect(page).to_have_url(re.compile(r"/settings"))
    expect(page.get_by_label("Business name")).to_have_value("Kilimani Kicks")

    for section in SECTIONS:
        nav.get_by_role("link", name=section.title, exact=True).click()
        expect(page.get_by_role("heading", name=section.title, level=1)).to_be_visible()
        expect(page.get_by_text("is not available to your role")).to_have_count(0)


def test_sign_up_with_a_taken_email_is_refused_on_the_form(page: Page, app_url: str):
    page.goto(app_url + "/signup")
    page.get_by_label("Business name").fill("Copycat")
    page.get_by_label("Your name").fill("Amina")
    page.get_by_label("Email").fill("owner@sunrise-bakery.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert")).to_contain_text("already exists")
    expect(page).to_have_url(re.compile(r"/signup"))


def test_an_agent_cannot_open_owner_pages(page: Page, app_url: str):
    page.goto(app_url + "/login")
    log_in(page, "agent@sunrise-bakery.example", DEMO_PASSWORD)
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    nav = page.get_by_role("navigation", name="Sections")
    expect(nav.get_by_role("link", name="Conversations")).to_be_visible()
    expect(nav.get_by_role("link", name="Settings")).to_have_count(0)
    page.goto(app_url + "/settings")
    expect(page.get_by_text("Settings is not available to your role")).to_be_visible()
    expect(page.get_by_label("Business name")).to_have_count(0)
