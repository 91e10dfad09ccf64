"""The demo bakery's catalogue: added once, on sale, and known to the assistant."""

from __future__ import annotations

from sqlmodel import select

from backend.commerce import service
from backend.commerce.demo import DEMO_PRODUCTS, seed_demo_products
from backend.models import KnowledgeSource
from tests.factories import actor_for


def test_the_demo_catalogue_is_added_once(db):
    owner, business = actor_for(db)
    assert seed_demo_products(db, business_id=business.id) == len(DEMO_PRODUCTS)
    assert seed_demo_products(db, business_id=business.id) == 0

    products = {p.sku: p for p in service.list_products(db, actor=owner)}
    assert len(products) == len(DEMO_PRODUCTS)
    assert products["SUN-SOUR"].price_display == "6.50 USD"
    assert products["SUN-CLASS"].kind == "service"
    faqs = db.exec(
        select(KnowledgeSource.question).where(
            KnowledgeSource.business_id == business.id,
            KnowledgeSource.external_id.like("product-%"),
        )
    ).all()
    assert "How much is Sourdough loaf?" in faqs
    assert len(faqs) == len(DEMO_PRODUCTS)
