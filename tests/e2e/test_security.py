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
