"""The demo bakery's catalogue, so the Sales page and buying in the chat show real content."""

from __future__ import annotations

from sqlmodel import Session

from backend.commerce import knowledge
from backend.commerce import repository as repo
from backend.commerce.service import parse_price
from backend.models.commerce import Product, ProductKind

CURRENCY = "USD"
# sku, name, price, stock (None: not tracked), kind, description
DEMO_PRODUCTS = [
    ("SUN-SOUR", "Sourdough loaf", "6.50", 20, ProductKind.PRODUCT,
     "Naturally leavened over 36 hours; crisp crust, open crumb. Sells out by noon."),
    ("SUN-BAG", "Baguette", "2.80", None, ProductKind.PRODUCT,
     "Baked three times a day; best eaten the same day."),
    ("SUN-CROI", "Butter croissant", "2.20", None, ProductKind.PRODUCT,
     "Laminated with French butter, baked every morning."),
    ("SUN-CIN", "Cinnamon roll", "3.10", 30, ProductKind.PRODUCT,
     "Soft brioche dough, cinnamon sugar and a cream-cheese glaze."),
    ("SUN-CAKE", "Birthday cake (8 inch)", "38.00", None, ProductKind.PRODUCT,
     "Vanilla or chocolate sponge; order 48 hours ahead and tell us the name to write."),
    ("SUN-CLASS", "Bread-making class", "45.00", 8, ProductKind.SERVICE,
     "Saturday mornings, 3 hours, all ingredients included; take your loaves home."),
]  # fmt: skip


def seed_demo_products(session: Session, *, business_id: int) -> int:
    """Add the demo catalogue once (by SKU); returns how many products were added.

    Their knowledge entries are left pending for the demo's own embedding step.
    """
    added = 0
    for sku, name, price, stock, kind, description in DEMO_PRODUCTS:
        if repo.find_product_by_sku(session, business_id=business_id, sku=sku) is not None:
            continue
        product = Product(
            business_id=business_id,
            name=name,
            description=description,
            price_cents=parse_price(price, CURRENCY),
            currency=CURRENCY,
            sku=sku,
            stock=stock,
            kind=kind,
        )
        repo.save(session, product)
        knowledge.sync_product(session, product=product, enqueue=False)
        added += 1
    return added
