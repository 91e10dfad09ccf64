"""The catalogue as knowledge: each active product is an FAQ the AI's retrieval can find.

The entry's id is `product-<id>`, so edits update it in place; deactivating or deleting the
product removes it. Everything goes through the knowledge service's public functions.
"""

from __future__ import annotations

from sqlmodel import Session

from backend.auth.permissions import Actor
from backend.commerce.schemas import CommerceError
from backend.models.commerce import Product
from backend.models.tenants import Role

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


def _catalogue_actor(business_id: int) -> Actor:
    # The catalogue keeps its own entries in step, whoever edited the product (the knowledge
    # service's removal takes an actor; user 0 is no one).
    return Actor(user_id=0, business_id=business_id, role=Role.OWNER)


def _remove(session: Session, *, business_id: int, product_id: int, names: list[str]) -> None:
    from backend.knowledge import service as knowledge

    actor = _catalogue_actor(business_id)
    wanted = external_id(product_id)
    for name in dict.fromkeys(names):
        for source in knowledge.list_sources(
            session, actor=actor, search=question(name), limit=500
        ):
            if source.external_id == wanted:
                knowledge.delete_source(session, actor=actor, source_id=source.id)
                return


def sync_product(
    session: Session, *, product: Product, old_name: str | None = None, enqueue: bool = True
) -> None:
    """Add, update or remove the product's knowledge entry to match the product.

    With `enqueue=False` the caller embeds the pending entry itself (the demo seed does).
    """
    from backend.knowledge import service as knowledge

    if not product.is_active:
        names = [product.name] + ([old_name] if old_name else [])
        _remove(session, business_id=product.business_id, product_id=product.id, names=names)
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
