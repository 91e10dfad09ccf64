"""GDPR export and erasure, and the retention purge, on the real PostgreSQL and Redis."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from backend.auth.permissions import PermissionDenied
from backend.channels import media
from backend.core.db import session_scope
from backend.models import (
    AuditLog,
    Business,
    Contact,
    ContactChannelIdentity,
    Conversation,
    Handoff,
    InboundEvent,
    Lead,
    Message,
    Notification,
    Order,
    OrderItem,
    Payment,
    Role,
)
from backend.models.base import utcnow
from backend.models.channels import WebhookDelivery
from backend.privacy import service as privacy
from backend.privacy import tasks
from backend.privacy.schemas import ContactNotFound, PrivacyError
from backend.security import service as security
from tests.backend.channels.helpers import rows, run_worker
from tests.factories import actor_for, make_channel, make_user

pytestmark = pytest.mark.usefixtures("committed")

NAME, EMAIL, PHONE, WA_ID = "Amina Njeri", "amina@example.com", "+254700000001", "254700000001"


def _customer(session, business: Business, *, name: str = NAME) -> dict:
    """A contact with everything BizBot can hold about one: returns the ids."""
    channel = make_channel(session, business=business, kind="whatsapp")
    contact = Contact(business_id=business.id, name=name, email=EMAIL, phone=PHONE)
    session.add(contact)
    session.flush()
    session.add(
        ContactChannelIdentity(
            business_id=business.id,
            contact_id=contact.id,
            channel_integration_id=channel.id,
            external_user_id=WA_ID,
        )
    )
    conversation = Conversation(
        business_id=business.id,
        contact_id=contact.id,
        channel_integration_id=channel.id,
        summary=f"{name} wants a cake",
        last_message_at=utcnow(),
    )
    session.add(conversation)
    session.flush()
    event = InboundEvent(
        business_id=business.id,
        channel_integration_id=channel.id,
        external_id=f"wamid.{business.id}",
        sender_external_id=WA_ID,
        payload={"text": "My address is 12 Baker St", "from": WA_ID},
    )
    session.add(event)
    session.flush()
    session.add(
        WebhookDelivery(
            business_id=business.id,
            channel_integration_id=channel.id,
            body=b'{"from":"254700000001"}',
            outcome="stored",
            new_event_ids=[event.id],
        )
    )
    stored = media.store(
        business_id=business.id,
        name=f"photo-{conversation.id}",
        file=media.MediaFile(content=b"\xff\xd8jpeg", mime_type="image/jpeg", filename="cake.jpg"),
    )
    session.add(
        Message(
            business_id=business.id,
            conversation_id=conversation.id,
            text="My address is 12 Baker St",
            inbound_event_id=event.id,
            attachments=[{"type": "image", **stored}],
        )
    )
    session.add(
        Message(
            business_id=business.id,
            conversation_id=conversation.id,
            text="VIP customer",
            is_private_note=True,
            direction="outbound",
            sender_type="agent",
        )
    )
    session.add(
        Handoff(business_id=business.id, conversation_id=conversation.id, note=f"{name} is upset")
    )
    lead = Lead(
        business_id=business.id,
        contact_id=contact.id,
        name=name,
        email=EMAIL,
        interest="Wedding cake",
    )
    order = Order(
        business_id=business.id,
        contact_id=contact.id,
        number=1,
        currency="KES",
        total_cents=250000,
        subtotal_cents=250000,
        notes="Deliver to 12 Baker St",
    )
    session.add_all([lead, order])
    session.flush()
    session.add(
        OrderItem(
            business_id=business.id,
            order_id=order.id,
            name="Wedding cake",
            unit_price_cents=250000,
            quantity=1,
            line_total_cents=250000,
        )
    )
    session.add(
        Payment(
            business_id=business.id,
            order_id=order.id,
            provider="mpesa",
            status="succeeded",
            amount_cents=250000,
            currency="KES",
            provider_reference=f"QK{business.id}",
            payer_phone=PHONE,
        )
    )
    session.add(
        Notification(
            business_id=business.id, kind="new_lead", title=f"New lead: {name}", body="Wedding cake"
        )
    )
    security.record(
        session,
        business_id=business.id,
        action="lead.updated",
        target_type="lead",
        target_id=lead.id,
        details={"email": EMAIL, "by": "ai"},
    )
    security.record(session, business_id=business.id, action="login", details={"ok": True})
    session.flush()
    return {"contact": contact.id, "conversation": conversation.id, "order": order.id,
            "lead": lead.id, "event": event.id, "file": stored["path"]}  # fmt: skip


@pytest.fixture
def shop() -> dict:
    """Business A with its owner and a customer; business B with a customer of the same name."""
    with session_scope() as session:
        owner, business = actor_for(session)
        other_owner, other = actor_for(session)
        return {
            "owner": owner,
            "business_id": business.id,
            "ids": _customer(session, business),
            "other_owner": other_owner,
            "other_id": other.id,
            "other_ids": _customer(session, other),
        }


def _export(actor, contact_id) -> dict:
    with session_scope() as session:
        return privacy.export_contact(session, actor=actor, contact_id=contact_id)


def test_export_holds_everything_and_is_json(shop):
    data = _export(shop["owner"], shop["ids"]["contact"])
    data = json.loads(json.dumps(data))  # JSON-serialisable as it is
    assert data["contact"]["name"] == NAME
    assert data["contact"]["email"] == EMAIL
    assert [i["external_user_id"] for i in data["channel_identities"]] == [WA_ID]
    assert data["channel_identities"][0]["channel_kind"] == "whatsapp"
    [conversation] = data["conversations"]
    texts = [m["text"] for m in conversation["messages"]]
    assert texts == ["My address is 12 Baker St", "VIP customer"]
    assert "search_vector" not in conversation["messages"][0]
    assert conversation["handoffs"][0]["note"] == f"{NAME} is upset"
    assert [lead["interest"] for lead in data["leads"]] == ["Wedding cake"]
    [order] = data["orders"]
    assert order["items"][0]["name"] == "Wedding cake"
    assert order["payments"][0]["payer_phone"] == PHONE
    [entry] = rows(AuditLog, AuditLog.action == "contact.exported")
    assert entry.target_id == str(shop["ids"]["contact"])
    assert entry.actor_user_id == shop["owner"].user_id


def test_export_and_erase_are_for_owners_and_admins_of_the_business(shop):
    with session_scope() as session:
        business = session.get(Business, shop["business_id"])
        agent, _ = actor_for(session, role=Role.AGENT, business=business)
        admin_user = make_user(session, business=business, role=Role.ADMIN)
    with pytest.raises(PermissionDenied), session_scope() as session:
        privacy.export_contact(session, actor=agent, contact_id=shop["ids"]["contact"])
    with pytest.raises(PermissionDenied), session_scope() as session:
        privacy.erase_contact(
            session, actor=agent, contact_id=shop["ids"]["contact"], confirm="ERASE"
        )
    # Another business's owner cannot reach this contact, not even to learn it exists.
    for call in (privacy.export_contact, privacy.erase_contact):
        with pytest.raises(ContactNotFound), session_scope() as session:
            call(session, actor=shop["other_owner"], contact_id=shop["ids"]["contact"],
                 **({"confirm": "ERASE"} if call is privacy.erase_contact else {}))  # fmt: skip
    from backend.auth.permissions import Actor

    admin = Actor(user_id=admin_user.id, business_id=shop["business_id"], role=Role.ADMIN)
    assert _export(admin, shop["ids"]["contact"])["contact"]["name"] == NAME
    with session_scope() as session:
        found = privacy.search_contacts(session, actor=admin, query="amina")
    assert [c.id for c in found] == [shop["ids"]["contact"]]


def test_erasure_needs_the_typed_confirmation(shop):
    with pytest.raises(PrivacyError) as info, session_scope() as session:
        privacy.erase_contact(
            session, actor=shop["owner"], contact_id=shop["ids"]["contact"], confirm="erase it"
        )
    assert info.value.field == "confirm"
    [contact] = rows(Contact, Contact.id == shop["ids"]["contact"])
    assert contact.name == NAME


def test_erasure_redacts_removes_and_keeps_orders_anonymised(shop):
    ids, business_id = shop["ids"], shop["business_id"]
    file_path = media.root() / ids["file"]
    assert file_path.is_file()
    with session_scope() as session:
        summary = privacy.erase_contact(
            session, actor=shop["owner"], contact_id=ids["contact"], confirm="ERASE"
        )
    assert summary.messages_redacted == 2
    assert summary.leads_deleted == 1
    assert summary.orders_anonymised == 1
    assert summary.identities_removed == 1
    # Files go after the commit, in a job.
    run_worker("default")
    assert not file_path.exists()

    [contact] = rows(Contact, Contact.id == ids["contact"])
    assert (contact.name, contact.email, contact.phone) == (None, None, None)
    assert rows(ContactChannelIdentity, ContactChannelIdentity.contact_id == ids["contact"]) == []
    messages = rows(Message, Message.conversation_id == ids["conversation"])
    assert [m.text for m in messages] == ["[erased]", "[erased]"]
    assert all(m.attachments == [] for m in messages)
    [conversation] = rows(Conversation, Conversation.id == ids["conversation"])
    assert conversation.summary is None
    assert [h.note for h in rows(Handoff, Handoff.conversation_id == ids["conversation"])] == [None]
    [event] = rows(InboundEvent, InboundEvent.id == ids["event"])
    assert event.payload == {}
    assert event.sender_external_id is None
    assert rows(WebhookDelivery, WebhookDelivery.business_id == business_id) == []
    assert rows(Lead, Lead.business_id == business_id) == []
    [order] = rows(Order, Order.id == ids["order"])
    assert order.contact_id is None
    assert order.total_cents == 250000
    assert order.notes is None
    [payment] = rows(Payment, Payment.order_id == ids["order"])
    assert payment.payer_phone is None
    assert payment.provider_reference == f"QK{business_id}"
    assert rows(OrderItem, OrderItem.order_id == ids["order"])[0].name == "Wedding cake"
    [note] = rows(Notification, Notification.business_id == business_id)
    assert note.title == "New lead: [erased]"

    audit = {e.action: e for e in rows(AuditLog, AuditLog.business_id == business_id)}
    assert audit["lead.updated"].details == {"email": "[erased]", "by": "ai"}
    assert audit["login"].details == {"ok": True}
    erased = audit["contact.erased"]
    assert erased.target_id == str(ids["contact"])
    assert NAME not in json.dumps(erased.details)
    assert EMAIL not in json.dumps(erased.details)

    # Nothing of business B changed, though its customer has the same name and email.
    other = shop["other_ids"]
    [other_contact] = rows(Contact, Contact.id == other["contact"])
    assert other_contact.name == NAME
    assert (media.root() / other["file"]).is_file()
    assert rows(Lead, Lead.id == other["lead"])
    other_audit = rows(AuditLog, AuditLog.business_id == shop["other_id"])
    assert any(e.details.get("email") == EMAIL for e in other_audit)
    assert rows(Notification, Notification.business_id == shop["other_id"])[0].title == (
        f"New lead: {NAME}"
    )

    # Exporting afterwards shows what is left: nothing that identifies the person.
    data = json.dumps(_export(shop["owner"], ids["contact"]))
    for secret in (NAME, EMAIL, PHONE, WA_ID, "Baker St"):
        assert secret not in data


def test_an_erasure_rolled_back_keeps_everything(shop):
    ids = shop["ids"]

    def failing_request():
        with session_scope() as session:
            privacy.erase_contact(
                session, actor=shop["owner"], contact_id=ids["contact"], confirm="ERASE"
            )
            raise RuntimeError("the request failed after the erasure")

    with pytest.raises(RuntimeError):
        failing_request()
    run_worker("default")
    assert (media.root() / ids["file"]).is_file()
    assert rows(Contact, Contact.id == ids["contact"])[0].name == NAME


# --- retention ---------------------------------------------------------------------------------


def test_retention_is_off_by_default_and_validated(shop):
    owner = shop["owner"]
    with session_scope() as session:
        assert privacy.get_retention(session, actor=owner).conversation_days is None
    for bad in ("0", "abc", 4000, "-3"):
        with pytest.raises(PrivacyError) as info, session_scope() as session:
            privacy.set_retention(session, actor=owner, days=bad)
        assert info.value.field == "days"
    with session_scope() as session:
        assert privacy.set_retention(session, actor=owner, days="30").conversation_days == 30
    with session_scope() as session:
        assert privacy.set_retention(session, actor=owner, days="").conversation_days is None
    assert len(rows(AuditLog, AuditLog.action == "retention.changed")) == 2


def test_the_purge_deletes_only_idle_conversations_of_businesses_that_chose_it(shop):
    business_id = shop["business_id"]
    old = utcnow() - timedelta(days=40)
    with session_scope() as session:
        old_conversation = session.get(Conversation, shop["ids"]["conversation"])
        old_conversation.last_message_at = old
        # Business B's conversation is just as old, but B keeps everything.
        session.get(Conversation, shop["other_ids"]["conversation"]).last_message_at = old
        recent = Conversation(business_id=business_id, contact_id=shop["ids"]["contact"],
                              last_message_at=utcnow() - timedelta(days=2))  # fmt: skip
        session.add(recent)
        session.flush()
        recent_id = recent.id
        privacy.set_retention(session, actor=shop["owner"], days=30)
    totals = tasks.purge_retention()
    assert totals == {"businesses": 1, "conversations": 1, "messages": 2, "files": 1}
    assert rows(Conversation, Conversation.business_id == business_id)[0].id == recent_id
    assert not (media.root() / shop["ids"]["file"]).exists()
    assert rows(InboundEvent, InboundEvent.id == shop["ids"]["event"]) == []
    # Orders and leads stay (accounting, pipeline); they just lose the link.
    assert rows(Order, Order.id == shop["ids"]["order"])[0].conversation_id is None
    assert len(rows(Conversation, Conversation.business_id == shop["other_id"])) == 1
    [entry] = rows(AuditLog, AuditLog.action == "retention.purged")
    assert entry.details == {
        "conversation_days": 30, "conversations": 1, "messages": 2, "files": 1,
    }  # fmt: skip
    with session_scope() as session:
        view = privacy.get_retention(session, actor=shop["owner"])
    assert view.last_purge_count == 1
    # Run again: nothing more to purge, nothing audited twice.
    assert tasks.purge_retention()["conversations"] == 0
    assert len(rows(AuditLog, AuditLog.action == "retention.purged")) == 1


def test_the_purge_works_in_batches(shop, monkeypatch):
    monkeypatch.setattr(privacy, "PURGE_BATCH", 2)
    business_id = shop["business_id"]
    with session_scope() as session:
        for _ in range(4):
            session.add(Conversation(business_id=business_id, contact_id=shop["ids"]["contact"],
                                     last_message_at=utcnow() - timedelta(days=90)))  # fmt: skip
        privacy.set_retention(session, actor=shop["owner"], days=60)
    calls = []
    real = privacy.purge_batch

    def counting(session, **kwargs):
        result = real(session, limit=2, **kwargs)
        calls.append(result.conversations)
        return result

    monkeypatch.setattr(privacy, "purge_batch", counting)
    assert tasks.purge_business(business_id, 60)["conversations"] == 4
    assert calls == [2, 2, 0]
    assert [c.id for c in rows(Conversation, Conversation.business_id == business_id)] == [
        shop["ids"]["conversation"]
    ]
    assert Path(media.root() / shop["ids"]["file"]).is_file()
