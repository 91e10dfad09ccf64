"""The catalogue as knowledge: each active product is an FAQ the AI's retrieval can find.

The entry's id is `product-<id>`, so edits update it in place; deactivating or deleting the
product removes it. Everything goes through the knowledge service's public functions.
"""

from __future__ import annotations

from sqlmodel import Session

from backend.commerce.schemas import CommerceError
from backend.models.commerce import Product

CATEGORY = "Products"


def external_id(product_id: int) -> str:
    """The knowledge entry id of a product."""
    return f"product-{int(product_id)}"


def question(name: str) -> str:
    """The question a product's entry answers."""
    return f"How much is {name}?"


def answer(product: Product) -> str:
    """What the AI may say about a product: its price, description and how to buy it."""
    from backend.commerce.service import format_money

    parts = [f"{product.name} costs {format_money(product.price_cents, product.currency)}."]
    if product.description:
        parts.append(product.description.strip())
    if product.stock == 0:
        parts.append("It is sold out at the moment.")
    parts.append(f'To order, type "buy {product.name}".')
    return " ".join(parts)


def _remove(session: Session, *, business_id: int, product_id: int) -> None:
    from backend.knowledge import service as knowledge

    knowledge.remove_by_external_id(
        session, business_id=business_id, external_id=external_id(product_id)
    )


def sync_product(
    session: Session, *, product: Product, old_name: str | None = None, enqueue: bool = True
) -> None:
    """Add, update or remove the product's knowledge entry to match the product.

    With `enqueue=False` the caller embeds the pending entry itself (the demo seed does).
    """
    from backend.knowledge import service as knowledge

    if not product.is_active:
        _remove(session, business_id=product.business_id, product_id=product.id)
        return
    summary = knowledge.import_rows(
        session,
        business_id=product.business_id,
        rows=[
            {
                "id": external_id(product.id),
                "question": question(product.name),
                "answer": answer(product),
                "category": CATEGORY,
            }
        ],
        enqueue=enqueue,
    )
    if summary.failed:
        raise CommerceError(
            f"BizBot could not learn this product: {summary.errors[0]}", field="description"
        )
