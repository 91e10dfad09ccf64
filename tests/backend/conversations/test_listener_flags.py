"""Listeners remember "this business has nothing for me" briefly: a new webhook endpoint is
honoured at once by the process that saved it, and within the TTL by every other process."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from backend import events
from backend.core.db import session_scope
from backend.leads import service as leads
from backend.models import Business, OutgoingDelivery
from backend.outgoing import service as outgoing
from backend.outgoing import tasks as outgoing_tasks
from tests.backend.channels.helpers import rows
from tests.factories import actor_for, make_contact

pytestmark = pytest.mark.usefixtures("committed")


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> _Clock:
    fake = _Clock()
    monkeypatch.setattr(outgoing_tasks._has_endpoints, "clock", fake)
    outgoing_tasks._has_endpoints.forget()
    yield fake
    outgoing_tasks._has_endpoints.forget()


def _owner():
    with session_scope() as session:
        actor, business = actor_for(session)
        return actor, business.id


def _capture_lead(business_id: int, name: str) -> None:
    with session_scope() as session:
        business = session.get(Business, business_id)
        contact = make_contact(session, business=business, name=name)
        leads.capture(
            session, business_id=business_id, contact_id=contact.id, name=name,
            email=f"{name.lower()}@example.com", interest="Cake", source="ai",
        )  # fmt: skip


def _delivered_leads(business_id: int) -> list[str]:
    return sorted(
        d.payload["data"]["name"]
        for d in rows(OutgoingDelivery)
        if d.business_id == business_id and d.event_type == "lead.created"
    )


def test_an_endpoint_saved_in_this_process_gets_the_very_next_event(clock):
    actor, business_id = _owner()
    _capture_lead(business_id, "Amina")  # no endpoint yet: remembered as "none"
    with session_scope() as session:
        outgoing.create_endpoint(
            session, actor=actor, url="http://127.0.0.1:9/hook", events=["lead.created"]
        )
    _capture_lead(business_id, "Baraka")

    assert _delivered_leads(business_id) == ["Baraka"]


def test_an_endpoint_saved_by_another_process_gets_events_after_the_ttl_at_worst(clock):
    _, business_id = _owner()
    _capture_lead(business_id, "Amina")
    with session_scope() as session:  # as the web app would: no ORM event in this process
        session.execute(
            sa.text(
                "INSERT INTO webhookendpoint (created_at, updated_at, business_id, url, events, "
                "secret_encrypted, secret_hint, is_enabled, consecutive_failures) VALUES "
                "(now(), now(), :b, 'http://127.0.0.1:9/other', '[\"lead.created\"]', 'x', "
                "'whsec_x', true, 0)"
            ),
            {"b": business_id},
        )
    _capture_lead(business_id, "Baraka")  # within the TTL: may or may not be delivered
    clock.now += outgoing_tasks.ENDPOINTS_TTL
    _capture_lead(business_id, "Chiku")

    delivered = _delivered_leads(business_id)
    assert "Chiku" in delivered
    assert "Amina" not in delivered


def test_a_business_flag_looks_up_once_per_ttl_and_per_key():
    calls: list[tuple[int, object]] = []
    clock = _Clock()

    def lookup(business_id: int, key: object) -> bool:
        calls.append((business_id, key))
        return business_id == 1

    flag = events.BusinessFlag(lookup, ttl=5, clock=clock)
    assert [flag(1, "a"), flag(1, "a"), flag(2, "a"), flag(1, "b")] == [True, True, False, True]
    assert calls == [(1, "a"), (2, "a"), (1, "b")]
    clock.now += 5
    assert flag(2, "a") is False
    flag.forget(1)
    assert flag(1, "a") is True
    assert calls == [(1, "a"), (2, "a"), (1, "b"), (2, "a"), (1, "a")]
