"""WhatsApp templates in Chromium: written, submitted and approved; broadcast to a label with
each recipient's status live; sent from the inbox; STOP opting a customer out."""

from __future__ import annotations

import json
import re
import secrets
import time

import httpx
import pytest
from playwright.sync_api import Page, expect

from backend.channels import meta
from tests.e2e.conftest import DEMO_PASSWORD, App

# One fake Graph server for the whole e2e session: the app was (or will be) started with its
# address by tests/e2e/test_integrations.py, which sets GRAPH_API_BASE_URL at import.
from tests.e2e.test_integrations import AGENT, GRAPH, OWNER, WA_PHONE, WA_TOKEN

pytestmark = pytest.mark.e2e

WABA_ID = "102290129340398"


def ensure_whatsapp(app: App) -> None:
    """The demo business has a WhatsApp number on the fake Graph (connected here if not yet)."""
    business_id = app.cli("demo", "seed")["business_id"]
    app.python(
        "from sqlmodel import select\n"
        "from backend.core.db import session_scope\n"
        "from backend.models.channels import ChannelIntegration\n"
        "from backend.channels.service import create_integration\n"
        "with session_scope() as s:\n"
        f"    found = s.exec(select(ChannelIntegration).where(ChannelIntegration.business_id == "
        f"{business_id}, ChannelIntegration.kind == 'whatsapp', "
        "ChannelIntegration.is_enabled.is_(True))).first()\n"
        "    if found is None:\n"
        f"        create_integration(s, business_id={business_id}, kind='whatsapp', "
        f"name='WhatsApp', credentials={{'phone_number_id': '{WA_PHONE}', "
        f"'waba_id': '{WABA_ID}', 'access_token': '{WA_TOKEN}', 'app_secret': 'e2e-secret', "
        "'verify_token': 'e2e-verify-token-0123456789'})\n"
    )


def test_owner_creates_submits_and_sees_a_template_approved(page: Page, app: App):
    ensure_whatsapp(app)
    name = f"bread_ready_{secrets.token_hex(3)}"
    page.goto(app.url + "/templates")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Ftemplates"))
    page.get_by_label("Email").fill(OWNER)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Message templates")).to_be_visible()

    page.get_by_role("button", name="New template").click()
    page.get_by_label("Name", exact=True).fill("Bread Ready!")
    page.get_by_label("Body", exact=True).fill("Hi {{1}}, your bread is ready at {{3}}.")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Use only lowercase letters, digits and underscores")).to_be_visible()
    expect(page.get_by_text("Number the variables consecutively")).to_be_visible()

    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Body", exact=True).fill("Hi {{1}}, your bread is ready at {{2}}.")
    page.get_by_label("Example for {{1}}").fill("Amina")
    page.get_by_label("Example for {{2}}").fill("the Kilimani shop")
    preview = page.locator(".template-preview")
    expect(preview).to_contain_text("Hi Amina, your bread is ready at the Kilimani shop.")
    page.get_by_role("button", name="Save draft").click()

    card = page.get_by_test_id("template-card").filter(has_text=name)
    expect(card.get_by_text("Draft", exact=True)).to_be_visible()
    card.get_by_role("button", name="Submit to Meta").click()
    expect(card.get_by_text("In review", exact=True)).to_be_visible()
    submitted = GRAPH.template_named(name, "en_US")
    assert submitted["components"] == [
        {"type": "BODY", "text": "Hi {{1}}, your bread is ready at {{2}}.",
         "example": {"body_text": [["Amina", "the Kilimani shop"]]}},
    ]  # fmt: skip

    GRAPH.review_template(name, "en_US", status="APPROVED")
    page.get_by_role("button", name="Sync now").click()
    expect(card.get_by_text("Approved", exact=True)).to_be_visible()
    page.reload()
    expect(
        page.get_by_test_id("template-card").filter(has_text=name).get_by_text("Approved")
    ).to_be_visible()


# --- broadcasts, the inbox picker, opt-out by reply ---------------------------------------------

AUDIENCE = """
import json, sys
from sqlmodel import select
from backend.channels.service import to_config
from backend.core.db import session_scope
from backend.models import Contact, ContactChannelIdentity, Conversation
from backend.models.channels import ChannelIntegration
from backend.models.templates import MessageTemplate
from datetime import timedelta
from backend.models.base import utcnow
business_id, name, label, status = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
people = sys.argv[5:]
then = utcnow() - timedelta(days=3)  # outside WhatsApp's 24 hours: only a template goes
with session_scope() as session:
    wa = session.exec(select(ChannelIntegration).where(
        ChannelIntegration.business_id == business_id, ChannelIntegration.kind == "whatsapp",
        ChannelIntegration.is_enabled.is_(True))).first()
    if session.exec(select(MessageTemplate).where(MessageTemplate.business_id == business_id,
                                                  MessageTemplate.name == name)).first() is None:
        session.add(MessageTemplate(
            business_id=business_id, channel_integration_id=wa.id, name=name, language="en_US",
            category="marketing", status="approved", external_id=f"tpl-{name}",
            body="Hi {{1}}, fresh bread is out of the oven!", header={},
            variables_examples={"body": ["Amina"], "header": []}))
    contacts = {}
    for person in people:
        who, phone = person.split("=")
        contact = Contact(business_id=business_id, name=who)
        session.add(contact)
        session.flush()
        session.add(ContactChannelIdentity(business_id=business_id, contact_id=contact.id,
                    channel_integration_id=wa.id, external_user_id=phone))
        conversation = Conversation(business_id=business_id, contact_id=contact.id,
                                    channel_integration_id=wa.id, status=status,
                                    labels=[label], last_message_at=then,
                                    last_customer_message_at=then)
        session.add(conversation)
        session.flush()
        contacts[who] = {"contact_id": contact.id, "conversation_id": conversation.id}
    secret = to_config(wa).credentials["app_secret"]
print(json.dumps({"integration_id": wa.id, "app_secret": secret, "contacts": contacts}))
"""

SENT_IDS = """
import json, sys
from sqlmodel import select
from backend.core.db import session_scope
from backend.models import Contact, Message
from backend.models.templates import Broadcast, BroadcastRecipient
with session_scope() as session:
    broadcast = session.exec(select(Broadcast).where(Broadcast.name == sys.argv[1])).one()
    rows = session.exec(select(Contact.name, Message.external_id)
        .join(BroadcastRecipient, BroadcastRecipient.contact_id == Contact.id)
        .join(Message, Message.id == BroadcastRecipient.message_id)
        .where(BroadcastRecipient.broadcast_id == broadcast.id)).all()
print(json.dumps({name: external_id for name, external_id in rows}))
"""


def _run(app: App, code: str, *args: object) -> str:
    """app.python with argv."""
    return app.python(f"import sys; sys.argv = ['-', *{[str(a) for a in args]!r}]\n{code}")


def _phone() -> str:
    """A WhatsApp number no other test uses."""
    return f"2547{secrets.randbelow(10**8):08d}"


def _audience(
    app: App, template: str, label: str, people: dict[str, str], status: str = "resolved"
) -> dict:
    """An approved template and contacts on the WhatsApp number, each with a labelled
    conversation whose customer last wrote three days ago."""
    business_id = app.cli("demo", "seed")["business_id"]
    pairs = [f"{who}={phone}" for who, phone in people.items()]
    return json.loads(_run(app, AUDIENCE, business_id, template, label, status, *pairs))


def _whatsapp_post(app: App, audience: dict, value: dict) -> None:
    """Post a webhook to the app exactly as Meta does: its JSON shape, signed with the secret."""
    body = json.dumps({
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA_ID, "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "254700000002", "phone_number_id": WA_PHONE},
            **value,
        }}]}],
    }).encode()  # fmt: skip
    response = httpx.post(
        f"{app.url}/webhooks/whatsapp/{audience['integration_id']}", content=body, timeout=30,
        headers={"Content-Type": "application/json",
                 "X-Hub-Signature-256": meta.sign(body, audience["app_secret"])},
    )  # fmt: skip
    assert response.status_code == 200, response.text


def _delivered(app: App, audience: dict, external_id: str, phone: str) -> None:
    _whatsapp_post(app, audience, {"statuses": [{
        "id": external_id, "status": "delivered", "timestamp": str(int(time.time())),
        "recipient_id": phone,
    }]})  # fmt: skip


def _customer_writes(app: App, audience: dict, phone: str, name: str, text: str) -> None:
    _whatsapp_post(app, audience, {
        "contacts": [{"profile": {"name": name}, "wa_id": phone}],
        "messages": [{"from": phone, "id": f"wamid.e2e{secrets.token_hex(8)}",
                      "timestamp": str(int(time.time())), "type": "text",
                      "text": {"body": text}}],
    })  # fmt: skip


def _owner_on_templates(page: Page, app: App) -> None:
    page.goto(app.url + "/login?next=%2Ftemplates")
    page.wait_for_load_state("networkidle")
    page.get_by_label("Email").fill(OWNER)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Message templates")).to_be_visible()


def _start_broadcast(page: Page, template: str, name: str, label: str, value: str) -> None:
    page.get_by_role("combobox", name="Template").click()
    page.get_by_role("option", name=f"{template} (en_US)").click()
    page.get_by_label("Broadcast name").fill(name)
    page.get_by_label("Label", exact=True).fill(label)
    page.get_by_label("Example for {{1}}").fill(value)


def _recipient(page: Page, broadcast: str, contact: str):
    card = page.get_by_test_id("broadcast-card").filter(has_text=broadcast)
    return card.get_by_test_id("broadcast-recipient").filter(has_text=contact)


def test_a_broadcast_to_a_label_shows_each_recipient_sent_then_delivered_live(page: Page, app: App):
    ensure_whatsapp(app)
    token = secrets.token_hex(3)
    template, label, name = f"fresh_bread_{token}", f"regulars-{token}", f"Friday bread {token}"
    people = {f"Wanjiru {token}": _phone(), f"Otieno {token}": _phone(),
              f"Akinyi {token}": _phone()}  # fmt: skip
    audience = _audience(app, template, label, people)
    before = len(GRAPH.sent("messages"))

    _owner_on_templates(page, app)
    _start_broadcast(page, template, name, label, "friend")
    expect(page.get_by_test_id("broadcast-preview")).to_have_text(
        "3 contact(s) match: 3 will get it."
    )
    page.get_by_role("button", name="Send broadcast").click()
    expect(page.get_by_text(f"Sending {name} to 3 contact(s).")).to_be_visible()
    for who in people:
        expect(_recipient(page, name, who).get_by_test_id("recipient-status")).to_have_text("sent")
    sent = GRAPH.sent("messages")[before:]
    assert sorted(m["to"] for m in sent) == sorted(people.values())
    assert {m["template"]["name"] for m in sent} == {template}

    ids = json.loads(_run(app, SENT_IDS, name))
    for who, phone in people.items():
        _delivered(app, audience, ids[who], phone)
        expect(_recipient(page, name, who).get_by_test_id("recipient-status")).to_have_text(
            "delivered"
        )
    card = page.get_by_test_id("broadcast-card").filter(has_text=name)
    expect(card.get_by_test_id("broadcast-summary")).to_have_text("3 delivered")


def test_an_agent_sends_a_template_from_the_inbox_and_sees_it_in_the_thread(page: Page, app: App):
    ensure_whatsapp(app)
    token = secrets.token_hex(3)
    template, who = f"pickup_ready_{token}", f"Baraka {token}"
    phone = _phone()
    audience = _audience(app, template, f"pickup-{token}", {who: phone}, "waiting_for_agent")
    conversation_id = audience["contacts"][who]["conversation_id"]
    before = len(GRAPH.sent("messages"))

    page.goto(f"{app.url}/login?next=%2Fconversations%3Fc%3D{conversation_id}")
    page.wait_for_load_state("networkidle")
    page.get_by_label("Email").fill(AGENT)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Send a template").click()
    dialog = page.get_by_role("dialog", name="Send a template")
    dialog.get_by_role("combobox", name="Template").click()
    page.get_by_role("option", name=f"{template} (en_US)").click()
    dialog.get_by_label("Value for {{1}}").fill("Baraka")
    expect(dialog).to_contain_text("Hi Baraka, fresh bread is out of the oven!")
    dialog.get_by_role("button", name="Send template").click()
    expect(dialog).to_be_hidden()
    bubble = page.get_by_role("log", name="Messages").locator(
        "[data-testid='message'][data-sender='agent']"
    )
    expect(bubble.last).to_contain_text("Hi Baraka, fresh bread is out of the oven!")
    expect(bubble.last.get_by_test_id("delivery")).to_have_text(re.compile("Sent|Delivered|Read"))
    [sent] = GRAPH.sent("messages")[before:]
    assert sent["to"] == phone
    assert sent["template"]["name"] == template
    assert sent["template"]["components"] == [
        {"type": "body", "parameters": [{"type": "text", "text": "Baraka"}]}
    ]

    # The contact card's switch opts the customer out of broadcasts (and back in).
    state = page.get_by_test_id("contact-broadcasts")
    expect(state).to_have_text("Receives broadcasts")
    page.get_by_role("switch", name="Receives broadcasts").click()
    expect(state).to_have_text("Opted out of broadcasts")
    contact_id = audience["contacts"][who]["contact_id"]
    check = (
        "from backend.core.db import session_scope\n"
        "from backend.models import Contact\n"
        "with session_scope() as s:\n"
        f"    print(s.get(Contact, {contact_id}).opted_out_at is not None)\n"
    )
    assert app.python(check).strip() == "True"
    page.reload()
    expect(page.get_by_test_id("contact-broadcasts")).to_have_text("Opted out of broadcasts")
    page.get_by_role("switch", name="Receives broadcasts").click()
    expect(page.get_by_test_id("contact-broadcasts")).to_have_text("Receives broadcasts")
    assert app.python(check).strip() == "False"


def test_a_contact_who_replied_stop_is_listed_as_opted_out_in_the_next_broadcast(
    page: Page, app: App
):
    ensure_whatsapp(app)
    token = secrets.token_hex(3)
    template, label = f"weekend_{token}", f"weekend-{token}"
    stays, leaves = f"Neema {token}", f"Juma {token}"
    leaving_phone = _phone()
    audience = _audience(app, template, label, {stays: _phone(), leaves: leaving_phone})
    before = len(GRAPH.sent("messages"))
    _customer_writes(app, audience, leaving_phone, leaves, "STOP")
    # The customer gets the confirmation, and nothing else, on WhatsApp: once the STOP is
    # processed and every reply it caused is sent, there is one, and Graph got only it.
    confirmation = "You won't receive our broadcasts any more. Write START to subscribe again."
    assert json.loads(app.python(SETTLED_REPLIES.replace("PHONE", leaving_phone))) == [confirmation]
    texts = [m.get("text", {}).get("body") for m in GRAPH.sent("messages")[before:]]
    assert texts == [confirmation]

    _owner_on_templates(page, app)
    name = f"Weekend {token}"
    _start_broadcast(page, template, name, label, "friend")
    expect(page.get_by_test_id("broadcast-preview")).to_have_text(
        "2 contact(s) match: 1 will get it, 1 opted out."
    )
    page.get_by_role("button", name="Send broadcast").click()
    expect(_recipient(page, name, leaves).get_by_test_id("recipient-status")).to_have_text(
        "opted out"
    )
    expect(_recipient(page, name, stays).get_by_test_id("recipient-status")).to_have_text("sent")


# Waits (in the app's environment) until the customer with phone PHONE has no unfinished
# inbound event and every reply to them is sent or failed; prints the replies' texts.
SETTLED_REPLIES = """
import json, time
from sqlmodel import select
from backend.core.db import session_scope
from backend.models import ContactChannelIdentity, Conversation, InboundEvent, Message, Outbox
deadline = time.monotonic() + 30
while True:
    with session_scope() as s:
        contact = s.exec(select(ContactChannelIdentity.contact_id).where(
            ContactChannelIdentity.external_user_id == "PHONE")).first()
        events = s.exec(select(InboundEvent.status).where(
            InboundEvent.sender_external_id == "PHONE")).all()
        replies = s.exec(select(Message.text, Outbox.status)
                         .join(Outbox, Outbox.message_id == Message.id)
                         .join(Conversation, Conversation.id == Message.conversation_id)
                         .where(Conversation.contact_id == contact)
                         .order_by(Message.id)).all()
    if events and set(events) == {"done"} and replies and all(
            status in ("sent", "failed") for _, status in replies):
        break
    assert time.monotonic() < deadline, f"not settled: events {events}, replies {replies}"
    time.sleep(0.2)
print(json.dumps([text for text, _ in replies]))
"""

BIG_BROADCAST = """
import sys
from sqlmodel import select
from backend.core.db import session_scope
from backend.models import Contact
from backend.models.channels import ChannelIntegration
from backend.models.templates import Broadcast, BroadcastRecipient, MessageTemplate
business_id, name, who, count = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
with session_scope() as session:
    wa = session.exec(select(ChannelIntegration).where(
        ChannelIntegration.business_id == business_id, ChannelIntegration.kind == "whatsapp",
        ChannelIntegration.is_enabled.is_(True))).first()
    template = MessageTemplate(
        business_id=business_id, channel_integration_id=wa.id, name=name.lower().replace(" ", "_"),
        language="en_US", category="marketing", status="approved", body="Hi {{1}}!", header={},
        variables_examples={"body": ["Amina"], "header": []})
    session.add(template)
    session.flush()
    broadcast = Broadcast(business_id=business_id, template_id=template.id,
                          channel_integration_id=wa.id, name=name, segment={})
    session.add(broadcast)
    session.flush()
    for n in range(count):
        contact = Contact(business_id=business_id, name=f"{who} {n:03d}")
        session.add(contact)
        session.flush()
        session.add(BroadcastRecipient(business_id=business_id, broadcast_id=broadcast.id,
                                       contact_id=contact.id, status="queued"))
"""

OPT_OUT_LAST = """
import sys
from sqlalchemy import update
from sqlmodel import select
from backend import events
from backend.core.db import session_scope
from backend.models.templates import Broadcast, BroadcastRecipient
with session_scope() as session:
    broadcast = session.exec(select(Broadcast).where(Broadcast.name == sys.argv[1])).one()
    last = session.exec(select(BroadcastRecipient.id)
        .where(BroadcastRecipient.broadcast_id == broadcast.id)
        .order_by(BroadcastRecipient.id.desc()).limit(int(sys.argv[2]))).all()
    session.exec(update(BroadcastRecipient).where(BroadcastRecipient.id.in_(last))
                 .values(status="opted_out"))
    events.publish(session, "broadcast.updated", business_id=broadcast.business_id,
                   broadcast_id=broadcast.id)
"""


def test_a_big_broadcast_lists_its_first_recipients_counts_them_all_and_updates_live(
    page: Page, app: App
):
    ensure_whatsapp(app)
    token = secrets.token_hex(3)
    name, who = f"Big bread {token}", f"Regular {token}"
    business_id = app.cli("demo", "seed")["business_id"]
    _run(app, BIG_BROADCAST, business_id, name, who, 60)

    _owner_on_templates(page, app)
    card = page.get_by_test_id("broadcast-card").filter(has_text=name)
    expect(card.get_by_test_id("broadcast-summary")).to_have_text("60 queued")
    expect(card.get_by_test_id("broadcast-recipient")).to_have_count(50)
    expect(card.get_by_test_id("broadcast-shown")).to_have_text("Showing 50 of 60 recipients.")
    card.get_by_role("button", name="Show more").click()
    expect(card.get_by_test_id("broadcast-recipient")).to_have_count(60)
    expect(card.get_by_test_id("broadcast-shown")).to_have_count(0)

    # The live re-read of this broadcast keeps its counts and the longer list.
    _run(app, OPT_OUT_LAST, name, 5)
    expect(card.get_by_test_id("broadcast-summary")).to_have_text("5 opted out, 55 queued")
    last = card.get_by_test_id("broadcast-recipient").filter(has_text=f"{who} 059")
    expect(last.get_by_test_id("recipient-status")).to_have_text("opted out")
    expect(card.get_by_test_id("broadcast-recipient")).to_have_count(60)
