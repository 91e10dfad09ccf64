"""All SQL of the catalogue and orders; every query is scoped by business_id."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlmodel import Session, func, select

from backend.models import Business, Contact, Conversation
from backend.models.ads import AdAsset
from backend.models.commerce import Order, OrderItem, Product
from backend.models.payments import PaymentLink, PaymentLinkStatus


def save(session: Session, row):
    """Write a product, order or order line now (the caller's transaction commits it)."""
    session.add(row)
    session.flush()
    return row


def delete(session: Session, row) -> None:
    """Delete a row now (the caller's transaction commits it)."""
    session.delete(row)
    session.flush()


# --- products --------------------------------------------------------------------------------


def get_product(
    session: Session, *, business_id: int, product_id: int, for_update: bool = False
) -> Product | None:
    """One product of the business, optionally locked until commit."""
    stmt = select(Product).where(Product.business_id == business_id, Product.id == product_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.exec(stmt).first()


def lock_products(session: Session, *, business_id: int, product_ids: Iterable[int]) -> dict:
    """The business's products with these ids, locked until commit (in id order, no deadlock)."""
    ids = sorted(set(product_ids))
    rows = session.exec(
        select(Product)
        .where(Product.business_id == business_id, Product.id.in_(ids))
        .order_by(Product.id)
        .with_for_update()
    ).all()
    return {row.id: row for row in rows}


def find_product_by_sku(session: Session, *, business_id: int, sku: str) -> Product | None:
    """The business's product with this SKU."""
    return session.exec(
        select(Product).where(Product.business_id == business_id, Product.sku == sku)
    ).first()


def _product_filter(business_id: int, search: str, active_only: bool) -> list:
    conditions = [Product.business_id == business_id]
    if active_only:
        conditions.append(Product.is_active.is_(True))
    search = search.strip()
    if search:
        pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(
            sa.or_(
                Product.name.ilike(pattern, escape="\\"),
                Product.sku.ilike(pattern, escape="\\"),
                Product.description.ilike(pattern, escape="\\"),
            )
        )
    return conditions


def list_products(
    session: Session,
    *,
    business_id: int,
    search: str = "",
    active_only: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> list[Product]:
    """The business's products matching `search`, by name."""
    return list(
        session.exec(
            select(Product)
            .where(*_product_filter(business_id, search, active_only))
            .order_by(func.lower(Product.name), Product.id)
            .limit(limit)
            .offset(offset)
        ).all()
    )


def count_products(
    session: Session, *, business_id: int, search: str = "", active_only: bool = False
) -> int:
    """How many of the business's products match `search`."""
    return session.exec(
        select(func.count()).where(*_product_filter(business_id, search, active_only))
    ).one()


def image_in_use(
    session: Session, *, business_id: int, image_path: str, except_product: int | None = None
) -> bool:
    """Whether a product (other than `except_product`), an ad or the logo of the business points
    at this stored file."""
    products = [Product.business_id == business_id, Product.image_path == image_path]
    if except_product is not None:
        products.append(Product.id != except_product)
    used = sa.or_(
        sa.exists().where(*products),
        sa.exists().where(AdAsset.business_id == business_id, AdAsset.image_path == image_path),
        sa.exists().where(Business.id == business_id, Business.logo_path == image_path),
    )
    return bool(session.execute(sa.select(used)).scalar_one())


# --- orders ----------------------------------------------------------------------------------


def lock_business(session: Session, *, business_id: int) -> None:
    """Hold the business's row until commit, so two orders never get the same number."""
    session.exec(select(Business.id).where(Business.id == business_id).with_for_update()).first()


def last_order_number(session: Session, *, business_id: int) -> int:
    """The highest order number the business has used (0 before its first order)."""
    return session.exec(
        select(func.coalesce(func.max(Order.number), 0)).where(Order.business_id == business_id)
    ).one()


def get_order(
    session: Session, *, business_id: int, order_id: int, for_update: bool = False
) -> Order | None:
    """One order of the business, optionally locked until commit."""
    stmt = select(Order).where(Order.business_id == business_id, Order.id == order_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.exec(stmt).first()


def _order_filter(business_id: int, statuses: list[str] | None, contact_id: int | None) -> list:
    conditions = [Order.business_id == business_id]
    if statuses:
        conditions.append(Order.status.in_(statuses))
    if contact_id is not None:
        conditions.append(Order.contact_id == contact_id)
    return conditions


def list_orders(
    session: Session,
    *,
    business_id: int,
    statuses: list[str] | None = None,
    contact_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Order]:
    """The business's orders, newest first."""
    return list(
        session.exec(
            select(Order)
            .where(*_order_filter(business_id, statuses, contact_id))
            .order_by(Order.number.desc())
            .limit(limit)
            .offset(offset)
        ).all()
    )


def count_orders(
    session: Session,
    *,
    business_id: int,
    statuses: list[str] | None = None,
    contact_id: int | None = None,
) -> int:
    """How many of the business's orders match."""
    return session.exec(
        select(func.count()).where(*_order_filter(business_id, statuses, contact_id))
    ).one()


def order_items(session: Session, *, business_id: int, order_ids: list[int]) -> list[OrderItem]:
    """The lines of these orders, in the order they were added."""
    if not order_ids:
        return []
    return list(
        session.exec(
            select(OrderItem)
            .where(OrderItem.business_id == business_id, OrderItem.order_id.in_(order_ids))
            .order_by(OrderItem.order_id, OrderItem.id)
        ).all()
    )


def contact_names(session: Session, *, business_id: int, contact_ids: list[int]) -> dict:
    """Display names of the business's contacts: name, else email, else phone."""
    if not contact_ids:
        return {}
    rows = session.exec(
        select(Contact.id, Contact.name, Contact.email, Contact.phone).where(
            Contact.business_id == business_id, Contact.id.in_(contact_ids)
        )
    ).all()
    return {row[0]: row[1] or row[2] or row[3] or f"Contact #{row[0]}" for row in rows}


def contact_exists(session: Session, *, business_id: int, contact_id: int) -> bool:
    """Whether the contact belongs to the business."""
    return (
        session.exec(
            select(Contact.id).where(Contact.business_id == business_id, Contact.id == contact_id)
        ).first()
        is not None
    )


def conversation_exists(
    session: Session, *, business_id: int, conversation_id: int, contact_id: int | None = None
) -> bool:
    """Whether the conversation belongs to the business (and to the contact, when given)."""
    stmt = select(Conversation.id).where(
        Conversation.business_id == business_id, Conversation.id == conversation_id
    )
    if contact_id is not None:
        stmt = stmt.where(Conversation.contact_id == contact_id)
    return session.exec(stmt).first() is not None


def latest_payment_links(session: Session, *, business_id: int, order_ids: list[int]) -> dict:
    """Each order's newest payment link (read-only; the payments domain writes them)."""
    if not order_ids:
        return {}
    rows = session.exec(
        select(PaymentLink)
        .where(PaymentLink.business_id == business_id, PaymentLink.order_id.in_(order_ids))
        .order_by(PaymentLink.order_id, PaymentLink.id)
    ).all()
    return {row.order_id: row for row in rows}


def active_payment_link_ids(session: Session, *, business_id: int, order_id: int) -> list[int]:
    """Ids of the order's payment links that are still active."""
    return list(
        session.exec(
            select(PaymentLink.id).where(
                PaymentLink.business_id == business_id,
                PaymentLink.order_id == order_id,
                PaymentLink.status == PaymentLinkStatus.ACTIVE,
            )
        ).all()
    )
