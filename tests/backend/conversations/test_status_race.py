"""A delivery status that arrives before the send stored the channel's message id is kept."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from backend.channels import registry
from backend.channels.base import StatusUpdate
from backend.conversations import tasks
from backend.models import InboundEvent, Message
from tests.backend.conversations.helpers import message, receive, rows, run_worker
from tests.fakes.channel import RecordingChannel

pytestmark = pytest.mark.usefixtures("committed")


@dataclass
class FastReceiptChannel(RecordingChannel):
    """A channel whose 'delivered' webhook is processed while BizBot's send is still running."""

    cfg: object = None
    status_jobs: list = None

    def send(self, msg, cfg):
        result = super().send(msg, cfg)
        delivered = StatusUpdate(
            external_id=f"st-{result.external_id}",
            message_external_id=result.external_id,
            status="delivered",
        )
        [event_id] = receive(self.cfg, delivered)  # its own connection, committed
        self.status_jobs.append(tasks.process_inbound(event_id))
        return result


def test_a_status_processed_before_the_send_committed_is_applied_when_it_commits(cfg):
    channel = FastReceiptChannel(cfg=cfg, status_jobs=[])
    registry.register(channel)
    receive(cfg, message(1, "Hello"))
    run_worker()

    assert channel.status_jobs == ["unmatched"]  # the id was not stored yet: parked
    reply = rows(Message, Message.sender_type == "ai")[0]
    assert (reply.external_id, reply.delivery_status) == ("out-1", "delivered")
    assert [e.status for e in rows(InboundEvent, InboundEvent.kind == "status")] == ["done"]


def test_a_status_for_a_message_bizbot_never_sent_is_parked_and_blocks_nothing(cfg, channel):
    stray = StatusUpdate(external_id="st-x", message_external_id="sent-from-phone", status="read")
    [event_id] = receive(cfg, stray)
    assert tasks.process_inbound(event_id) == "unmatched"
    assert tasks.process_inbound(event_id) == "unmatched"
    assert tasks.sweep()["events"] == 0
    receive(cfg, message(1, "Hello"))
    run_worker()
    reply = rows(Message, Message.sender_type == "ai")[0]
    assert reply.delivery_status == "sent"
    assert [e.status for e in rows(InboundEvent)] == ["unmatched", "done"]
