"""The Settings page's profile: the choices offered, their validation and the logo."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from starlette.testclient import TestClient

from backend.api import create_app
from backend.auth.permissions import PermissionDenied
from backend.core.db import session_scope
from backend.models import AuditLog, Business, Role
from backend.tenants import service as tenants
from tests.factories import actor_for

PROFILE = {"name": "Mama Mboga", "timezone": "Africa/Nairobi", "default_language": "sw",
           "currency": "KES"}  # fmt: skip


def png(width: int = 1, height: int = 1) -> bytes:
    """A real (tiny) PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))  # fmt: skip


SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
)


def test_the_selects_offer_real_zones_engine_languages_and_iso_currencies():
    assert "Africa/Nairobi" in tenants.timezone_choices()
    languages = {c.value: c.label for c in tenants.language_choices()}
    assert languages["sw"] == "Swahili (sw)"
    assert {"en", "fr", "ar"} <= set(languages)
    currencies = {c.value for c in tenants.currency_choices()}
    assert {"USD", "KES", "NGN", "EUR", "JPY"} <= currencies
    assert "XAU" not in currencies  # gold is not a currency a shop prices in


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [({"timezone": "Africa/Atlantis"}, "timezone", "pick one from the list"),
     ({"currency": "ABC"}, "currency", "ISO 4217"),
     ({"default_language": "xx"}, "default_language", "does not speak"),
     ({"name": "x" * 121}, "name", "under 120")],
)  # fmt: skip
def test_bad_input_names_the_field_and_the_fix(db, change, field, words):
    owner, business = actor_for(db)
    with pytest.raises(tenants.BusinessError) as err:
        tenants.update_profile(db, actor=owner, **{**PROFILE, **change})
    assert err.value.field == field
    assert words in err.value.message
    assert db.get(Business, business.id).name != "Mama Mboga"


def test_a_png_logo_is_stored_under_data_and_replacing_it_removes_the_old_file(db):
    owner, business = actor_for(db)
    first = tenants.set_logo(db, actor=owner, filename="logo.png", data=png())
    path = tenants.logo_file(db.get(Business, business.id).logo_path)
    assert path.read_bytes() == png()
    assert first.logo_url == f"/api/media/logo/{business.id}/{path.name}"
    assert path.suffix == ".png"
    second = tenants.set_logo(db, actor=owner, filename="bigger.png", data=png(2, 2))
    assert second.logo_url != first.logo_url
    assert path.exists()  # until the change is committed
    db.commit()
    assert not path.exists()
    assert tenants.get_profile(db, actor=owner).logo_url == second.logo_url
    second_path = tenants.logo_file(db.get(Business, business.id).logo_path)
    tenants.remove_logo(db, actor=owner)
    assert tenants.get_profile(db, actor=owner).logo_url == ""
    assert second_path.exists()
    db.commit()
    assert not second_path.exists()
    actions = {a.action for a in db.query(AuditLog).filter_by(business_id=business.id)}
    assert {"business.logo_changed", "business.logo_removed"} <= actions


@pytest.mark.parametrize(
    ("filename", "data", "words"),
    [("logo.svg", SVG, "SVG can carry scripts"),
     ("logo.png", b"GIF89a" + b"\x00" * 20, "not a PNG, JPEG or WebP"),
     ("logo.png", b"", "empty"),
     ("huge.png", png() + b"\x00" * tenants.MAX_LOGO_BYTES, "up to 1 MB")],
)  # fmt: skip
def test_a_logo_that_is_not_a_safe_image_is_refused_by_its_bytes(db, filename, data, words):
    owner, business = actor_for(db)
    with pytest.raises(tenants.BusinessError) as err:
        tenants.set_logo(db, actor=owner, filename=filename, data=data)
    assert err.value.field == "logo"
    assert words in err.value.message
    assert db.get(Business, business.id).logo_path is None


def test_a_jpeg_named_png_is_stored_as_what_its_bytes_say(db):
    owner, business = actor_for(db)
    tenants.set_logo(db, actor=owner, filename="photo.png", data=b"\xff\xd8\xff\xe0" + b"0" * 64)
    assert db.get(Business, business.id).logo_path.endswith(".jpg")


@pytest.mark.parametrize("role", [Role.ADMIN, Role.AGENT, Role.VIEWER])
def test_only_owners_change_the_logo(db, role):
    member, business = actor_for(db, role=role)
    with pytest.raises(PermissionDenied):
        tenants.set_logo(db, actor=member, filename="logo.png", data=png())
    assert db.get(Business, business.id).logo_path is None


def test_the_logo_route_serves_the_current_logo_only(committed):
    with session_scope() as session:
        owner, business = actor_for(session)
        old = tenants.set_logo(session, actor=owner, filename="a.png", data=png()).logo_url
        url = tenants.set_logo(session, actor=owner, filename="b.png", data=png(3, 1)).logo_url
        _, other = actor_for(session)
    with TestClient(create_app()) as client:
        resp = client.get(url)
        assert resp.status_code == 200
        assert resp.headers["content-type"] == "image/png"
        assert resp.headers["x-content-type-options"] == "nosniff"
        assert resp.content == png(3, 1)
        assert client.get(old).status_code == 404
        # Another business's id with this logo's name finds nothing.
        assert client.get(url.replace(f"/{business.id}/", f"/{other.id}/")).status_code == 404
        assert client.get("/api/media/logo/abc/x.png").status_code == 404
    assert io.BytesIO(resp.content).read(8) == b"\x89PNG\r\n\x1a\n"
