"""Two sessions ordering at once: numbers stay unique and tracked stock is never oversold."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa
from sqlmodel import select

from backend.commerce import service
from backend.commerce.schemas import CommerceError
from backend.core.db import get_engine, session_scope
from backend.models.commerce import Order
from tests.factories import actor_for

pytestmark = pytest.mark.usefixtures("committed")


@pytest.fixture
def shop():
    with session_scope() as session:
        owner, _ = actor_for(session)
        product = service.create_product(
            session, actor=owner, name="Last cake", price="10", currency="USD", stock=1
        )
        other = service.create_product(
            session, actor=owner, name="Bread", price="2", currency="USD"
        )
    return owner, product.id, other.id


def _wait_until_blocked_on_a_lock() -> None:
    """Return once another session waits for a row lock (the second order reached the lock)."""
    deadline = time.monotonic() + 30
    with get_engine().connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
            ).scalar_one()
            if waiting:
                return
            conn.rollback()
    raise AssertionError("the second order never waited for the first")


def _order_in_thread(business_id: int, product_id: int, results: list) -> threading.Thread:
    def run():
        try:
            with session_scope() as session:
                order = service.create_order(
                    session, business_id=business_id, items=[(product_id, 1)]
                )
            results.append(order.number)
        except CommerceError as exc:
            results.append(exc.message)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_two_concurrent_orders_get_consecutive_numbers(shop):
    owner, _, bread = shop
    results: list = []
    with session_scope() as first:
        mine = service.create_order(first, business_id=owner.business_id, items=[(bread, 1)])
        thread = _order_in_thread(owner.business_id, bread, results)
        _wait_until_blocked_on_a_lock()
    thread.join(timeout=30)

    assert sorted([mine.number, *results]) == [1, 2]
    with session_scope() as session:
        numbers = session.exec(select(Order.number).order_by(Order.number)).all()
    assert numbers == [1, 2]


def test_the_last_item_in_stock_is_sold_once(shop):
    owner, cake, _ = shop
    results: list = []
    with session_scope() as first:
        service.create_order(first, business_id=owner.business_id, items=[(cake, 1)])
        thread = _order_in_thread(owner.business_id, cake, results)
        _wait_until_blocked_on_a_lock()
    thread.join(timeout=30)

    assert results == ["Last cake is out of stock."]
    with session_scope() as session:
        assert len(session.exec(select(Order)).all()) == 1
        assert service.get_product(session, actor=owner, product_id=cake).stock == 0
