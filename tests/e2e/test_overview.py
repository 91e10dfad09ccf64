"""The owner reads the Overview analytics and turns an unanswered question into knowledge."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import App

pytestmark = pytest.mark.e2e

OWNER = "owner@overview-bakery.example"  # a business of its own: figures exact to the second
PASSWORD = "lantern maple orbit 42"
QUESTION = "Do you bake vegan birthday cakes on Sundays?"

# A new business with a website chat and four conversations: three in the last 30 days (one
# with a weak AI answer to QUESTION, asked twice), and one 60 days ago.
SEED = f"""
from datetime import timedelta
from backend.auth import service as auth
from backend.channels import service as channels
from backend.channels import widget
from backend.core.db import session_scope
from backend.models import Business, Contact, Conversation, Message
from backend.models.base import utcnow

now = utcnow()
with session_scope() as s:
    made = auth.sign_up(s, business_name="Overview Bakery", name="Overview Owner",
                        email={OWNER!r}, password={PASSWORD!r})
    b = s.get(Business, made.business_id)
    ch = channels.create_integration(s, business_id=b.id, kind="widget", name="Website chat",
                                     config=dict(widget.DEFAULTS),
                                     public_key=widget.new_public_key())
    for i, (days_ago, question, confidence) in enumerate([
        (2, {QUESTION!r}, 0.2), (3, {QUESTION!r}, 0.3), (5, "When do you open?", 0.9),
        (60, "Do you deliver?", 0.9),
    ]):
        t = now - timedelta(days=days_ago)
        contact = Contact(business_id=b.id, name=f"Overview customer {{i}}")
        s.add(contact); s.flush()
        c = Conversation(business_id=b.id, contact_id=contact.id, channel_integration_id=ch.id,
                         created_at=t, last_message_at=t)
        s.add(c); s.flush()
        s.add(Message(business_id=b.id, conversation_id=c.id, text=question, created_at=t))
        s.add(Message(business_id=b.id, conversation_id=c.id, direction="outbound",
                      sender_type="ai", text="Let me check.", ai_confidence=confidence,
                      created_at=t + timedelta(seconds=20)))
"""


def test_owner_reads_the_overview_and_teaches_an_unanswered_question(page: Page, app: App):
    app.python(SEED)
    page.goto(app.url + "/")
    page.get_by_label("Email").fill(OWNER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/$"))

    conversations = page.get_by_label("Conversations", exact=True)
    expect(conversations).to_contain_text("3")
    expect(page.get_by_label("First response (median)")).to_contain_text("20 s")
    expect(page.get_by_label("Revenue (payment links)")).to_be_visible()
    chart = page.get_by_role("img", name="Conversations per day")
    expect(chart.locator(".recharts-bar-rectangle").first).to_be_visible()
    expect(chart).to_contain_text("Website chat")

    page.get_by_role("radio", name="90 days").click()
    expect(conversations).to_contain_text("4")
    page.get_by_role("radio", name="7 days").click()
    expect(conversations).to_contain_text("3")

    questions = page.get_by_role("list", name="Unanswered questions")
    item = questions.get_by_role("listitem").filter(has_text=QUESTION)
    expect(item).to_contain_text("2")
    item.get_by_role("button", name="Turn into knowledge").click()
    dialog = page.get_by_role("dialog", name="Turn into knowledge")
    expect(dialog.get_by_label("Question")).to_have_value(QUESTION)
    dialog.get_by_label("Answer").fill("Yes, order vegan cakes two days ahead for Sundays.")
    dialog.get_by_role("button", name="Add to knowledge").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_text("Added to your knowledge as an FAQ.")).to_be_visible()
    expect(page.get_by_role("listitem").filter(has_text=QUESTION)).to_have_count(0)

    page.goto(app.url + "/knowledge")
    expect(page.get_by_role("row").filter(has_text=QUESTION)).to_contain_text("FAQ")
