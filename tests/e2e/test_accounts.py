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
    expect(page.get_by_text("Kilimani Kicks").filter(visible=True)).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login"))
    page.goto(app_url + "/")
    expect(page).to_have_url(re.compile(r"/login"))

    page.goto(app_url + "/settings")
    log_in(page, "wanjiru@kicks.example", "not my password")
    expect(page.get_by_role("alert")).to_contain_text("do not match an account")
    log_in(page, "wanjiru@kicks.example", PASSWORD)
    expect(page).to_have_url(re.compile(r"/settings"))
    expect(page.get_by_role("textbox", name="Business name", exact=True)).to_have_value(
        "Kilimani Kicks"
    )

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


def _reset_link(app, email: str) -> str:
    """The link the reset email carries (issued in the app's database, as the form does)."""
    return app.python(
        "from backend.auth import account, repository\n"
        "from backend.core.db import session_scope\n"
        "from backend.tenants.repository import list_memberships_of_user\n"
        "from datetime import timedelta\n"
        "with session_scope() as s:\n"
        f"    user = repository.find_user_by_login_email(s, email={email!r})\n"
        "    business_id = list_memberships_of_user(s, user_id=user.id)[0].business_id\n"
        "    print(account._issue(s, user=user, business_id=business_id,"
        " purpose=account.PASSWORD_RESET, lifetime=timedelta(hours=1)))\n"
    ).strip()


def test_forgotten_password_is_reset_by_a_single_use_link(page: Page, app, app_url: str):
    email = "forgetful@shop.example"
    app.cli("user", "create", "--email", email, "--password", PASSWORD, "--name", "Forgetful",
            "--business-name", "Forgetful Shop")  # fmt: skip
    page.goto(app_url + "/login")
    page.get_by_role("link", name="Forgot password?").click()
    expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Email me a reset link").click()
    expect(page.get_by_role("status")).to_contain_text("If an account uses that email")
    # An unknown email gets exactly the same answer (in a fresh tab: a fresh form).
    other = page.context.new_page()
    other.goto(app_url + "/forgot-password")
    other.get_by_label("Email").fill("nobody@shop.example")
    other.get_by_role("button", name="Email me a reset link").click()
    expect(other.get_by_role("status")).to_contain_text("If an account uses that email")
    other.close()

    link = f"{app_url}/reset-password?token={_reset_link(app, email)}"
    page.goto(link)
    expect(page.get_by_text(email)).to_be_visible()
    new_password = "marble quill tundra 58"
    page.get_by_label("New password", exact=True).fill(new_password)
    page.get_by_label("New password again").fill("something else entirely")
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_role("alert")).to_contain_text("The two passwords differ")
    page.get_by_label("New password", exact=True).fill(new_password)
    page.get_by_label("New password again").fill(new_password)
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_role("status")).to_contain_text("Your password is changed")

    page.goto(link)
    expect(page.get_by_role("alert")).to_contain_text("already used")
    page.goto(app_url + "/login")
    log_in(page, email, PASSWORD)
    expect(page.get_by_role("alert")).to_contain_text("do not match an account")
    log_in(page, email, new_password)
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()


def test_an_invitation_link_creates_a_verified_member(page: Page, app, app_url: str):
    owner = "inviter@shop.example"
    app.cli("user", "create", "--email", owner, "--password", PASSWORD, "--name", "Inviter",
            "--business-name", "Inviting Shop")  # fmt: skip
    # The invitation as the Users & Roles page makes it, with a token we know (it is emailed).
    app.python(
        "from backend.auth import members, repository\n"
        "from backend.auth.permissions import Actor\n"
        "from backend.core.db import session_scope\n"
        "from backend.tenants.repository import list_memberships_of_user\n"
        "members.new_token = lambda: 'e2e-invite-token'\n"
        "with session_scope() as s:\n"
        f"    user = repository.find_user_by_login_email(s, email={owner!r})\n"
        "    m = list_memberships_of_user(s, user_id=user.id)[0]\n"
        "    actor = Actor(user_id=user.id, business_id=m.business_id, role=m.role)\n"
        "    members.invite_member(s, actor=actor, email='hire@shop.example', role='agent')\n"
    )
    page.goto(app_url + "/invite?token=e2e-invite-token")
    expect(page.get_by_text("Inviting Shop")).to_be_visible()
    page.get_by_label("Your name").fill("New Hire")
    page.get_by_label("Choose a password").fill("short")
    page.get_by_role("button", name="Accept invitation").click()
    expect(page.get_by_role("alert")).to_contain_text("at least")
    page.get_by_label("Choose a password").fill("copper meadow violin 73")
    page.get_by_role("button", name="Accept invitation").click()
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    expect(page.get_by_text("Inviting Shop").filter(visible=True)).to_be_visible()
    page.goto(app_url + "/security")
    expect(page.get_by_role("heading", name="Security", level=1)).to_be_visible()
    expect(page.get_by_text("Please confirm your email")).to_have_count(0)

    page.goto(app_url + "/invite?token=e2e-invite-token")
    expect(page.get_by_role("alert")).to_contain_text("already accepted")
