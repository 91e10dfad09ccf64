"""The catalogue and orders: products, prices in minor units, orders, stock and tenancy."""

from __future__ import annotations

import pytest
from sqlmodel import select

from backend.auth.permissions import PermissionDenied
from backend.commerce import service
from backend.commerce.schemas import CommerceError
from backend.core.config import settings
from backend.models import Business, KnowledgeSource, Role
from backend.models.commerce import Order, OrderItem, Product
from tests.factories import actor_for, make_contact, make_conversation


@pytest.fixture
def owner(db):
    actor, _ = actor_for(db, role=Role.OWNER)
    return actor


def _product(db, actor, **changes):
    fields = {"name": "Sourdough loaf", "price": "4.50", "currency": "usd"} | changes
    return service.create_product(db, actor=actor, **fields)


def test_a_product_is_stored_in_minor_units_and_listed(db, owner):
    view = _product(db, owner, description="Baked every morning.", sku="SD-1", stock="12")

    assert (view.price_cents, view.currency, view.price_display) == (450, "USD", "4.50 USD")
    assert (view.sku, view.stock, view.is_active, view.kind) == ("SD-1", 12, True, "product")
    [listed] = service.list_products(db, actor=owner)
    assert listed.name == "Sourdough loaf"
    assert service.count_products(db, actor=owner) == 1


@pytest.mark.parametrize(
    ("price", "currency", "cents"),
    [("1500", "JPY", 1500), ("2.345", "KWD", 2345), ("1,200.5", "KES", 120050), ("0", "EUR", 0)],
)
def test_prices_follow_the_currencys_minor_unit(price, currency, cents):
    assert service.parse_price(price, currency) == cents


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"name": "  "}, "name", "Enter the product's name"),
        ({"price": "abc"}, "price", "is not a price"),
        ({"price": "-1"}, "price", "cannot be negative"),
        ({"price": "10.5", "currency": "JPY"}, "price", "JPY has 0 decimal places"),
        ({"price": "1.001"}, "price", "USD has 2 decimal places"),
        ({"currency": "dollars"}, "currency", "3-letter ISO 4217 code"),
        ({"stock": "lots"}, "stock", "is not a stock count"),
        ({"stock": "-2"}, "stock", "cannot be negative"),
        ({"kind": "gift"}, "kind", "use 'product' or 'service'"),
    ],
)
def test_bad_product_input_names_the_field_and_the_fix(db, owner, changes, field, words):
    with pytest.raises(CommerceError) as caught:
        _product(db, owner, **changes)
    assert caught.value.field == field
    assert words in caught.value.message
    assert db.exec(select(Product)).all() == []


def test_a_sku_names_one_product(db, owner):
    _product(db, owner, sku="SD-1")
    with pytest.raises(CommerceError, match="already belongs to 'Sourdough loaf'"):
        _product(db, owner, name="Rye", sku="SD-1")


def test_viewers_read_the_catalogue_but_cannot_change_it(db, owner):
    viewer, _ = actor_for(db, role=Role.VIEWER, business=_business(db, owner))
    product = _product(db, owner)
    assert [p.id for p in service.list_products(db, actor=viewer)] == [product.id]
    with pytest.raises(PermissionDenied):
        _product(db, viewer, name="Rye")
    with pytest.raises(PermissionDenied):
        service.set_product_active(db, actor=viewer, product_id=product.id, is_active=False)
    with pytest.raises(PermissionDenied):
        service.create_order(
            db, business_id=owner.business_id, items=[(product.id, 1)], actor=viewer
        )


def _business(db, actor):
    from backend.models import Business

    return db.get(Business, actor.business_id)


def test_update_and_deactivate(db, owner):
    product = _product(db, owner)
    edited = service.update_product(
        db, actor=owner, product_id=product.id, name="Big loaf", price="5", currency="USD"
    )
    assert (edited.name, edited.price_cents) == ("Big loaf", 500)
    off = service.set_product_active(db, actor=owner, product_id=product.id, is_active=False)
    assert off.is_active is False
    assert service.list_products(db, actor=owner, active_only=True) == []


def test_an_image_is_stored_under_the_data_folder(db, owner):
    product = _product(db, owner)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    view = service.set_product_image(
        db, actor=owner, product_id=product.id, filename="loaf.png", data=png
    )
    assert view.image_path.startswith(f"products/{owner.business_id}/")
    path = service.image_file(view.image_path)
    assert path.is_relative_to(settings.data_dir)
    assert path.read_bytes() == png


def test_a_non_image_upload_is_refused(db, owner):
    product = _product(db, owner)
    with pytest.raises(CommerceError, match="not a PNG, JPEG, GIF or WebP") as caught:
        service.set_product_image(
            db, actor=owner, product_id=product.id, filename="x.png", data=b"<html>"
        )
    assert caught.value.field == "image"


def test_an_image_named_by_its_content_alone_may_be_shared_and_is_left_in_place(db, owner):
    # Before every upload got its own name, two products with one picture shared its file.
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    shared = f"products/{owner.business_id}/{'ab' * 32}.png"
    service.image_file(shared).parent.mkdir(parents=True, exist_ok=True)
    service.image_file(shared).write_bytes(png)
    first, second = _product(db, owner), _product(db, owner, name="Rye loaf")
    for product in (first, second):
        db.get(Product, product.id).image_path = shared
    db.commit()
    service.set_product_image(db, actor=owner, product_id=first.id, filename="new.png", data=png)
    db.commit()
    assert service.get_product(db, actor=owner, product_id=second.id).image_path == shared
    assert service.image_file(shared).read_bytes() == png


_PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _with_image(db, actor):
    product = _product(db, actor)
    view = service.set_product_image(
        db, actor=actor, product_id=product.id, filename="loaf.png", data=_PNG
    )
    db.commit()
    return view


def test_deleting_a_product_deletes_its_image_once_that_commits(db, owner):
    view = _with_image(db, owner)
    path = service.image_file(view.image_path)
    service.delete_product(db, actor=owner, product_id=view.id)
    assert path.read_bytes() == _PNG  # a reader before the commit still gets the image
    db.commit()
    assert not path.exists()


def test_a_product_deletion_rolled_back_keeps_its_image(db, owner):
    view = _with_image(db, owner)
    service.delete_product(db, actor=owner, product_id=view.id)
    db.rollback()
    assert service.get_product(db, actor=owner, product_id=view.id).image_path == view.image_path
    assert service.image_file(view.image_path).read_bytes() == _PNG


def _legacy_image(actor) -> str:
    """An image file named by its content alone, as stored before each upload got its own."""
    shared = f"products/{actor.business_id}/{'cd' * 32}.png"
    service.image_file(shared).parent.mkdir(parents=True, exist_ok=True)
    service.image_file(shared).write_bytes(_PNG)
    return shared


def test_a_shared_image_goes_with_the_last_product_that_shows_it(db, owner):
    shared = _legacy_image(owner)
    first, second = _product(db, owner), _product(db, owner, name="Rye loaf")
    for product in (first, second):
        db.get(Product, product.id).image_path = shared
    db.commit()
    service.delete_product(db, actor=owner, product_id=first.id)
    db.commit()
    assert service.get_product(db, actor=owner, product_id=second.id).image_path == shared
    assert service.image_file(shared).read_bytes() == _PNG
    service.delete_product(db, actor=owner, product_id=second.id)
    db.commit()
    assert not service.image_file(shared).exists()


def test_a_new_upload_replaces_a_content_named_image_nothing_else_shows(db, owner):
    legacy = _legacy_image(owner)
    product = _product(db, owner)
    db.get(Product, product.id).image_path = legacy
    db.commit()
    view = service.set_product_image(
        db, actor=owner, product_id=product.id, filename="new.png", data=_PNG
    )
    db.commit()
    assert view.image_path != legacy
    assert not service.image_file(legacy).exists()
    assert service.image_file(view.image_path).read_bytes() == _PNG


def _shown_by_a_product_and_the_logo(db, actor):
    """A product whose content-named image is also the business's logo."""
    shared = _legacy_image(actor)
    product = _product(db, actor)
    db.get(Product, product.id).image_path = shared
    db.get(Business, actor.business_id).logo_path = shared
    db.commit()
    return product, shared


def test_a_new_upload_keeps_a_content_named_image_the_logo_shows(db, owner):
    product, legacy = _shown_by_a_product_and_the_logo(db, owner)
    service.set_product_image(db, actor=owner, product_id=product.id, filename="n.png", data=_PNG)
    db.commit()
    assert service.image_file(legacy).read_bytes() == _PNG


def test_an_image_the_logo_also_shows_is_kept_when_its_product_goes(db, owner):
    product, shared = _shown_by_a_product_and_the_logo(db, owner)
    service.delete_product(db, actor=owner, product_id=product.id)
    db.commit()
    assert service.image_file(shared).read_bytes() == _PNG


# --- knowledge ------------------------------------------------------------------------------


def _product_faqs(db, business_id):
    return db.exec(
        select(KnowledgeSource).where(
            KnowledgeSource.business_id == business_id,
            KnowledgeSource.external_id.like("product-%"),
        )
    ).all()


def test_active_products_are_knowledge_the_ai_can_retrieve(db, owner):
    product = _product(db, owner, description="Baked every morning.")
    [faq] = _product_faqs(db, owner.business_id)
    assert faq.question == "How much is Sourdough loaf?"
    assert faq.content.startswith("Sourdough loaf costs 4.50 USD. Baked every morning.")
    assert faq.external_id == f"product-{product.id}"

    service.update_product(
        db, actor=owner, product_id=product.id, name="Rye loaf", price="5", currency="USD"
    )
    [faq] = _product_faqs(db, owner.business_id)
    assert faq.question == "How much is Rye loaf?"
    assert "5.00 USD" in faq.content

    service.set_product_active(db, actor=owner, product_id=product.id, is_active=False)
    assert _product_faqs(db, owner.business_id) == []
    service.set_product_active(db, actor=owner, product_id=product.id, is_active=True)
    assert len(_product_faqs(db, owner.business_id)) == 1
    service.delete_product(db, actor=owner, product_id=product.id)
    assert _product_faqs(db, owner.business_id) == []


# --- orders ---------------------------------------------------------------------------------


def test_order_totals_come_from_the_catalogue(db, owner):
    business = _business(db, owner)
    contact = make_contact(db, business=business)
    conversation = make_conversation(db, business=business, contact=contact)
    loaf = _product(db, owner)
    cake = _product(db, owner, name="Cake", price="12.00")

    order = service.create_order(
        db,
        business_id=owner.business_id,
        items=[(loaf.id, 2), (cake.id, 1), (loaf.id, 1)],
        contact_id=contact.id,
        conversation_id=conversation.id,
    )

    assert (order.number, order.status, order.currency) == (1, "pending", "USD")
    assert order.total_cents == 3 * 450 + 1200
    assert order.total_display == "25.50 USD"
    assert [(i.name, i.quantity, i.unit_price_cents, i.line_total_cents) for i in order.items] == [
        ("Sourdough loaf", 3, 450, 1350),
        ("Cake", 1, 1200, 1200),
    ]
    assert (order.contact_id, order.conversation_id) == (contact.id, conversation.id)
    # A later price change does not touch the order.
    service.update_product(
        db, actor=owner, product_id=loaf.id, name="Sourdough loaf", price="9", currency="USD"
    )
    assert service.get_order(db, actor=owner, order_id=order.id).total_cents == 2550


@pytest.mark.parametrize(
    ("items", "words"),
    [
        ([], "Add at least one product"),
        ([(0, 1)], "no longer in the catalogue"),
        (["x"], "a whole quantity"),
    ],
)
def test_bad_order_lines_are_refused(db, owner, items, words):
    with pytest.raises(CommerceError, match=words):
        service.create_order(db, business_id=owner.business_id, items=items)
    assert db.exec(select(Order)).all() == []


def test_quantity_must_be_positive(db, owner):
    loaf = _product(db, owner)
    with pytest.raises(CommerceError, match="at least 1"):
        service.create_order(db, business_id=owner.business_id, items=[(loaf.id, 0)])


def test_mixed_currencies_and_inactive_products_are_refused(db, owner):
    loaf = _product(db, owner)
    shilling = _product(db, owner, name="Mandazi", price="50", currency="KES")
    with pytest.raises(CommerceError, match="KES and USD separately"):
        service.create_order(
            db, business_id=owner.business_id, items=[(loaf.id, 1), (shilling.id, 1)]
        )
    service.set_product_active(db, actor=owner, product_id=loaf.id, is_active=False)
    with pytest.raises(CommerceError, match="not on sale"):
        service.create_order(db, business_id=owner.business_id, items=[(loaf.id, 1)])
    assert db.exec(select(Order)).all() == []


def test_tracked_stock_is_taken_and_refused_when_short(db, owner):
    loaf = _product(db, owner, stock=3)
    service.create_order(db, business_id=owner.business_id, items=[(loaf.id, 2)])
    assert service.get_product(db, actor=owner, product_id=loaf.id).stock == 1
    with pytest.raises(CommerceError, match="only 1 left"):
        service.create_order(db, business_id=owner.business_id, items=[(loaf.id, 2)])
    last = service.create_order(db, business_id=owner.business_id, items=[(loaf.id, 1)])
    with pytest.raises(CommerceError, match="out of stock"):
        service.create_order(db, business_id=owner.business_id, items=[(loaf.id, 1)])
    # Cancelling puts the stock back.
    service.set_status(db, actor=owner, order_id=last.id, status="cancelled")
    assert service.get_product(db, actor=owner, product_id=loaf.id).stock == 1


def test_untracked_stock_never_runs_out(db, owner):
    loaf = _product(db, owner)
    service.create_order(db, business_id=owner.business_id, items=[(loaf.id, 1000)])
    assert service.get_product(db, actor=owner, product_id=loaf.id).stock is None


def test_orders_are_numbered_per_business(db, owner):
    other, _ = actor_for(db)
    mine = _product(db, owner)
    theirs = _product(db, other)
    numbers = [
        service.create_order(db, business_id=owner.business_id, items=[(mine.id, 1)]).number,
        service.create_order(db, business_id=other.business_id, items=[(theirs.id, 1)]).number,
        service.create_order(db, business_id=owner.business_id, items=[(mine.id, 1)]).number,
    ]
    assert numbers == [1, 1, 2]


def test_status_moves(db, owner):
    loaf = _product(db, owner)
    order = service.create_order(db, business_id=owner.business_id, items=[(loaf.id, 1)])
    with pytest.raises(CommerceError, match="cannot become refunded"):
        service.set_status(db, actor=owner, order_id=order.id, status="refunded")
    with pytest.raises(CommerceError, match="by hand"):
        service.set_status(db, actor=owner, order_id=order.id, status="failed")
    paid = service.set_status(db, actor=owner, order_id=order.id, status="paid")
    assert paid.status == "paid"
    assert service.set_status(db, actor=owner, order_id=order.id, status="refunded").status == (
        "refunded"
    )
    with pytest.raises(CommerceError, match="is refunded; it cannot become cancelled"):
        service.set_status(db, actor=owner, order_id=order.id, status="cancelled")


def test_list_orders_filters_and_pages(db, owner):
    business = _business(db, owner)
    ada = make_contact(db, business=business, name="Ada")
    loaf = _product(db, owner)
    first = service.create_order(
        db, business_id=owner.business_id, items=[(loaf.id, 1)], contact_id=ada.id
    )
    service.create_order(db, business_id=owner.business_id, items=[(loaf.id, 1)])
    third = service.create_order(db, business_id=owner.business_id, items=[(loaf.id, 1)])
    service.set_status(db, actor=owner, order_id=third.id, status="cancelled")

    page = service.list_orders(db, actor=owner, limit=2)
    assert (page.total, [o.number for o in page.orders]) == (3, [3, 2])
    assert [o.number for o in service.list_orders(db, actor=owner, offset=2).orders] == [1]
    cancelled = service.list_orders(db, actor=owner, status="cancelled")
    assert [o.number for o in cancelled.orders] == [3]
    [of_ada] = service.orders_of_contact(db, actor=owner, contact_id=ada.id)
    assert (of_ada.id, of_ada.contact_name) == (first.id, "Ada")
    with pytest.raises(CommerceError, match="Unknown order status 'lost'"):
        service.list_orders(db, actor=owner, status="lost")


def test_no_business_sees_or_orders_anothers_catalogue(db, owner):
    other, other_business = actor_for(db)
    theirs = _product(db, other, name="Their cake")
    their_contact = make_contact(db, business=other_business)
    order = service.create_order(db, business_id=other.business_id, items=[(theirs.id, 1)])

    assert service.list_products(db, actor=owner) == []
    assert service.list_orders(db, actor=owner).orders == []
    with pytest.raises(CommerceError, match="no longer exists"):
        service.get_product(db, actor=owner, product_id=theirs.id)
    with pytest.raises(CommerceError, match="no longer exists"):
        service.get_order(db, actor=owner, order_id=order.id)
    with pytest.raises(CommerceError, match="no longer exists"):
        service.set_status(db, actor=owner, order_id=order.id, status="cancelled")
    with pytest.raises(CommerceError, match="no longer in the catalogue"):
        service.create_order(db, business_id=owner.business_id, items=[(theirs.id, 1)])
    mine = _product(db, owner)
    with pytest.raises(CommerceError, match="contact no longer exists"):
        service.create_order(
            db,
            business_id=owner.business_id,
            items=[(mine.id, 1)],
            contact_id=their_contact.id,
        )
    assert db.exec(select(OrderItem).where(OrderItem.business_id == owner.business_id)).all() == []
