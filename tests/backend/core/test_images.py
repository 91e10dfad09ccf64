"""Uploaded images follow the transaction that points a row at them: the replaced file goes
only once the change commits, the new one if it rolls back (logos and product images alike)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from backend.commerce import service as commerce
from backend.core.images import ImageRejected, data_file, store_image
from backend.models import Business, Role
from backend.models.commerce import Product
from backend.tenants import service as tenants
from tests.backend.tenants.test_profile import png
from tests.factories import actor_for


@dataclass
class _Kind:
    upload: Callable[[bytes], object]
    stored: Callable[[], str | None]  # the path the row holds, read from the database


def _logo(db) -> _Kind:
    owner, business = actor_for(db)

    def stored() -> str | None:
        db.expire_all()
        return db.get(Business, business.id).logo_path

    return _Kind(
        upload=lambda data: tenants.set_logo(db, actor=owner, filename="logo.png", data=data),
        stored=stored,
    )


def _product_image(db) -> _Kind:
    owner, _ = actor_for(db, role=Role.OWNER)
    product = commerce.create_product(db, actor=owner, name="Loaf", price="4.50", currency="usd")

    def stored() -> str | None:
        db.expire_all()
        return db.get(Product, product.id).image_path

    return _Kind(
        upload=lambda data: commerce.set_product_image(
            db, actor=owner, product_id=product.id, filename="loaf.png", data=data
        ),
        stored=stored,
    )


@pytest.fixture(params=[_logo, _product_image], ids=["logo", "product image"])
def kind(request, db) -> _Kind:
    return request.param(db)


def test_replacing_an_image_then_rolling_back_keeps_the_old_file(db, kind):
    kind.upload(png())
    db.commit()
    old = kind.stored()
    kind.upload(png(2, 2))
    new = kind.stored()
    assert new != old
    db.rollback()
    assert kind.stored() == old
    assert data_file(old).read_bytes() == png()
    assert not data_file(new).exists()


def test_replacing_an_image_and_committing_deletes_the_old_file(db, kind):
    kind.upload(png())
    db.commit()
    old = kind.stored()
    kind.upload(png(2, 2))
    assert data_file(old).exists()  # a reader before the commit still gets the old image
    db.commit()
    new = kind.stored()
    assert data_file(new).read_bytes() == png(2, 2)
    assert not data_file(old).exists()


def test_the_same_image_uploaded_again_gets_its_own_file(db, kind):
    kind.upload(png())
    db.commit()
    old = kind.stored()
    kind.upload(png())
    db.rollback()
    assert data_file(old).read_bytes() == png()
    kind.upload(png())
    db.commit()
    assert kind.stored() != old
    assert data_file(kind.stored()).read_bytes() == png()
    assert not data_file(old).exists()


@pytest.mark.parametrize(
    ("data", "reason"),
    [(b"", "empty"), (png() + b"\x00" * 100, "too_large"), (b"<svg></svg>", "not_an_image")],
)
def test_store_image_refuses_before_writing_anything(db, data, reason, tmp_path, monkeypatch):
    monkeypatch.setattr("backend.core.images.settings.data_dir", tmp_path)
    with pytest.raises(ImageRejected) as refused:
        store_image(db, folder="x", data=data, allowed={".png"}, max_bytes=len(png()) + 10)
    assert refused.value.reason == reason
    assert list(tmp_path.iterdir()) == []
