"""The Settings page in Chromium: profile and logo, hours, the SMTP override with a test email,
and deleting a business."""

from __future__ import annotations

import re
import secrets
import struct
import zlib
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import DEMO_PASSWORD, App
from tests.fakes.smtp_server import FakeSMTP

pytestmark = pytest.mark.e2e

PASSWORD = "saffron kettle 71 meadow"


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    raw = b"".join(b"\x00" + b"\x00\x80\xff" * 2 for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))  # fmt: skip


def _owner(app: App) -> tuple[str, str]:
    email = f"owner-{secrets.token_hex(4)}@settings.example"
    name = f"Shop {secrets.token_hex(3)}"
    app.cli("user", "create", "--email", email, "--password", PASSWORD, "--name", "Neema",
            "--business-name", name)  # fmt: skip
    return email, name


def _log_in(page: Page, app: App, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{app.url}/login?next=%2Fsettings")
    page.wait_for_load_state("networkidle")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/settings/?$"))
    expect(page.get_by_role("heading", name="Business profile")).to_be_visible()


def test_owner_edits_profile_logo_hours_and_email(page: Page, app: App, tmp_path: Path):
    email, _ = _owner(app)
    _log_in(page, app, email)
    new_name = f"Mama Mboga {secrets.token_hex(2)}"
    page.get_by_label("Business name", exact=True).fill(new_name)
    page.get_by_label("Timezone").fill("Africa/Nairobi")
    page.get_by_label("Default language").select_option("sw")
    page.get_by_label("Currency").select_option("KES")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_role("status").filter(has_text="Business profile saved.")).to_be_visible()
    logo = tmp_path / "logo.png"
    logo.write_bytes(_png())
    page.locator("#business-logo-upload input[type=file]").set_input_files(str(logo))
    expect(page.locator("#logo-note")).to_have_text("Logo saved.")
    page.reload()
    expect(page.get_by_label("Business name", exact=True)).to_have_value(new_name)
    expect(page.get_by_label("Currency")).to_have_value("KES")
    expect(page.get_by_label("Timezone")).to_have_value("Africa/Nairobi")
    # The sidebar (the visible one: phones get a top bar instead) shows the name and the logo.
    expect(page.locator("p:visible", has_text=new_name).first).to_be_visible()
    sidebar_logo = page.locator("img.business-logo:visible").first
    expect(sidebar_logo).to_be_visible()
    served = page.request.get(app.url + sidebar_logo.get_attribute("src"))
    assert (served.status, served.body()) == (200, _png())

    # Business hours: a bad range names the day; a good one is kept.
    page.get_by_label("Monday", exact=True).check()
    page.get_by_label("Monday hours").fill("18:00-08:00")
    page.get_by_role("button", name="Save hours").click()
    expect(page.get_by_role("alert").filter(has_text="Monday: 18:00 to 08:00 ends before")
           ).to_be_visible()  # fmt: skip
    page.get_by_label("Monday hours").fill("08:00-17:00")
    page.get_by_label("Out-of-hours reply").fill("Tumefunga; tutajibu saa mbili asubuhi.")
    page.get_by_role("button", name="Save hours").click()
    expect(page.get_by_text("Business hours saved.")).to_be_visible()
    page.reload()
    expect(page.get_by_label("Monday", exact=True)).to_be_checked()
    expect(page.get_by_label("Monday hours")).to_have_value("08:00-17:00")
    expect(page.get_by_label("Out-of-hours reply")).to_have_value(
        "Tumefunga; tutajibu saa mbili asubuhi."
    )

    # Email: the business's own server; the test email reaches it, and the owner sees so.
    with FakeSMTP() as smtp:
        page.get_by_label("SMTP server").fill("127.0.0.1")
        page.get_by_label("Port").fill(str(smtp.port))
        page.get_by_label("Security").select_option("none")
        page.get_by_label("Password", exact=True).fill("app-password-1")
        page.get_by_label("From address").fill(f"{new_name} <hello@mamamboga.example>")
        page.get_by_role("button", name="Save email settings").click()
        expect(page.get_by_text("Email settings saved.")).to_be_visible()
        expect(page.get_by_label("Password", exact=True)).to_have_value("")  # never sent back
        expect(page.get_by_label("Password", exact=True)).to_have_attribute(
            "placeholder", re.compile("^Set")
        )
        page.get_by_role("button", name="Send test email").click()
        expect(page.locator("#smtp-notice")).to_contain_text(f"Test email sent to {email}")
        [mail] = smtp.messages
        assert mail.envelope_to == [email]
        assert mail.message["From"] == f"{new_name} <hello@mamamboga.example>"
    # The server is gone now: the owner reads why, and the page keeps working.
    page.get_by_role("button", name="Send test email").click()
    expect(page.locator("#smtp-notice")).to_contain_text("The test email was not sent.")
    expect(page.get_by_text("Conversations are kept until you delete them")).to_be_visible()


def test_owner_deletes_a_throwaway_business_with_the_typed_confirmation(page: Page, app: App):
    email, name = _owner(app)
    _log_in(page, app, email)
    page.get_by_label("Type the business name to confirm").fill(name.lower())
    page.get_by_label("Your current password").fill(PASSWORD)
    page.get_by_role("button", name="Delete this business").click()
    expect(page.get_by_role("alert").filter(has_text="exactly as shown")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/settings/?$"))
    page.get_by_label("Type the business name to confirm").fill(name)
    page.get_by_label("Your current password").fill(PASSWORD)
    page.get_by_role("button", name="Delete this business").click()
    expect(page).to_have_url(re.compile(r"/business-deleted/?$"))
    expect(page.get_by_text("The business was deleted")).to_be_visible()
    expect(page.get_by_text(name)).to_be_visible()
    # Every session of the business ended: the dashboard asks to log in, and logging in says
    # the account no longer belongs to a business.
    page.goto(f"{app.url}/settings")
    expect(page).to_have_url(re.compile(r"/login"))
    page.wait_for_load_state("networkidle")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("no longer belongs to a business")).to_be_visible()


def test_agents_see_no_settings_section(page: Page, app: App):
    page.goto(f"{app.url}/login")
    page.wait_for_load_state("networkidle")
    page.get_by_label("Email").fill("agent@sunrise-bakery.example")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    nav = page.get_by_role("navigation", name="Sections").first
    expect(nav.get_by_role("link", name="Conversations")).to_be_visible()
    expect(nav.get_by_role("link", name="Settings")).to_have_count(0)
    page.goto(f"{app.url}/settings")
    expect(page.get_by_role("heading", name="Business profile")).to_have_count(0)
