"""The Security page in Chromium: headers on pages, API keys, two-factor sign-in, the audit log."""

from __future__ import annotations

import re

import httpx
import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import App

pytestmark = pytest.mark.e2e

PASSWORD = "juniper lantern 42 cobalt"


def log_in(page: Page, email: str, password: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def _owner(app: App, email: str) -> None:
    app.cli("user", "create", "--email", email, "--password", PASSWORD, "--name", "Owner",
            "--business-name", f"Shop of {email}")  # fmt: skip


def _api(url: str, key: str) -> tuple[int, dict]:
    response = httpx.get(url, headers={"Authorization": f"Bearer {key}"}, timeout=10)
    return response.status_code, response.json()


def test_pages_carry_security_headers(app_url: str):
    headers = httpx.get(app_url + "/login", timeout=10).headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"]
    widget = httpx.get(app_url + "/widget.js", timeout=10).headers
    assert "x-frame-options" not in widget
    assert widget["x-content-type-options"] == "nosniff"


def test_owner_creates_uses_and_revokes_an_api_key(page: Page, app: App, app_url: str):
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if "Content Security" in m.text else None)
    _owner(app, "keys@shop.example")
    page.goto(app_url + "/security")
    log_in(page, "keys@shop.example", PASSWORD)
    expect(page.get_by_role("heading", name="Security", level=1)).to_be_visible()
    page.get_by_label("Key name").fill("CRM sync")
    page.get_by_label("conversations:read").check()
    page.get_by_role("button", name="Create API key").click()
    shown = page.get_by_label("New API key")
    expect(shown).to_contain_text("bb_")
    key = shown.inner_text().strip()

    status, body = _api(app_url + "/api/v1/conversations", key)
    assert status == 200
    assert body["data"] == []
    assert _api(app_url + "/api/v1/contacts", key)[0] == 403  # not in its scopes

    row = page.get_by_role("row").filter(has_text="CRM sync")
    expect(row).to_contain_text("active")
    row.get_by_role("button", name="Revoke").click()
    expect(row).to_contain_text("revoked")
    assert _api(app_url + "/api/v1/conversations", key)[0] == 401
    audit = page.get_by_role("row").filter(has_text="api_key.revoked")
    expect(audit).to_have_count(1)
    expect(page.get_by_role("row").filter(has_text="api_key.created")).to_have_count(1)
    assert errors == []


def test_two_factor_enrol_then_log_in_with_a_code(page: Page, app: App, app_url: str):
    _owner(app, "totp@shop.example")
    page.goto(app_url + "/security")
    log_in(page, "totp@shop.example", PASSWORD)
    page.get_by_role("button", name="Set up two-factor sign-in").click()
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    secret = page.locator("code").first.inner_text().strip()
    totp = pyotp.TOTP(secret)
    page.get_by_label("Code", exact=True).fill("000000")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("alert")).to_contain_text("not right")
    page.get_by_label("Code", exact=True).fill(totp.now())
    page.get_by_role("button", name="Confirm").click()
    codes = page.get_by_label("Recovery codes")
    expect(codes).to_be_visible()
    recovery = codes.inner_text().split()
    assert len(recovery) == 10
    expect(page.get_by_text("10 recovery codes left")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login"))
    log_in(page, "totp@shop.example", PASSWORD)
    page.get_by_label("Authentication code").fill("111111")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_contain_text("not right")
    page.get_by_label("Authentication code").fill(recovery[0])
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()

    page.goto(app_url + "/security")
    expect(page.get_by_text("9 recovery codes left")).to_be_visible()
    for action in ["2fa.enabled", "2fa.recovery_code_used", "login.failed", "login"]:
        expect(page.get_by_role("row").filter(has_text=action).first).to_be_visible()


def test_sign_out_other_sessions(browser, app: App, app_url: str):
    _owner(app, "sessions@shop.example")
    here = browser.new_context(user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0")
    there = browser.new_context()
    try:
        phone = there.new_page()
        phone.goto(app_url + "/login")
        log_in(phone, "sessions@shop.example", PASSWORD)
        expect(phone.get_by_role("heading", name="Overview", level=1)).to_be_visible()

        page = here.new_page()
        page.goto(app_url + "/security")
        log_in(page, "sessions@shop.example", PASSWORD)
        rows = page.get_by_role("row").filter(has=page.get_by_role("cell"))
        sessions = page.get_by_role("table").first
        expect(sessions.get_by_text("This browser")).to_be_visible()
        expect(sessions.get_by_text("Firefox on Linux")).to_be_visible()
        expect(sessions.get_by_role("button", name="Sign out")).to_have_count(1)
        page.get_by_role("button", name="Sign out all other sessions").click()
        expect(sessions.get_by_role("button", name="Sign out")).to_have_count(0)
        expect(rows.filter(has_text="session.revoked")).to_have_count(1)

        phone.goto(app_url + "/settings")
        expect(phone).to_have_url(re.compile(r"/login"))
    finally:
        here.close()
        there.close()


def _sql(app: App, business_name: str, statements: str) -> str:
    """Run `statements` with `s` (a session) and `b` (the business named so) in the app's DB."""
    body = "\n".join("    " + line for line in statements.strip().splitlines())
    return app.python(
        "from sqlmodel import select, delete\n"
        "from backend.core.db import session_scope\n"
        "from backend.models import AuditLog, Business, IPAllowlistEntry\n"
        "with session_scope() as s:\n"
        f"    b = s.exec(select(Business).where(Business.name == {business_name!r})).one()\n"
        f"{body}\n"
    )


def test_ip_allowlist_refuses_other_addresses_but_never_locks_the_owner_out(
    page: Page, app: App, app_url: str
):
    email = "allow@shop.example"
    _owner(app, email)
    page.goto(app_url + "/security")
    log_in(page, email, PASSWORD)
    # Made by the CLI's sign-up: the email is not confirmed yet.
    expect(page.get_by_text("Please confirm your email")).to_be_visible()
    page.get_by_role("button", name="Resend the link").click()
    expect(page.get_by_text(f"A new link is on its way to {email}")).to_be_visible()
    allowlist = page.get_by_label("IP allowlist")
    allowlist.fill("203.0.113.0/24")
    page.get_by_role("button", name="Save allowlist").click()
    refusal = page.get_by_role("alert").filter(has_text="lock you out")
    expect(refusal).to_contain_text("does not include the address you are using now")
    my_ip = re.search(r"now \(([^)]+)\)", refusal.inner_text()).group(1)
    allowlist.fill(f"203.0.113.0/24\n{my_ip}")
    page.get_by_role("button", name="Save allowlist").click()
    expect(page.get_by_role("row").filter(has_text="allowlist.changed")).to_have_count(1)

    # Someone else's address only (as if the owner's address had changed).
    business = f"Shop of {email}"
    _sql(app, business, """
s.exec(delete(IPAllowlistEntry).where(IPAllowlistEntry.business_id == b.id))
s.add(IPAllowlistEntry(business_id=b.id, cidr="203.0.113.0/24"))
""")  # fmt: skip
    page.goto(app_url + "/security")
    expect(page).to_have_url(re.compile(r"/access-denied"))
    expect(page.get_by_role("alert")).to_contain_text(
        f"Your IP address {my_ip} is not allowed for business {business}"
    )
    business_id = int(_sql(app, business, "print(b.id)"))
    key = app.cli("api-key", "create", "--business", str(business_id), "--scopes",
                  "contacts:read")["key"]  # fmt: skip
    status, body = _api(app_url + "/api/v1/contacts", key)
    assert (status, body["code"]) == (403, "ip_not_allowed")
    refused = _sql(app, business, """
rows = s.exec(select(AuditLog).where(AuditLog.business_id == b.id,
                                     AuditLog.action == "ip.refused")).all()
print(sorted(r.details["via"] for r in rows))
""")  # fmt: skip
    assert refused.strip() == "['api', 'dashboard']"


def test_required_two_factor_sends_members_to_enrolment_first(page: Page, app: App, app_url: str):
    owner = "strict@shop.example"
    _owner(app, owner)
    business = f"Shop of {owner}"
    business_id = _sql(app, business, "b.require_two_factor = True\ns.add(b)\nprint(b.id)")
    agent = "agent@strict.example"
    app.cli("user", "create", "--email", agent, "--password", PASSWORD, "--name", "Agent",
            "--business", business_id.strip(), "--role", "agent")  # fmt: skip
    page.goto(app_url + "/login")
    log_in(page, agent, PASSWORD)
    expect(page).to_have_url(re.compile(r"/two-factor-setup"))
    page.goto(app_url + "/conversations")
    expect(page).to_have_url(re.compile(r"/two-factor-setup"))
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    secret = page.locator("code").first.inner_text().strip()
    page.get_by_label("Authentication code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_text("Two-factor sign-in is on")).to_be_visible()
    page.get_by_role("button", name="Continue to the dashboard").click()
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    page.goto(app_url + "/conversations")
    expect(page.get_by_role("heading", name="Conversations", level=1)).to_be_visible()


def test_a_role_change_on_users_and_roles_ends_the_members_session(browser, app: App, app_url: str):
    owner_email, agent_email = "team@shop.example", "agent@team.example"
    _owner(app, owner_email)
    business_id = _sql(app, f"Shop of {owner_email}", "print(b.id)").strip()
    app.cli("user", "create", "--email", agent_email, "--password", PASSWORD, "--name",
            "Agent Kofi", "--business", business_id, "--role", "agent")  # fmt: skip
    # Billing is on in the e2e app: a third member needs more than the Free plan's two.
    app.python("from backend.billing.service import grant_plan\n"
               "from backend.core.db import session_scope\n"
               "with session_scope() as s:\n"
               f"    grant_plan(s, business_id={business_id}, plan='pro')")  # fmt: skip
    owner_ctx, agent_ctx = browser.new_context(), browser.new_context()
    try:
        agent = agent_ctx.new_page()
        agent.goto(app_url + "/login")
        log_in(agent, agent_email, PASSWORD)
        expect(agent.get_by_role("heading", name="Overview", level=1)).to_be_visible()

        page = owner_ctx.new_page()
        page.goto(app_url + "/users")
        log_in(page, owner_email, PASSWORD)
        expect(page.get_by_role("heading", name="Users & Roles", level=1)).to_be_visible()
        page.get_by_label("Email to invite").fill("new.hire@team.example")
        page.get_by_role("button", name="Send invitation").click()
        expect(page.get_by_role("row").filter(has_text="new.hire@team.example")).to_have_count(1)

        role = page.get_by_role("row").filter(has_text=agent_email).get_by_role("combobox")
        expect(role).to_contain_text("agent")
        role.click()
        page.get_by_role("option", name="viewer").click()
        expect(role).to_contain_text("viewer")

        agent.goto(app_url + "/conversations")
        expect(agent).to_have_url(re.compile(r"/login"))
        page.goto(app_url + "/security")
        changed = page.get_by_role("row").filter(has_text="member.role_changed")
        expect(changed).to_have_count(1)
        expect(page.get_by_role("row").filter(has_text="member.invited")).to_have_count(1)
    finally:
        owner_ctx.close()
        agent_ctx.close()
