"""`GET /api/media/products/{id}`: a product's picture, for members of its business only."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from backend.api import create_app
from backend.auth.permissions import Actor
from backend.commerce import service
from backend.core.db import session_scope
from backend.models import Business
from backend.models.tenants import Role
from tests.backend.inbox.test_attachments import sign_in
from tests.factories import make_business

pytestmark = pytest.mark.usefixtures("committed")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 64


@pytest.fixture
def client():
    with TestClient(create_app()) as c:
        yield c


def test_members_see_a_products_picture_and_nobody_else_does(client, tmp_path, monkeypatch):
    monkeypatch.setattr("backend.core.config.settings.data_dir", tmp_path)
    with session_scope() as session:
        business = make_business(session)
    owner = sign_in(client, business.id, Role.OWNER)
    with session_scope() as session:
        product = service.create_product(
            session, actor=owner, name="Rye loaf", price="3.20", currency="EUR"
        )
        service.set_product_image(
            session, actor=owner, product_id=product.id, filename="rye.png", data=PNG
        )
    url = f"/api/media/products/{product.id}"

    resp = client.get(url)
    assert (resp.status_code, resp.content, resp.headers["content-type"]) == (
        200, PNG, "image/png",
    )  # fmt: skip
    sign_in(client, business.id, Role.VIEWER)  # viewers read sales
    assert client.get(url).status_code == 200
    with session_scope() as session:
        stranger = make_business(session).id
    sign_in(client, stranger, Role.OWNER)
    assert client.get(url).status_code == 404
    client.cookies.clear()
    assert client.get(url).status_code == 404


def test_a_product_without_a_picture_is_not_found(client):
    with session_scope() as session:
        business = make_business(session)
    owner: Actor = sign_in(client, business.id, Role.OWNER)
    with session_scope() as session:
        product = service.create_product(
            session, actor=owner, name="Bun", price="1", currency="EUR"
        )
        assert session.get(Business, business.id) is not None
    assert client.get(f"/api/media/products/{product.id}").status_code == 404
    assert client.get("/api/media/products/not-a-number").status_code == 404
