"""Outgoing webhooks on the real PostgreSQL and Redis, delivering to a local receiver."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

import backend.outgoing.tasks  # noqa: F401  (registers the listeners, as the worker does)
from backend import events
from backend.auth.permissions import PermissionDenied
from backend.core import crypto
from backend.core.config import settings
from backend.core.db import session_scope
from backend.core.queue import get_queue
from backend.leads import service as leads
from backend.models import (
    AuditLog,
    Handoff,
    Notification,
    Order,
    OutgoingAttempt,
    OutgoingDelivery,
    Role,
    WebhookEndpoint,
)
from backend.outgoing import service as outgoing
from backend.outgoing.schemas import EndpointNotFound, UnsafeDestination, WebhookError
from backend.outgoing.tasks import send_delivery
from tests.backend.channels.helpers import rows, run_worker
from tests.backend.outgoing.receiver import Receiver, verify
from tests.factories import actor_for, make_contact, make_conversation, make_message

pytestmark = pytest.mark.usefixtures("committed")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        yield server


def _owner():
    with session_scope() as session:
        actor, business = actor_for(session)
        return actor, business.id


def _endpoint(actor, url: str, events_=("message.created", "lead.created")):
    with session_scope() as session:
        return outgoing.create_endpoint(session, actor=actor, url=url, events=list(events_))


def _lead(business_id: int, name: str = "Amina") -> int:
    with session_scope() as session:
        contact = make_contact(session, business=_business(session, business_id), name=name)
        lead = leads.capture(
            session, business_id=business_id, contact_id=contact.id, name=name,
            email="amina@example.com", interest="Wedding cake", source="ai",
        )  # fmt: skip
        return lead.id


def _business(session, business_id):
    from backend.models import Business

    return session.get(Business, business_id)


def _deliveries() -> list[OutgoingDelivery]:
    return rows(OutgoingDelivery)


def _scheduled_delay() -> float:
    """Seconds from now until the one scheduled retry."""
    registry = get_queue("default").scheduled_job_registry
    [job_id] = registry.get_job_ids()
    when = registry.get_scheduled_time(job_id)
    return (when - datetime.now(UTC)).total_seconds()


# --- registering -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("", "Enter the URL"),
        ("ftp://example.com/hook", "https://"),
        ("http://example.com/hook", "must use https://"),
        ("https://user:pw@example.com/hook", "user name and password"),
        ("https://example.com:99999/hook", "not a valid URL"),
        ("https://" + "a" * 2000 + ".com", "longer than"),
    ],
)
def test_bad_urls_are_refused_with_the_fix(url, fragment):
    actor, _ = _owner()
    with pytest.raises(WebhookError) as info, session_scope() as session:
        outgoing.create_endpoint(session, actor=actor, url=url, events=["order.paid"])
    assert info.value.field == "url"
    assert fragment in info.value.message
    assert rows(WebhookEndpoint) == []


def test_events_must_be_known_and_chosen():
    actor, _ = _owner()
    for events_, fragment in [([], "at least one"), (["order.shipped"], "Unknown event")]:
        with pytest.raises(WebhookError) as info, session_scope() as session:
            outgoing.create_endpoint(
                session, actor=actor, url="http://127.0.0.1:9/hook", events=events_
            )
        assert info.value.field == "events"
        assert fragment in info.value.message


def test_the_secret_is_shown_once_and_stored_encrypted(receiver):
    actor, business_id = _owner()
    created = _endpoint(actor, receiver.url + "/hook")
    assert created.secret.startswith("whsec_")
    assert len(created.secret) > 40
    [row] = rows(WebhookEndpoint)
    assert created.secret not in row.secret_encrypted
    assert crypto.decrypt(row.secret_encrypted) == created.secret
    with session_scope() as session:
        [view] = outgoing.list_endpoints(session, actor=actor)
    assert view.secret_hint == created.secret[:10] + "…"
    assert not hasattr(view, "secret")
    [audit] = rows(AuditLog, AuditLog.action == "webhook.created")
    assert audit.business_id == business_id
    assert audit.actor_user_id == actor.user_id
    with pytest.raises(WebhookError, match="already registered"), session_scope() as session:
        outgoing.create_endpoint(
            session, actor=actor, url=receiver.url + "/hook", events="order.paid"
        )


def test_rotating_the_secret_signs_with_the_new_one(receiver):
    actor, business_id = _owner()
    old = _endpoint(actor, receiver.url + "/hook")
    with session_scope() as session:
        new = outgoing.rotate_secret(session, actor=actor, endpoint_id=old.endpoint.id)
    assert new.secret != old.secret
    _lead(business_id)
    run_worker("default")
    [got] = receiver.received
    assert verify(new.secret, got.headers, got.body)
    assert not verify(old.secret, got.headers, got.body)


def test_private_and_link_local_addresses_are_refused():
    actor, _ = _owner()
    for url in ("https://10.1.2.3/hook", "https://169.254.169.254/latest", "https://[fd00::1]/x"):
        with pytest.raises(UnsafeDestination) as info, session_scope() as session:
            outgoing.create_endpoint(session, actor=actor, url=url, events=["order.paid"])
        assert "OUTGOING_WEBHOOK_PRIVATE_ADDRESSES" in info.value.message


def test_loopback_is_allowed_in_development_only_unless_configured(monkeypatch):
    assert outgoing.private_addresses() == "loopback"
    outgoing.check_destination("http://127.0.0.1:8080/hook")
    monkeypatch.setattr(settings, "outgoing_webhook_private_addresses", "none")
    with pytest.raises(UnsafeDestination):
        outgoing.check_destination("http://localhost:8080/hook")
    monkeypatch.setattr(settings, "outgoing_webhook_private_addresses", None)
    monkeypatch.setattr(settings, "bizbot_env", "production")
    assert outgoing.private_addresses() == "none"
    with pytest.raises(WebhookError, match="must use https"):
        outgoing.clean_url("http://127.0.0.1:8080/hook")


def test_only_owners_and_admins_manage_and_only_their_own_business(receiver):
    actor, _ = _owner()
    created = _endpoint(actor, receiver.url + "/hook")
    with session_scope() as session:
        agent, _ = actor_for(
            session, role=Role.AGENT, business=_business(session, actor.business_id)
        )
        stranger, _ = actor_for(session)
    with pytest.raises(PermissionDenied), session_scope() as session:
        outgoing.list_endpoints(session, actor=agent)
    for call in (outgoing.rotate_secret, outgoing.delete_endpoint, outgoing.send_test):
        with pytest.raises(EndpointNotFound), session_scope() as session:
            call(session, actor=stranger, endpoint_id=created.endpoint.id)
    with session_scope() as session:
        assert outgoing.list_endpoints(session, actor=stranger) == []
        assert outgoing.list_deliveries(session, actor=stranger) == []
    assert len(rows(WebhookEndpoint)) == 1


# --- delivering --------------------------------------------------------------------------------


def test_a_new_lead_is_posted_signed_once(receiver):
    actor, business_id = _owner()
    created = _endpoint(actor, receiver.url + "/hook")
    lead_id = _lead(business_id)
    run_worker("default")
    [got] = receiver.received
    assert got.path == "/hook"
    assert verify(created.secret, got.headers, got.body)
    body = got.json
    assert body["type"] == "lead.created"
    assert body["business_id"] == business_id
    assert body["id"] == got.headers["bizbot-webhook-id"]
    assert body["data"]["lead_id"] == lead_id
    assert body["data"]["name"] == "Amina"
    assert set(body) == {"id", "type", "created_at", "business_id", "data"}
    [delivery] = _deliveries()
    assert delivery.status == "succeeded"
    assert delivery.attempts == 1
    [attempt] = rows(OutgoingAttempt)
    assert attempt.status_code == 200
    assert attempt.response_body == '{"ok":true}'
    assert attempt.succeeded
    assert attempt.error is None
    # The same happening again is not delivered twice.
    with session_scope() as session:
        again = outgoing.record_event(
            session, business_id=business_id, name="lead.created", data={"lead_id": lead_id}
        )
    assert again == []
    assert len(_deliveries()) == 1


def test_messages_and_handoffs_reach_only_subscribed_endpoints_never_private_notes(receiver):
    actor, business_id = _owner()
    _endpoint(actor, receiver.url + "/messages", ["message.created"])
    _endpoint(actor, receiver.url + "/handoffs", ["conversation.handoff"])
    with session_scope() as session:
        conversation = make_conversation(session, business=_business(session, business_id))
        message = make_message(session, conversation=conversation, text="Do you deliver?")
        note = make_message(session, conversation=conversation, text="VIP, be kind")
        note.is_private_note = True
        session.add(Handoff(business_id=business_id, conversation_id=conversation.id,
                            reason="customer_request", requested_by="customer"))  # fmt: skip
        for m in (message, note):
            events.publish(session, "message.created", business_id=business_id,
                           conversation_id=conversation.id, message_id=m.id)  # fmt: skip
        events.publish(session, "handoff.requested", business_id=business_id,
                       conversation_id=conversation.id, reason="customer_request")  # fmt: skip
        conversation_id, contact_id = conversation.id, conversation.contact_id
    run_worker("default")
    by_path = {r.path: r.json for r in receiver.received}
    assert sorted(by_path) == ["/handoffs", "/messages"]
    assert by_path["/messages"]["data"]["text"] == "Do you deliver?"
    assert by_path["/messages"]["data"]["contact_id"] == contact_id
    assert by_path["/handoffs"]["type"] == "conversation.handoff"
    assert by_path["/handoffs"]["data"]["conversation_id"] == conversation_id
    assert by_path["/handoffs"]["data"]["reason"] == "customer_request"


def test_a_failing_receiver_is_retried_with_backoff_then_marked_failed(receiver):
    actor, business_id = _owner()
    _endpoint(actor, receiver.url + "/hook")
    receiver.answer(500, "x" * 5000, times=6)
    _lead(business_id)
    run_worker("default")
    [delivery] = _deliveries()
    assert delivery.status == "pending"
    assert delivery.attempts == 1
    [attempt] = rows(OutgoingAttempt)
    assert attempt.status_code == 500
    assert len(attempt.response_body) == 2048
    assert "HTTP 500" in attempt.error
    # Next attempt scheduled a minute later; the retries that follow back off further.
    assert 50 < _scheduled_delay() <= 60
    outcomes = [send_delivery(delivery.id) for _ in range(5)]
    assert outcomes == [f"retry in {s} s" for s in (300, 1800, 7200, 21600)] + ["failed"]
    [delivery] = _deliveries()
    assert delivery.status == "failed"
    assert delivery.attempts == 6
    assert [a.number for a in rows(OutgoingAttempt)] == [1, 2, 3, 4, 5, 6]
    assert send_delivery(delivery.id) == "skipped"
    assert len(receiver.received) == 6


def test_timeouts_and_refused_connections_are_recorded(receiver, monkeypatch):
    monkeypatch.setattr(settings, "outgoing_webhook_timeout", 0.5)
    actor, business_id = _owner()
    _endpoint(actor, receiver.url + "/slow")
    with Receiver() as gone:
        closed_url = gone.url + "/closed"
    _endpoint(actor, closed_url)
    receiver.hang()
    _lead(business_id)
    run_worker("default")
    errors = {a.delivery_id: a.error for a in rows(OutgoingAttempt)}
    by_endpoint = {d.endpoint_id: errors[d.id] for d in _deliveries()}
    slow, closed = sorted(by_endpoint)
    assert "did not answer within 0.5 s" in by_endpoint[slow]
    assert "Could not reach the receiver" in by_endpoint[closed]
    assert all(d.status == "pending" for d in _deliveries())


def test_an_endpoint_failing_again_and_again_is_switched_off_and_owners_told(receiver, monkeypatch):
    monkeypatch.setattr(settings, "outgoing_webhook_failure_limit", 2)
    actor, business_id = _owner()
    created = _endpoint(actor, receiver.url + "/hook")
    receiver.answer(503, "down", times=20)
    first, second, third = _lead(business_id, "A"), _lead(business_id, "B"), _lead(business_id, "C")
    assert first
    assert second
    assert third
    run_worker("default")
    ids = [d.id for d in _deliveries()]
    for delivery_id in ids[:2]:
        while send_delivery(delivery_id).startswith("retry"):
            pass
    [endpoint] = rows(WebhookEndpoint)
    assert not endpoint.is_enabled
    assert "2 deliveries in a row" in endpoint.disabled_reason
    statuses = {d.id: d.status for d in _deliveries()}
    assert statuses[ids[2]] == "failed"  # the pending one stops too
    [note] = rows(Notification, Notification.kind == "webhook_disabled")
    assert note.user_id == actor.user_id
    assert created.endpoint.url in note.title
    assert rows(AuditLog, AuditLog.action == "webhook.auto_disabled")
    # New events are not delivered while it is off; enabling and retrying sends again.
    _lead(business_id, "D")
    assert len(_deliveries()) == 3
    receiver._script.clear()
    with session_scope() as session:
        outgoing.set_enabled(session, actor=actor, endpoint_id=endpoint.id, enabled=True)
        outgoing.retry_delivery(session, actor=actor, delivery_id=ids[2])
    run_worker("default")
    statuses = {d.id: d.status for d in _deliveries()}
    assert statuses[ids[2]] == "succeeded"
    [endpoint] = rows(WebhookEndpoint)
    assert endpoint.is_enabled
    assert endpoint.consecutive_failures == 0


def test_only_failed_deliveries_can_be_retried(receiver):
    actor, business_id = _owner()
    _endpoint(actor, receiver.url + "/hook")
    _lead(business_id)
    run_worker("default")
    [delivery] = _deliveries()
    with pytest.raises(WebhookError, match="Only a failed delivery"), session_scope() as session:
        outgoing.retry_delivery(session, actor=actor, delivery_id=delivery.id)


def test_a_test_event_is_tried_once_and_listed_with_its_answer(receiver):
    actor, _ = _owner()
    created = _endpoint(actor, receiver.url + "/hook")
    receiver.answer(404, "no such hook")
    with session_scope() as session:
        outgoing.send_test(session, actor=actor, endpoint_id=created.endpoint.id)
    run_worker("default")
    with session_scope() as session:
        [view] = outgoing.list_deliveries(session, actor=actor)
    assert view.event_type == "webhook.test"
    assert view.status == "failed"
    [attempt] = view.attempt_log
    assert attempt.status_code == 404
    assert attempt.response_body == "no such hook"
    assert get_queue("default").scheduled_job_registry.get_job_ids() == []
    [endpoint] = rows(WebhookEndpoint)
    assert endpoint.is_enabled
    assert endpoint.consecutive_failures == 0


def test_deleting_an_endpoint_removes_its_deliveries_and_is_audited(receiver):
    actor, business_id = _owner()
    created = _endpoint(actor, receiver.url + "/hook")
    _lead(business_id)
    with session_scope() as session:
        outgoing.delete_endpoint(session, actor=actor, endpoint_id=created.endpoint.id)
    assert rows(WebhookEndpoint) == []
    assert _deliveries() == []
    run_worker("default")
    assert receiver.received == []
    assert rows(AuditLog, AuditLog.action == "webhook.deleted")


def test_a_redirect_is_not_followed(receiver):
    actor, business_id = _owner()
    _endpoint(actor, receiver.url + "/hook")
    receiver.answer(301, "moved")
    _lead(business_id)
    run_worker("default")
    [attempt] = rows(OutgoingAttempt)
    assert attempt.status_code == 301
    assert "redirects are not followed" in attempt.error
    assert len(receiver.received) == 1


def test_a_delivery_remembers_its_contact_for_erasure(receiver):
    actor, business_id = _owner()
    _endpoint(actor, receiver.url + "/hook", ["message.created"])
    with session_scope() as session:
        conversation = make_conversation(session, business=_business(session, business_id))
        message = make_message(session, conversation=conversation, text="Hi")
        events.publish(session, "message.created", business_id=business_id,
                       conversation_id=conversation.id, message_id=message.id)  # fmt: skip
        contact_id = conversation.contact_id
    run_worker("default")
    [delivery] = _deliveries()
    assert delivery.contact_id == contact_id
    assert delivery.status == "succeeded"


def test_a_paid_order_is_posted_with_its_total(receiver):
    actor, business_id = _owner()
    _endpoint(actor, receiver.url + "/orders", ["order.paid"])
    with session_scope() as session:
        contact = make_contact(session, business=_business(session, business_id))
        order = Order(business_id=business_id, contact_id=contact.id, number=7, currency="KES",
                      status="paid", subtotal_cents=150000, total_cents=150000)  # fmt: skip
        session.add(order)
        session.flush()
        events.publish(session, "order.paid", business_id=business_id, order_id=order.id)
        order_id, contact_id = order.id, contact.id
    run_worker("default")
    [got] = receiver.received
    assert got.json["type"] == "order.paid"
    assert got.json["data"] == {
        "order_id": order_id, "number": 7, "contact_id": contact_id, "conversation_id": None,
        "status": "paid", "currency": "KES", "total_cents": 150000,
    }  # fmt: skip
