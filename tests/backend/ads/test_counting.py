"""Conversations started from an ad's link, counted once through the message.created listener."""

from __future__ import annotations

import pytest

from backend.ads import service
from backend.channels import registry
from backend.channels.service import create_integration, to_config
from backend.core.db import session_scope
from backend.models import AdConversation, Role
from tests.backend.conversations.helpers import message, receive, rows, run_worker
from tests.factories import actor_for, make_business
from tests.fakes.channel import RecordingChannel


@pytest.fixture
def channel() -> RecordingChannel:
    """The test channel's adapter (the pipeline does not know which channel it serves)."""
    adapter = RecordingChannel()
    registry.register(adapter)
    return adapter


def _business_with_channel(name: str):
    with session_scope() as session:
        business = make_business(session, name=name)
        owner, _ = actor_for(session, role=Role.OWNER, business=business)
        integration = create_integration(
            session, business_id=business.id, kind="test", name="Test", credentials={"k": "v"}
        )
        return owner, to_config(integration)


def _save_ad(owner) -> tuple[int, str]:
    with session_scope() as session:
        asset = service.save_variant(
            session, actor=owner, platform="whatsapp", language="en", headline="Fresh bread",
            primary_text="Baked every morning.", call_to_action="Chat on WhatsApp",
            offer="Fresh bread every morning",
        )  # fmt: skip
        return asset.id, asset.ref_code


def _conversations(owner, asset_id: int) -> int:
    with session_scope() as session:
        return service.get_asset(session, actor=owner, asset_id=asset_id).conversations


def test_a_first_message_with_the_ref_code_counts_its_conversation_once(committed, channel):
    owner, cfg = _business_with_channel("Mama Ngina Bakery")
    asset_id, code = _save_ad(owner)
    other_id, _ = _save_ad(owner)
    ad_text = f"Hi! I'm interested in your offer: Fresh bread every morning (ref {code})"

    receive(cfg, message(1, ad_text, sender="amina"))
    run_worker()
    assert _conversations(owner, asset_id) == 1

    # The same customer sends the link's text again in the same conversation: still one.
    receive(cfg, message(2, ad_text, sender="amina"))
    run_worker()
    assert _conversations(owner, asset_id) == 1

    # A conversation that started without the code does not count when it shows up later.
    receive(cfg, message(3, "Hello, are you open today?", sender="baraka"))
    receive(cfg, message(4, ad_text, sender="baraka"))
    run_worker()
    assert _conversations(owner, asset_id) == 1

    # A new customer coming from the link counts; the other ad stays at zero.
    receive(cfg, message(5, ad_text.replace("ref", "REF"), sender="chausiku"))
    run_worker()
    assert _conversations(owner, asset_id) == 2
    assert _conversations(owner, other_id) == 0
    assert len(rows(AdConversation, AdConversation.ad_asset_id == asset_id)) == 2


def test_a_ref_code_counts_only_in_its_own_business(committed, channel):
    owner, _ = _business_with_channel("Mama Ngina Bakery")
    asset_id, code = _save_ad(owner)
    _stranger, stranger_cfg = _business_with_channel("Other Shop")

    receive(stranger_cfg, message(1, f"Hi! (ref {code})", sender="amina"))
    run_worker()

    assert _conversations(owner, asset_id) == 0
    assert rows(AdConversation) == []
