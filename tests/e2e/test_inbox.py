"""The live inbox in Chromium: a customer and agents in separate browsers, two businesses apart."""

from __future__ import annotations

import json
import re
import socket
import struct
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import DEMO_PASSWORD, App

pytestmark = pytest.mark.e2e

OWNER = "owner@sunrise-bakery.example"
AGENT = "agent@sunrise-bakery.example"
SHOP = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Corner Shop</title>
</head><body><h1>Corner Shop</h1>
<script src="{app}/widget.js" data-bizbot-key="{key}" async></script></body></html>"""

# Stores a customer's message the way a channel's webhook does (service.receive, then the
# worker's pipeline), waits until the pipeline has stored it, and prints where it landed.
INJECT = """
import json, sys, time, uuid
from sqlmodel import select
from backend.channels import repository as channels_repo
from backend.channels.base import ChannelConfig, MessageIn
from backend.conversations import service
from backend.core.db import session_scope
from backend.models import Message
business_id, sender, name, text = json.loads(sys.argv[1])
with session_scope() as session:
    channel = channels_repo.find_integration_of_kind(
        session, business_id=business_id, kind="widget")
    cfg = ChannelConfig(integration_id=channel.id, business_id=business_id, kind="widget")
    service.receive(session, cfg=cfg, events_in=[MessageIn(
        external_id=uuid.uuid4().hex, sender_id=sender, text=text, sender_name=name)])
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    with session_scope() as session:
        found = session.exec(select(Message).where(
            Message.business_id == business_id, Message.text == text)).first()
        if found is not None:
            print(json.dumps({"conversation_id": found.conversation_id, "message_id": found.id}))
            break
    time.sleep(0.05)
else:
    raise SystemExit("the pipeline did not store the message")
"""

# A second business with its owner and a website chat channel.
SECOND_BUSINESS = """
import json
from backend.auth import service as auth
from backend.channels import service as channels
from backend.channels import widget
from backend.core.db import session_scope
with session_scope() as session:
    result = auth.sign_up(session, business_name="Other Bakery", name="Other Owner",
                          email="owner@other-bakery.example", password="lantern maple orbit 42")
    channels.create_integration(session, business_id=result.business_id, kind="widget",
                                name="Website chat", config=dict(widget.DEFAULTS),
                                public_key=widget.new_public_key())
print(json.dumps({"business_id": result.business_id}))
"""

# As the pipeline in the worker does when a customer asks for a person (the worker's listeners:
# live push, handoff routing, notifications).
CALL_A_PERSON = """
import sys
import backend.handoff.tasks, backend.live, backend.notifications.tasks
from backend.conversations import service
from backend.core.db import session_scope
from backend.models import Conversation
with session_scope() as session:
    conversation = session.get(Conversation, int(sys.argv[1]))
    # The AI may already have called a person for this message; either way a handoff exists.
    service.request_human(session, conversation=conversation, reason="customer_request")
"""

SUBSCRIBERS = """
import sys
from redis import Redis
from backend.core.redis import redis_url
from backend.live import tenant_channel
print(dict(Redis.from_url(redis_url()).pubsub_numsub(tenant_channel(int(sys.argv[1]))))
      .popitem()[1])
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(app: App, code: str, *args: object) -> str:
    """Like app.python, with argv."""
    return app.python(f"import sys; sys.argv = ['-', *{[str(a) for a in args]!r}]\n{code}")


@pytest.fixture(scope="module")
def seed(app: App) -> dict:
    return app.cli("demo", "seed")


@pytest.fixture(scope="module")
def shop(app: App, seed: dict) -> Iterator[str]:
    """A shop site on a second local origin that embeds the website chat."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = SHOP.format(app=app.url, key=seed["widget_key"]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", _free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def contexts(browser: Browser) -> Iterator[Callable[[], BrowserContext]]:
    """New browser contexts (separate people), all closed at the end."""
    made: list[BrowserContext] = []

    def new() -> BrowserContext:
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        context.set_default_timeout(20_000)
        made.append(context)
        return context

    yield new
    for context in made:
        context.close()


def signed_in(context: BrowserContext, app: App, email: str, path: str) -> Page:
    page = context.new_page()
    page.goto(f"{app.url}/login?next={path.replace('/', '%2F').replace('?', '%3F')}")
    # Until the page's scripts have loaded, Log in would submit the form natively (a GET).
    page.wait_for_load_state("networkidle")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(re.escape(path.split("?")[0])))
    return page


def inbox_ready(page: Page) -> None:
    expect(page.get_by_role("heading", name="Conversations", level=1)).to_be_visible()
    expect(page.get_by_role("region", name="Conversation list")).to_be_visible()


def row(page: Page, conversation_id: int):
    rows = page.locator("[data-testid='conversation-row']")
    return rows.and_(page.locator(f"[data-conversation-id='{conversation_id}']"))


def thread(page: Page):
    return page.get_by_role("log", name="Messages")


def bubbles(page: Page, sender: str):
    return thread(page).locator(f"[data-testid='message'][data-sender='{sender}']")


def w(page: Page, hook: str):
    return page.locator(f"bizbot-widget [data-bizbot='{hook}']")


def inject(app: App, business_id: int, text: str, sender: str | None = None) -> dict:
    sender = sender or f"e2e-{uuid.uuid4().hex[:10]}"
    return json.loads(_run(app, INJECT, json.dumps([business_id, sender, None, text])))


def conversation_of(app: App, text: str) -> int:
    """The conversation a message with `text` was stored in (waits for the pipeline)."""
    code = """
import sys, time
from sqlmodel import select
from backend.core.db import session_scope
from backend.models import Message
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    with session_scope() as session:
        found = session.exec(select(Message).where(Message.text == sys.argv[1])).first()
    if found is not None:
        print(found.conversation_id)
        break
    time.sleep(0.05)
"""
    return int(_run(app, code, text).strip())


def eventually(check: Callable[[], bool], what: str, timeout: float = 20) -> None:
    """Poll a backend condition (not the page) until it holds."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def test_a_customer_message_appears_live_and_the_reply_reaches_the_widget(
    app: App, seed: dict, shop: str, contexts
):
    agent = signed_in(contexts(), app, AGENT, "/conversations")
    inbox_ready(agent)
    agent.get_by_role("tab", name=re.compile("^All")).click()

    customer = contexts().new_page()
    customer.goto(shop + "/")
    w(customer, "launcher").click()
    token = uuid.uuid4().hex[:8]
    first = f"What are your opening hours? ({token})"
    w(customer, "input").fill(first)
    w(customer, "send").click()
    expect(w(customer, "messages").locator("[data-sender='customer']").last).to_have_text(first)

    # The conversation appears in the agent's list without a reload.
    cid = conversation_of(app, first)
    expect(row(agent, cid)).to_be_visible()
    expect(row(agent, cid).get_by_test_id("preview")).not_to_have_text("")
    row(agent, cid).click()
    expect(bubbles(agent, "customer").first).to_contain_text(token)
    expect(agent).to_have_url(re.compile(rf"/conversations\?c={cid}$"))

    # The owner opens the same conversation in another browser.
    owner = signed_in(contexts(), app, OWNER, f"/conversations?c={cid}")
    expect(bubbles(owner, "customer").first).to_contain_text(token)

    # While the thread is open, the customer's next message arrives in it live.
    second = f"Can someone check my order? ({token}-2)"
    w(customer, "input").fill(second)
    w(customer, "send").click()
    expect(bubbles(agent, "customer").filter(has_text=f"{token}-2")).to_have_count(1)
    expect(bubbles(owner, "customer").filter(has_text=f"{token}-2")).to_have_count(1)

    # The agent replies: the customer gets it live, the owner sees it live.
    reply = f"Tom here: your order is on its way ({token}-3)"
    agent.get_by_label("Reply", exact=True).fill(reply)
    agent.get_by_role("button", name="Send").click()
    expect(bubbles(agent, "agent").filter(has_text=reply)).to_have_count(1)
    expect(w(customer, "messages").locator("[data-sender='agent']").last).to_contain_text(reply)
    expect(bubbles(owner, "agent").filter(has_text=reply)).to_have_count(1)
    mine = bubbles(agent, "agent").filter(has_text=reply)
    expect(mine.get_by_test_id("delivery")).to_have_text(re.compile("Sent|Delivered|Read"))
    # Replying took the conversation: the header says so on both screens.
    expect(agent.get_by_test_id("thread-status")).to_have_text("With agent")
    expect(owner.get_by_test_id("thread-assignee")).to_have_text("Tom Mwangi")

    # The owner's private note reaches the agent live and never the customer.
    owner.get_by_role("radio", name="Private note").click()
    note = f"VIP customer, be quick ({token}-4)"
    owner.get_by_label("Private note", exact=True).fill(note)
    owner.get_by_role("button", name="Add note").click()
    expect(bubbles(agent, "note").filter(has_text=note)).to_have_count(1)
    expect(w(customer, "messages")).not_to_contain_text(note)


def test_one_business_never_sees_another_business_messages(app: App, seed: dict, contexts):
    other = json.loads(app.python(SECOND_BUSINESS))
    agent = signed_in(contexts(), app, AGENT, "/conversations")
    inbox_ready(agent)
    agent.get_by_role("tab", name=re.compile("^All")).click()

    token = uuid.uuid4().hex[:8]
    theirs = inject(app, other["business_id"], f"Secret order for Other Bakery {token}")
    ours = inject(app, seed["business_id"], f"Is the rye bread ready? {token}")

    # Ours arrives live; theirs, stored before it, never does.
    expect(row(agent, ours["conversation_id"])).to_be_visible()
    row(agent, ours["conversation_id"]).click()
    expect(bubbles(agent, "customer").first).to_contain_text(f"rye bread ready? {token}")
    expect(row(agent, theirs["conversation_id"])).to_have_count(0)
    expect(agent.get_by_text("Secret order for Other Bakery")).to_have_count(0)

    # Nor by searching for it, nor by its address.
    agent.get_by_label("Search conversations").fill(token)
    expect(row(agent, ours["conversation_id"])).to_be_visible()
    expect(agent.locator("[data-testid='conversation-row']")).to_have_count(1)
    agent.goto(f"{app.url}/conversations?c={theirs['conversation_id']}")
    expect(agent.get_by_role("alert")).to_contain_text("was not found in Sunrise Bakery")
    expect(agent.get_by_text("Secret order for Other Bakery")).to_have_count(0)


def test_the_bell_counts_a_new_handoff_live(app: App, seed: dict, contexts):
    agent = signed_in(contexts(), app, AGENT, "/handoff")
    expect(agent.get_by_role("heading", name="Handoff", level=1)).to_be_visible()
    bell = agent.get_by_role("button", name="Notifications")
    count = agent.get_by_test_id("bell-count")
    bell.click()
    dropdown = agent.get_by_role("dialog", name="Latest notifications")
    expect(dropdown).to_be_visible()
    if count.count():
        dropdown.get_by_role("button", name="Mark all read").click()
    expect(count).to_have_count(0)
    agent.keyboard.press("Escape")

    token = uuid.uuid4().hex[:8]
    ours = inject(app, seed["business_id"], f"My cake order is wrong {token}")
    _run(app, CALL_A_PERSON, ours["conversation_id"])

    expect(count).to_have_text(re.compile(r"^[1-9][0-9]*$"))
    # The board shows the conversation waiting or assigned, live too.
    card = agent.locator(
        f"[data-testid='board-card'][data-conversation-id='{ours['conversation_id']}']"
    )
    expect(card).to_be_visible()

    bell.click()
    entry = dropdown.get_by_test_id("notification").filter(has_text="New handoff").first
    expect(entry).to_be_visible()
    entry.click()
    expect(agent).to_have_url(re.compile(rf"/conversations\?c={ours['conversation_id']}$"))
    expect(bubbles(agent, "customer").first).to_contain_text(token)


def test_a_viewer_reads_but_cannot_reply_or_act(app: App, seed: dict, contexts):
    viewer = "viewer@sunrise-bakery.example"
    app.cli("user", "create", "--business", str(seed["business_id"]), "--role", "viewer",
            "--email", viewer, "--name", "Vera Viewer", "--password", DEMO_PASSWORD)  # fmt: skip
    token = uuid.uuid4().hex[:8]
    ours = inject(app, seed["business_id"], f"Do you sell baguettes? {token}")
    page = signed_in(contexts(), app, viewer, f"/conversations?c={ours['conversation_id']}")
    expect(bubbles(page, "customer").first).to_contain_text(token)
    expect(page.get_by_text("can read conversations but not reply")).to_be_visible()
    expect(page.get_by_role("form", name="Composer")).to_have_count(0)
    expect(page.get_by_role("button", name="Take over")).to_have_count(0)
    expect(page.get_by_role("button", name="Canned responses")).to_have_count(0)
    # Reading does not mark it read for the team.
    expect(row(page, ours["conversation_id"]).get_by_test_id("unread")).to_be_visible()


def test_the_live_subscription_follows_the_tab_and_ends_with_it(app: App, seed: dict, contexts):
    def subscribers() -> int:
        return int(_run(app, SUBSCRIBERS, seed["business_id"]).strip())

    eventually(lambda: subscribers() == 0, "no tab of this business is open")
    context = contexts()
    page = signed_in(context, app, AGENT, "/conversations")
    inbox_ready(page)
    eventually(lambda: subscribers() == 1, "the open tab listens")

    nav = page.get_by_role("navigation", name="Sections")
    nav.get_by_role("link", name="Handoff").click()
    expect(page.get_by_role("heading", name="Handoff", level=1)).to_be_visible()
    nav.get_by_role("link", name="Conversations").click()
    inbox_ready(page)
    page.reload()
    inbox_ready(page)
    eventually(lambda: subscribers() == 1, "navigating and reloading leave one subscription")

    context.close()
    eventually(lambda: subscribers() == 0, "closing the tab ends its listener")


# A WhatsApp conversation whose customer last wrote three days ago (no call to Meta: the
# channel is stored the way `channel add --no-register` stores it).
LATE_WHATSAPP = """
import json, sys
from datetime import timedelta
from backend.channels import service as channels
from backend.core.db import session_scope
from backend.models import Contact, ContactChannelIdentity, Conversation, Message
from backend.models.base import utcnow
business_id, text = int(sys.argv[1]), sys.argv[2]
then = utcnow() - timedelta(days=3)
with session_scope() as session:
    channel = channels.create_integration(
        session, business_id=business_id, kind="whatsapp", name="Shop WhatsApp",
        credentials={"phone_number_id": "1", "access_token": "t", "app_secret": "s"})
    contact = Contact(business_id=business_id, name="Late Customer")
    session.add(contact)
    session.flush()
    session.add(ContactChannelIdentity(business_id=business_id, contact_id=contact.id,
        channel_integration_id=channel.id, external_user_id="254700000099"))
    conversation = Conversation(business_id=business_id, contact_id=contact.id,
        channel_integration_id=channel.id, status="waiting_for_agent", created_at=then,
        last_message_at=then, last_customer_message_at=then)
    session.add(conversation)
    session.flush()
    session.add(Message(business_id=business_id, conversation_id=conversation.id, text=text,
                        created_at=then))
print(json.dumps({"conversation_id": conversation.id}))
"""


def test_the_whatsapp_window_notice_and_an_attachment_sent_and_shown(
    app: App, seed: dict, contexts, tmp_path
):
    token = uuid.uuid4().hex[:8]
    late = json.loads(_run(app, LATE_WHATSAPP, seed["business_id"], f"Do you deliver? {token}"))
    agent = signed_in(contexts(), app, AGENT, f"/conversations?c={late['conversation_id']}")
    expect(bubbles(agent, "customer").first).to_contain_text(token)
    notice = agent.get_by_test_id("reply-window")
    expect(notice).to_contain_text(
        "The customer last wrote 3 days ago; WhatsApp only allows template messages outside "
        "24 hours: send an approved template"
    )
    expect(agent.get_by_role("button", name="Send a template")).to_be_visible()
    expect(agent.get_by_role("button", name="Send", exact=True)).to_be_disabled()
    # A private note for the team is still possible.
    agent.get_by_role("radio", name="Private note").click()
    expect(agent.get_by_role("button", name="Add note")).to_be_enabled()
    agent.get_by_role("radio", name="Reply").click()

    # A website chat conversation has no window: attach a picture, see it in the thread.
    fresh = inject(app, seed["business_id"], f"Can I see the cake? {token}")
    agent.goto(f"{app.url}/conversations?c={fresh['conversation_id']}")
    expect(bubbles(agent, "customer").first).to_contain_text(f"see the cake? {token}")
    expect(agent.get_by_test_id("reply-window")).to_have_count(0)
    picture = tmp_path / "cake.png"
    picture.write_bytes(PNG_1PX)
    agent.get_by_test_id("attach").locator("input[type=file]").set_input_files(picture)
    sent = bubbles(agent, "agent").filter(has=agent.get_by_test_id("attachment"))
    expect(sent).to_have_count(1)
    image = sent.get_by_role("img", name="cake.png")
    expect(image).to_be_visible()
    expect(sent.get_by_test_id("delivery")).to_have_text(re.compile("Sent|Delivered|Read"))
    src = image.get_attribute("src")
    assert src.startswith("/api/media/")
    assert agent.request.get(app.url + src).body() == PNG_1PX  # served to the signed-in agent
    assert agent.context.browser.new_context().request.get(app.url + src).status == 404

    # A file BizBot does not send is refused with the reason, and nothing is added.
    program = tmp_path / "setup.exe"
    program.write_bytes(b"MZ\x90\x00")
    agent.get_by_test_id("attach").locator("input[type=file]").set_input_files(program)
    expect(agent.get_by_role("alert")).to_contain_text("which BizBot does not send")
    expect(bubbles(agent, "agent")).to_have_count(1)


def _png_1px() -> bytes:
    """The smallest valid PNG: one white pixel."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    signature = b"\x89PNG\r\n\x1a\n"
    return signature + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


PNG_1PX = _png_1px()


def test_an_sla_policy_is_created_then_edited(app: App, seed: dict, contexts):
    owner = signed_in(contexts(), app, OWNER, "/handoff")
    name = f"Priority {uuid.uuid4().hex[:6]}"
    owner.get_by_role("button", name="New policy").click()
    dialog = owner.get_by_role("dialog")
    dialog.get_by_label("Name").fill(name)
    dialog.get_by_label("First reply (minutes)").fill("15")
    dialog.get_by_label("Resolution (minutes)").fill("480")
    dialog.get_by_role("button", name="Save policy").click()
    policy = owner.get_by_role("row").filter(has_text=name)
    expect(policy).to_contain_text("First reply 15 min")

    owner.get_by_role("button", name=f"Edit {name}").click()
    dialog = owner.get_by_role("dialog")
    expect(dialog.get_by_label("First reply (minutes)")).to_have_value("15")
    dialog.get_by_label("First reply (minutes)").fill("-5")
    dialog.get_by_role("button", name="Save policy").click()
    error = dialog.locator("#field-first_response_minutes-error")
    expect(error).to_contain_text("minutes")
    expect(dialog.get_by_label("First reply (minutes)")).to_have_attribute("aria-invalid", "true")
    dialog.get_by_label("First reply (minutes)").fill("20")
    dialog.get_by_role("button", name="Save policy").click()
    expect(owner.get_by_role("dialog")).to_have_count(0)
    expect(policy).to_contain_text("First reply 20 min")
    expect(owner.get_by_role("row").filter(has_text=name)).to_have_count(1)  # edited, not added


def test_a_canned_response_by_shortcut_and_translation_without_a_model(
    app: App, seed: dict, contexts
):
    token = uuid.uuid4().hex[:6]
    agent = signed_in(contexts(), app, AGENT, "/conversations")
    inbox_ready(agent)
    agent.get_by_role("button", name="Canned responses").click()
    dialog = agent.get_by_role("dialog")
    dialog.get_by_label("Shortcut").fill(f"hours{token}")
    dialog.get_by_label("Text").fill(f"We bake from 7:00 to 19:00, Monday to Saturday ({token}).")
    dialog.get_by_role("button", name="Add").click()
    expect(dialog.get_by_role("button", name=f"Edit /hours{token}")).to_be_visible()
    dialog.get_by_role("button", name="Close").click()

    fresh = inject(app, seed["business_id"], f"Habari, mko wazi saa ngapi? {token}")
    agent.goto(f"{app.url}/conversations?c={fresh['conversation_id']}")
    expect(bubbles(agent, "customer").first).to_contain_text(token)
    composer = agent.get_by_label("Reply", exact=True)
    composer.fill(f"/hours{token[:3]}")
    suggestion = agent.get_by_test_id("canned-suggestion").filter(has_text=f"/hours{token}")
    suggestion.click()
    expect(composer).to_have_value(f"We bake from 7:00 to 19:00, Monday to Saturday ({token}).")

    # Offline (no OPENAI_API_KEY): the original stays and the page says what is missing.
    agent.get_by_role("switch", name="Translate").click()
    expect(agent.get_by_text("Translation needs a language model").first).to_be_visible()
    expect(bubbles(agent, "customer").first.get_by_test_id("translation")).to_have_count(0)


# A business of its own with 60 conversations, so the list's pages are counted exactly.
MANY_CONVERSATIONS = """
import json
from datetime import timedelta
from backend.auth import service as auth
from backend.channels import service as channels
from backend.core.db import session_scope
from backend.models import Contact, Conversation, Message
from backend.models.base import utcnow
with session_scope() as session:
    made = auth.sign_up(session, business_name="Busy Bakery", name="Busy Owner",
                        email="owner@busy-bakery.example", password="lantern maple orbit 42")
    channel = channels.create_integration(session, business_id=made.business_id, kind="widget",
                                          name="Website chat")
    now = utcnow()
    for i in range(60):
        at = now - timedelta(minutes=i)
        contact = Contact(business_id=made.business_id, name=f"Customer {i:02d}")
        session.add(contact)
        session.flush()
        conversation = Conversation(business_id=made.business_id, contact_id=contact.id,
            channel_integration_id=channel.id, status="ai", created_at=at, last_message_at=at,
            last_customer_message_at=at)
        session.add(conversation)
        session.flush()
        session.add(Message(business_id=made.business_id, conversation_id=conversation.id,
                            text=f"Order number {i:02d}", created_at=at))
print(json.dumps({"business_id": made.business_id}))
"""


def test_the_conversation_list_pages_fifty_at_a_time(app: App, contexts):
    app.python(MANY_CONVERSATIONS)
    page = contexts().new_page()
    page.goto(f"{app.url}/login?next=%2Fconversations")
    page.wait_for_load_state("networkidle")
    page.get_by_label("Email").fill("owner@busy-bakery.example")
    page.get_by_label("Password").fill("lantern maple orbit 42")
    page.get_by_role("button", name="Log in").click()
    inbox_ready(page)
    rows = page.locator("[data-testid='conversation-row']")
    expect(rows).to_have_count(50)
    expect(rows.first).to_contain_text("Customer 00")  # newest activity first
    expect(rows.last).to_contain_text("Customer 49")
    page.get_by_role("button", name="Load more").click()
    expect(rows).to_have_count(60)
    expect(rows.last).to_contain_text("Customer 59")
    expect(page.get_by_role("button", name="Load more")).to_have_count(0)


# The same customer on WhatsApp and, with their phone number typed in, on the website chat.
TWO_CHANNELS = """
import json, sys
from backend.channels import repository as channels_repo
from backend.channels import service as channels
from backend.core.db import session_scope
from backend.models import Contact, ContactChannelIdentity, Conversation, Message
from backend.models.base import utcnow
business_id, token = int(sys.argv[1]), sys.argv[2]
number = "2547" + str(int(token, 16) % 10**8).zfill(8)
with session_scope() as session:
    whatsapp = channels_repo.find_integration_of_kind(
        session, business_id=business_id, kind="whatsapp") or channels.create_integration(
        session, business_id=business_id, kind="whatsapp", name="Shop WhatsApp",
        credentials={"phone_number_id": "1", "access_token": "t", "app_secret": "s"})
    widget = channels_repo.find_integration_of_kind(session, business_id=business_id,
                                                    kind="widget")
    made = []
    for channel, name, external, phone in (
            (whatsapp, f"Neema {token}", number, None),
            (widget, f"Neema W {token}", f"visitor-{token}", "+" + number)):
        contact = Contact(business_id=business_id, name=name, phone=phone)
        session.add(contact)
        session.flush()
        session.add(ContactChannelIdentity(business_id=business_id, contact_id=contact.id,
            channel_integration_id=channel.id, external_user_id=external))
        conversation = Conversation(business_id=business_id, contact_id=contact.id,
            channel_integration_id=channel.id, status="human", last_message_at=utcnow(),
            last_customer_message_at=utcnow())
        session.add(conversation)
        session.flush()
        session.add(Message(business_id=business_id, conversation_id=conversation.id,
                            text=f"Hello from {name}"))
        made.append(conversation.id)
print(json.dumps(made))
"""


def test_an_agent_merges_the_same_customer_from_two_channels(app: App, seed: dict, contexts):
    token = uuid.uuid4().hex[:8]
    on_whatsapp, on_widget = json.loads(_run(app, TWO_CHANNELS, seed["business_id"], token))
    agent = signed_in(contexts(), app, AGENT, f"/conversations?c={on_whatsapp}")
    expect(bubbles(agent, "customer").first).to_contain_text(f"Neema {token}")
    suggested = agent.get_by_label("Possible duplicates")
    match = suggested.get_by_test_id("contact-match").filter(has_text=f"Neema W {token}")
    expect(match).to_contain_text("Same phone number")
    match.get_by_role("button", name=re.compile("^Merge")).click()
    dialog = agent.get_by_role("dialog")
    expect(dialog).to_contain_text(f"Merge Neema W {token} into Neema {token}?")
    dialog.get_by_role("button", name="Merge contacts").click()
    expect(agent.get_by_text(f"Merged Neema W {token} into Neema {token}")).to_be_visible()

    contact = agent.get_by_label("Contact", exact=True)
    expect(contact).to_contain_text(f"visitor-{token}")  # the website chat id moved over
    expect(contact).to_contain_text(f"#{on_widget}")  # and its conversation
    expect(agent.get_by_test_id("contact-match")).to_have_count(0)
    # The other conversation now shows the surviving contact's name.
    expect(row(agent, on_widget)).to_contain_text(f"Neema {token}")
