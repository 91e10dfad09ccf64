"""All SQL of the ads studio; every query is scoped by business_id."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, select

from backend.models.ads import AdAsset, AdConversation
from backend.models.channels import ChannelIntegration
from backend.models.conversations import Message
from backend.models.tenants import Business


def business(session: Session, *, business_id: int) -> Business | None:
    """The business itself (its name goes into the ads)."""
    return session.get(Business, business_id)


def save(session: Session, asset: AdAsset) -> AdAsset:
    """Insert or update an asset and flush."""
    session.add(asset)
    session.flush()
    return asset


def get_asset(
    session: Session, *, business_id: int, asset_id: int, for_update: bool = False
) -> AdAsset | None:
    """One asset of the business (locked for update when asked)."""
    query = select(AdAsset).where(AdAsset.business_id == business_id, AdAsset.id == asset_id)
    if for_update:
        query = query.with_for_update()
    return session.exec(query).first()


def list_assets(
    session: Session, *, business_id: int, include_archived: bool, limit: int
) -> list[AdAsset]:
    """The business's copy assets, newest first."""
    query = select(AdAsset).where(AdAsset.business_id == business_id, AdAsset.kind == "copy")
    if not include_archived:
        query = query.where(AdAsset.status != "archived")
    return list(session.exec(query.order_by(AdAsset.id.desc()).limit(limit)).all())


def delete_asset(session: Session, *, business_id: int, asset_id: int) -> bool:
    """Delete an asset (its counted conversations go with it); whether it existed."""
    result = session.execute(
        sa.delete(AdAsset).where(AdAsset.business_id == business_id, AdAsset.id == asset_id)
    )
    return bool(result.rowcount)


def ref_code_taken(session: Session, *, business_id: int, ref_code: str) -> bool:
    """Whether an asset of the business already uses `ref_code`."""
    return (
        session.exec(
            select(AdAsset.id).where(
                AdAsset.business_id == business_id, AdAsset.ref_code == ref_code
            )
        ).first()
        is not None
    )


def find_by_ref_code(session: Session, *, business_id: int, ref_code: str) -> AdAsset | None:
    """The asset of the business whose link carries `ref_code`."""
    return session.exec(
        select(AdAsset).where(AdAsset.business_id == business_id, AdAsset.ref_code == ref_code)
    ).first()


def conversation_counts(
    session: Session, *, business_id: int, asset_ids: list[int]
) -> dict[int, int]:
    """How many conversations each asset's link started."""
    if not asset_ids:
        return {}
    rows = session.execute(
        select(AdConversation.ad_asset_id, sa.func.count())
        .where(
            AdConversation.business_id == business_id,
            AdConversation.ad_asset_id.in_(asset_ids),
        )
        .group_by(AdConversation.ad_asset_id)
    ).all()
    return {int(asset_id): int(count) for asset_id, count in rows}


def record_conversation(
    session: Session, *, business_id: int, ad_asset_id: int, conversation_id: int
) -> bool:
    """Count a conversation for an asset once; whether it was new."""
    result = session.execute(
        insert(AdConversation)
        .values(business_id=business_id, ad_asset_id=ad_asset_id, conversation_id=conversation_id)
        .on_conflict_do_nothing(constraint="uq_adconversation_asset_conv")
    )
    return bool(result.rowcount)


def get_message(session: Session, *, business_id: int, message_id: int) -> Message | None:
    """One message of the business."""
    return session.exec(
        select(Message).where(Message.business_id == business_id, Message.id == message_id)
    ).first()


def first_customer_message_id(
    session: Session, *, business_id: int, conversation_id: int
) -> int | None:
    """The id of the customer's first message in a conversation."""
    return session.exec(
        select(Message.id)
        .where(
            Message.business_id == business_id,
            Message.conversation_id == conversation_id,
            Message.sender_type == "customer",
        )
        .order_by(Message.created_at, Message.id)
        .limit(1)
    ).first()


def channel_of_kind(session: Session, *, business_id: int, kind: str) -> ChannelIntegration | None:
    """The business's enabled channel of a kind (WhatsApp, Messenger, Instagram)."""
    return session.exec(
        select(ChannelIntegration)
        .where(
            ChannelIntegration.business_id == business_id,
            ChannelIntegration.kind == kind,
            ChannelIntegration.is_enabled.is_(True),
        )
        .order_by(ChannelIntegration.id)
    ).first()
