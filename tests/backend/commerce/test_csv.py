"""CSV import (per-row errors, upsert by SKU, minor units) and export of the catalogue."""

from __future__ import annotations

import pytest

from backend.commerce import service
from backend.commerce.schemas import CommerceError
from tests.factories import actor_for


@pytest.fixture
def owner(db):
    actor, _ = actor_for(db)
    return actor


GOOD_AND_BAD = (
    "name,description,price,currency,sku,stock,active\n"
    "Sourdough loaf,Baked daily,4.50,USD,SD-1,10,yes\n"
    ",No name,1.00,USD,X-1,,yes\n"
    "Wagyu,Per 100 g,1500,jpy,WG-1,,yes\n"
    "Bad price,,12.345,USD,BP-1,,yes\n"
    "Dates,Per kilo,2.500,KWD,DT-1,,no\n"
    "Bad stock,,1,USD,BS-1,many,yes\n"
    "Bad currency,,1,dollars,BC-1,,yes\n"
)


def test_valid_rows_are_imported_and_bad_rows_reported_by_number(db, owner):
    result = service.import_products_csv(db, actor=owner, data=GOOD_AND_BAD.encode())

    assert (result.created, result.updated, result.failed) == (3, 0, 4)
    assert result.errors[0] == "row 3: Enter the product's name, e.g. 'Jollof rice (large)'."
    assert [e.split(":")[0] for e in result.errors] == ["row 3", "row 5", "row 7", "row 8"]
    assert "USD has 2 decimal places" in result.errors[1]
    products = {p.sku: p for p in service.list_products(db, actor=owner)}
    assert set(products) == {"SD-1", "WG-1", "DT-1"}
    assert (products["WG-1"].price_cents, products["WG-1"].currency) == (1500, "JPY")
    assert (products["DT-1"].price_cents, products["DT-1"].is_active) == (2500, False)
    assert products["SD-1"].stock == 10


def test_reimporting_updates_by_sku_instead_of_duplicating(db, owner):
    service.import_products_csv(db, actor=owner, data=GOOD_AND_BAD.encode())
    again = service.import_products_csv(
        db,
        actor=owner,
        data=b"name,price,currency,sku\nSourdough (large),5.25,USD,SD-1\nNew,1,USD,\n",
    )
    assert (again.created, again.updated, again.failed) == (1, 1, 0)
    loaf = [p for p in service.list_products(db, actor=owner) if p.sku == "SD-1"]
    assert [(p.name, p.price_cents) for p in loaf] == [("Sourdough (large)", 525)]
    assert service.count_products(db, actor=owner) == 4


def test_a_sku_twice_in_one_file_is_an_error_on_the_second_row(db, owner):
    result = service.import_products_csv(
        db, actor=owner, data=b"name,price,currency,sku\nA,1,USD,S\nB,2,USD,S\n"
    )
    assert result.errors == ["row 3: SKU 'S' is also on row 2"]
    assert [p.name for p in service.list_products(db, actor=owner)] == ["A"]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "The CSV file is empty"),
        (b"title,cost\nA,1\n", "The header row lacks name, price, currency"),
        ("name,price,currency\nCafé,1,EUR\n".encode("utf-16"), "Save the CSV file as UTF-8"),
    ],
)
def test_unreadable_files_are_refused_whole(db, owner, data, words):
    with pytest.raises(CommerceError, match=words):
        service.import_products_csv(db, actor=owner, data=data)


def test_export_reads_back_as_the_same_catalogue(db, owner):
    service.import_products_csv(db, actor=owner, data=GOOD_AND_BAD.encode())
    exported = service.export_products_csv(db, actor=owner)
    assert exported.splitlines()[0] == "name,description,price,currency,sku,stock,active,kind"
    assert "Dates,Per kilo,2.500,KWD,DT-1,,no,product" in exported.splitlines()

    other, _ = actor_for(db)
    result = service.import_products_csv(db, actor=other, data=exported.encode())
    assert (result.created, result.failed) == (3, 0)
    mine = [(p.name, p.price_cents, p.currency, p.sku, p.stock, p.is_active)
            for p in service.list_products(db, actor=owner)]  # fmt: skip
    theirs = [(p.name, p.price_cents, p.currency, p.sku, p.stock, p.is_active)
              for p in service.list_products(db, actor=other)]  # fmt: skip
    assert mine == theirs


def test_semicolon_separated_files_from_spreadsheets_are_read(db, owner):
    result = service.import_products_csv(
        db, actor=owner, data="name;price;currency\nPão;2.50;BRL\n".encode()
    )
    assert result.created == 1
    [product] = service.list_products(db, actor=owner)
    assert (product.name, product.price_display) == ("Pão", "2.50 BRL")
