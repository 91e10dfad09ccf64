"""Selling inside the conversation: a customer who wants to buy gets an order and a payment link."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session


@dataclass(frozen=True)
class PurchaseReply:
    """What to answer a customer who wants to buy (instead of the AI's answer)."""

    text: str
    quick_replies: list[str] = field(default_factory=list)


def purchase_reply(
    session: Session,
    *,
    business_id: int,
    conversation_id: int,
    contact_id: int | None,
    text: str,
    language: str | None,
) -> PurchaseReply | None:
    """The reply to a purchase intent in `text`, or None when the message is not one."""
    return None
