"""The minute sweep: links expire, pending mobile-money payments are asked about."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from backend.core.db import session_scope
from backend.models.payments import Payment, PaymentLink
from backend.payments import service
from backend.payments.base import PushPrompt
from backend.payments.tasks import sweep_payments
from tests.backend.payments.helpers import chat_replies, connect, make_shop, order, payments
from tests.fakes.mpesa_server import FakeMpesa

pytestmark = pytest.mark.usefixtures("committed")
MPESA = {"consumer_key": "ck", "consumer_secret": "cs", "shortcode": "174379", "passkey": "pk"}


def _age(model, row_id: int, **delta) -> None:
    """Move a row's clock back, as if it was made `delta` ago."""
    with session_scope() as session:
        column = model.created_at if model is Payment else model.expires_at
        session.execute(
            sa.update(model).where(model.id == row_id).values({column: column - timedelta(**delta)})
        )


def test_links_past_their_time_expire():
    with session_scope() as session:
        shop = make_shop(session)
        link = service.create_payment_link(
            session, business_id=shop.business_id, order_id=shop.order_id,
            expires_in=timedelta(hours=1),
        )  # fmt: skip
        other = make_shop(session)
        kept = service.create_payment_link(
            session, business_id=other.business_id, order_id=other.order_id
        )
    assert sweep_payments()["expired_links"] == 0
    _age(PaymentLink, link.id, hours=2)
    assert sweep_payments()["expired_links"] == 1
    with session_scope() as session:
        assert session.get(PaymentLink, link.id).status == "expired"
        assert session.get(PaymentLink, kept.id).status == "active"
    assert sweep_payments()["expired_links"] == 0


def test_a_push_payment_without_a_callback_is_confirmed_by_the_status_query():
    with FakeMpesa() as mpesa:
        mpesa.add_app(**MPESA)
        with session_scope() as session:
            shop = make_shop(session, currency="KES", items=[("Chocolate cake", 150_000, 1)])
            connect(session, shop, kind="mpesa", credentials=MPESA, base_url=mpesa.url)
            token = service.create_payment_link(
                session, business_id=shop.business_id, order_id=shop.order_id
            ).token
            prompt = service.start_payment(
                session, token=token, kind="mpesa", payer_phone="254712345678"
            )
        assert isinstance(prompt, PushPrompt)
        with session_scope() as session:
            (payment,) = payments(session, shop)
        # Under a minute old: the callback may still come, nobody asks yet.
        assert sweep_payments()["checked"] == 0
        _age(Payment, payment.id, minutes=2)
        # Asked, but the customer has not answered the prompt: still pending.
        assert sweep_payments()["paid"] == 0
        mpesa.pay(prompt.provider_reference)  # the callback is lost; only the query tells
        totals = sweep_payments()
        assert totals["paid"] == 1
        assert sweep_payments()["checked"] == 0  # settled payments are not asked again
    with session_scope() as session:
        assert order(session, shop).status == "paid"
        assert [p.status for p in payments(session, shop)] == ["succeeded"]
        assert len(chat_replies(session, shop)) == 1
