"""The broadcasts listener: only a template message's status can move a broadcast recipient."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from backend.core.db import get_engine
from backend.events import DomainEvent
from backend.templates.listeners import broadcast_recipient_moved

pytestmark = pytest.mark.usefixtures("committed")


@contextmanager
def counting() -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(get_engine(), "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(get_engine(), "before_cursor_execute", count)


def status(content_type: str) -> DomainEvent:
    return DomainEvent(
        "message.updated",
        business_id=1,
        data={"conversation_id": 1, "message_id": 1, "delivery_status": "delivered",
              "content_type": content_type},
    )  # fmt: skip


def test_a_status_of_an_ordinary_message_costs_the_listener_no_statement():
    with counting() as ordinary:
        broadcast_recipient_moved(status("text"))
    with counting() as template:
        broadcast_recipient_moved(status("template"))
    assert ordinary == []
    assert any("FROM broadcastrecipient" in s for s in template)  # a template one is looked up
