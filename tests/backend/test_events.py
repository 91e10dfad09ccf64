"""A BusinessFlag forgets a business's answers when a write of a watched row commits: not at
its flush (another session would still read, and remember, the old answer), and not for a
write that rolls back."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from backend.core.db import get_engine, session_scope
from backend.leads import service as leads
from backend.models import Business, OutgoingDelivery, WebhookEndpoint
from backend.outgoing import service as outgoing
from backend.outgoing import tasks as outgoing_tasks
from tests.backend.channels.helpers import rows
from tests.factories import actor_for, make_contact

pytestmark = pytest.mark.usefixtures("committed")

EVENT = "lead.created"


class _Clock:
    now = 1000.0  # never moves: an answer is only looked up again when it is forgotten

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def flag(monkeypatch: pytest.MonkeyPatch):
    flag = outgoing_tasks._has_endpoints
    lookups: list[int] = []
    real = flag.lookup

    def counted(business_id, key):
        lookups.append(business_id)
        return real(business_id, key)

    monkeypatch.setattr(flag, "clock", _Clock())
    monkeypatch.setattr(flag, "lookup", counted)
    flag.forget()
    flag.lookups = lookups
    yield flag
    flag.forget()
    del flag.lookups


def _owner():
    with session_scope() as session:
        actor, business = actor_for(session)
        return actor, business.id


def _add_endpoint(session, actor) -> None:
    outgoing.create_endpoint(session, actor=actor, url="http://127.0.0.1:9/hook", events=[EVENT])
    session.flush()


def test_an_answer_remembered_between_the_flush_and_the_commit_is_forgotten_at_the_commit(flag):
    actor, business_id = _owner()
    with session_scope() as session:
        _add_endpoint(session, actor)
        # A listener of another commit asks meanwhile: its session cannot see the row yet.
        assert flag(business_id, EVENT) is False
    assert flag(business_id, EVENT) is True


def test_a_write_that_rolls_back_forgets_nothing(flag):
    actor, business_id = _owner()
    assert flag(business_id, EVENT) is False
    with Session(get_engine()) as session:
        _add_endpoint(session, actor)
        session.rollback()
    assert flag(business_id, EVENT) is False
    assert flag.lookups == [business_id]  # still remembered: no second lookup


def test_a_released_savepoint_is_forgotten_at_the_commit_around_it(flag):
    actor, business_id = _owner()
    with session_scope() as session:
        with session.begin_nested():
            _add_endpoint(session, actor)
        assert flag(business_id, EVENT) is False
    assert flag(business_id, EVENT) is True


def test_a_deleted_row_is_forgotten_at_the_commit(flag):
    actor, business_id = _owner()
    with session_scope() as session:
        _add_endpoint(session, actor)
    assert flag(business_id, EVENT) is True
    with session_scope() as session:
        for endpoint in session.query(WebhookEndpoint).filter_by(business_id=business_id):
            session.delete(endpoint)
        session.flush()
        assert flag(business_id, EVENT) is True
    assert flag(business_id, EVENT) is False


def test_other_businesses_keep_their_answers(flag):
    actor, business_id = _owner()
    _, other_id = _owner()
    assert flag(other_id, EVENT) is False
    with session_scope() as session:
        _add_endpoint(session, actor)
    assert flag(business_id, EVENT) is True
    assert flag(other_id, EVENT) is False
    assert flag.lookups == [other_id, business_id]


def test_the_events_of_the_commit_that_adds_an_endpoint_reach_it(flag):
    actor, business_id = _owner()
    assert flag(business_id, EVENT) is False
    with session_scope() as session:
        _add_endpoint(session, actor)
        contact = make_contact(session, business=session.get(Business, business_id), name="Amina")
        leads.capture(
            session, business_id=business_id, contact_id=contact.id, name="Amina",
            email="amina@example.com", interest="Cake", source="ai",
        )  # fmt: skip
    assert [d.event_type for d in rows(OutgoingDelivery) if d.business_id == business_id] == [
        "lead.created"
    ]
