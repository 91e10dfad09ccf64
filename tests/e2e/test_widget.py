"""The website widget embedded in a page of another local origin, in a real Chromium."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import CHROMIUM_ARGS, App, chromium_executable

HOSTILE_CSS = "<style>* { all: unset !important; } div { display: none !important; }</style>"
PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
{head}</head><body><h1>{title}</h1><p><a href="/other">Another page</a></p>
<script src="{app}/widget.js" data-bizbot-key="{key}" async></script></body></html>"""

# Stores an agent's reply through the service layer, as the inbox will.
AGENT_REPLY = """
import backend.live  # events reach open pages, as in the app's own processes
from sqlmodel import select
from backend.conversations import service
from backend.core.db import session_scope
from backend.models import Conversation, User
with session_scope() as session:
    conversation = session.exec(select(Conversation).order_by(Conversation.id.desc())).first()
    agent = session.exec(select(User).where(User.email == "agent@sunrise-bakery.example")).one()
    conversation.status, conversation.assignee_user_id = "human", agent.id
    service.add_outbound(session, conversation=conversation, sender_type="agent",
                         sender_user_id=agent.id, text="Tom here: your cake is ready at 4pm.")
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def widget_key(app: App) -> str:
    return app.cli("demo", "seed")["widget_key"]


@pytest.fixture(scope="module")
def site(app: App, widget_key: str) -> Iterator[str]:
    """A plain shop site on a second local origin that embeds the snippet."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            head = HOSTILE_CSS if self.path.startswith("/hostile") else ""
            title = "Another page" if self.path.startswith("/other") else "Corner Shop"
            body = PAGE.format(title=title, head=head, app=app.url, key=widget_key).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", _free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def w(page: Page, hook: str):
    """An element of the widget (Playwright's CSS locators pierce its open shadow root)."""
    return page.locator(f"bizbot-widget [data-bizbot='{hook}']")


def test_a_visitor_asks_gets_the_answer_and_then_an_agent(page: Page, site: str, app: App):
    api_calls: list[str] = []
    page.on("request", lambda r: api_calls.append(r.url) if "/api/widget/" in r.url else None)
    page.goto(site + "/")
    expect(w(page, "launcher")).to_be_visible()
    assert api_calls == [], "nothing but the script loads before the launcher is clicked"

    w(page, "launcher").click()
    expect(w(page, "panel")).to_be_visible()
    expect(w(page, "title")).to_have_text("Sunrise Bakery")
    expect(w(page, "greeting")).to_contain_text("Ask me about our bread")

    w(page, "input").fill("What are your opening hours?")
    w(page, "send").click()
    customer = w(page, "messages").locator("[data-sender='customer']")
    expect(customer.last).to_have_text("What are your opening hours?")
    ai = w(page, "messages").locator("[data-sender='ai']")
    expect(ai.last).to_contain_text("Monday to Saturday from 7:00 to 19:00")

    app.python(AGENT_REPLY)
    agent = w(page, "messages").locator("[data-sender='agent']")
    expect(agent.last).to_contain_text("Tom here: your cake is ready at 4pm.")
    expect(w(page, "agent")).to_contain_text("Tom Mwangi")

    # The conversation survives navigation and reload on the same site.
    page.click("text=Another page")
    expect(w(page, "panel")).to_be_visible()
    expect(w(page, "messages")).to_contain_text("Tom here: your cake is ready at 4pm.")
    page.reload()
    expect(w(page, "messages")).to_contain_text("What are your opening hours?")
    expect(w(page, "messages")).to_contain_text("Monday to Saturday")


RESOLVE_LATEST = """
import backend.live  # events reach open pages, as in the app's own processes
from sqlmodel import select
from backend.conversations import service
from backend.core.db import session_scope
from backend.models import Conversation
with session_scope() as session:
    conversation = session.exec(select(Conversation).order_by(Conversation.id.desc())).first()
    service.resolve(session, conversation=conversation)
"""
RATING_OF_LATEST = """
from sqlmodel import select
from backend.core.db import session_scope
from backend.models import Conversation
with session_scope() as session:
    conversation = session.exec(select(Conversation).order_by(Conversation.id.desc())).first()
    print(conversation.status, conversation.csat_score, conversation.csat_comment)
"""


def test_a_visitor_asks_for_a_human_and_rates_the_resolved_chat(page: Page, site: str, app: App):
    page.goto(site + "/")
    w(page, "launcher").click()
    w(page, "input").fill("What are your opening hours?")
    w(page, "send").click()
    expect(w(page, "messages").locator("[data-sender='ai']").last).to_contain_text("7:00")
    expect(w(page, "human")).to_be_visible()
    w(page, "human").click()
    system = w(page, "messages").locator("[data-sender='system']")
    expect(system.last).to_contain_text("A person from our team will be with you shortly")
    expect(w(page, "human")).to_be_hidden()

    app.python(RESOLVE_LATEST)
    expect(w(page, "csat")).to_be_visible()
    w(page, "csat").locator("[data-score='4']").click()
    w(page, "csat").locator("textarea").fill("Quick and friendly")
    w(page, "csat").locator("button[type='submit']").click()
    expect(w(page, "csat")).to_contain_text("Thanks for your feedback!")
    assert app.python(RATING_OF_LATEST).split() == ["resolved", "4", "Quick", "and", "friendly"]


def test_html_in_a_message_is_shown_as_text(page: Page, site: str):
    page.goto(site + "/")
    w(page, "launcher").click()
    w(page, "input").fill("<img src=x onerror=\"document.title='pwned'\">hello")
    w(page, "send").click()
    bubble = w(page, "messages").locator("[data-sender='customer']").last
    expect(bubble).to_have_text("<img src=x onerror=\"document.title='pwned'\">hello")
    assert bubble.locator("img").count() == 0
    expect(w(page, "messages").locator("[data-sender='ai']").last).to_be_visible()
    assert page.title() == "Corner Shop"


def test_hostile_page_css_does_not_break_the_widget(page: Page, site: str):
    page.goto(site + "/hostile")
    expect(w(page, "launcher")).to_be_visible()
    w(page, "launcher").click()
    panel = w(page, "panel")
    expect(panel).to_be_visible()
    box = panel.bounding_box()
    assert box is not None
    assert box["width"] > 250
    assert box["height"] > 300
    w(page, "input").fill("Do you have gluten-free bread?")
    w(page, "send").click()
    expect(w(page, "messages").locator("[data-sender='ai']").last).to_contain_text("gluten-free")


def test_the_panel_fills_a_phone_screen(browser: Browser, site: str):
    context = browser.new_context(viewport={"width": 375, "height": 700}, is_mobile=True)
    page = context.new_page()
    try:
        page.goto(site + "/")
        w(page, "launcher").click()
        box = w(page, "panel").bounding_box()
        assert box is not None
        assert box["width"] >= 374  # the whole screen, not the 370 px desktop panel
        assert box["height"] >= 690
    finally:
        context.close()


def test_arabic_visitors_get_a_right_to_left_widget(browser: Browser, site: str):
    context = browser.new_context(locale="ar")
    page = context.new_page()
    try:
        page.goto(site + "/")
        w(page, "launcher").click()
        expect(w(page, "panel")).to_be_visible()
        assert w(page, "panel").evaluate("el => getComputedStyle(el).direction") == "rtl"
        placeholder = w(page, "input").get_attribute("placeholder") or ""
        assert any("\u0600" <= ch <= "\u06ff" for ch in placeholder), placeholder
    finally:
        context.close()


def test_a_site_that_is_not_allowed_is_refused(browser: Browser, site: str):
    # The shop site under a name the demo does not allow: elsewhere.test resolves to the same
    # loopback server, so Chromium's local-network rules treat it like the allowed one.
    port = site.rsplit(":", 1)[1]
    other = browser.browser_type.launch(
        executable_path=chromium_executable(),
        args=[*CHROMIUM_ARGS, "--host-resolver-rules=MAP elsewhere.test 127.0.0.1"],
    )
    try:
        page = other.new_page()
        statuses: list[int] = []
        page.on("response", lambda r: statuses.append(r.status) if "/api/" in r.url else None)
        page.goto(f"http://elsewhere.test:{port}/")
        w(page, "launcher").click()
        expect(w(page, "error")).to_be_visible()
        expect(w(page, "error")).to_contain_text("isn't available on this site")
        assert 403 in statuses
        assert w(page, "messages").locator("[data-sender='ai']").count() == 0
    finally:
        other.close()
