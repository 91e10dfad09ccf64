"""Saved ads: links and QR codes, editing, statuses, roles and tenant isolation."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import pytest
import segno

from backend.ads import service
from backend.ads.schemas import AdError
from backend.auth.permissions import PermissionDenied
from backend.channels.service import create_integration
from backend.commerce import service as commerce
from backend.models import Business, Role
from tests.factories import actor_for, make_business


@pytest.fixture
def business(db):
    return make_business(db, name="Mama Ngina Bakery")


@pytest.fixture
def owner(db, business):
    return actor_for(db, role=Role.OWNER, business=business)[0]


@pytest.fixture
def loaf(db, owner):
    return commerce.create_product(db, actor=owner, name="Sourdough loaf", price="6.50",
                                   currency="USD", description="Baked every morning.")  # fmt: skip


def _whatsapp(db, business, display_name="Mama Ngina Bakery (+254 712 345 678)"):
    return create_integration(db, business_id=business.id, kind="whatsapp", name="WhatsApp",
                              credentials={"phone_number_id": "1"},
                              config={"display_name": display_name})  # fmt: skip


def _save(db, actor, **fields):
    fields = {"platform": "whatsapp", "language": "en", "headline": "Fresh sourdough",
              "primary_text": "Baked every morning.", "call_to_action": "Chat on WhatsApp",
              **fields}  # fmt: skip
    if "product_id" not in fields and "offer" not in fields:
        fields["offer"] = "Fresh bread every morning"
    return service.save_variant(db, actor=actor, **fields)


def test_a_saved_whatsapp_ad_gets_a_wa_me_link_with_its_ref_code_and_a_qr(
    db, business, owner, loaf
):
    _whatsapp(db, business)
    asset = _save(db, owner, product_id=loaf.id)

    assert asset.status == "draft"
    assert asset.ref_code.startswith("AD")
    assert len(asset.ref_code) == 6
    url = urlsplit(asset.link.url)
    assert (url.scheme, url.netloc, url.path) == ("https", "wa.me", "/254712345678")
    assert parse_qs(url.query)["text"] == [
        f"Hi! I'd like the Sourdough loaf (ref {asset.ref_code})"
    ]
    assert asset.link.problem == ""
    png = base64.b64decode(asset.link.qr_png.removeprefix("data:image/png;base64,"))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert asset.link.qr_svg == segno.make(asset.link.url, error="m").svg_data_uri(
        scale=4, border=2
    )
    assert asset.conversations == 0


def test_each_saved_ad_has_its_own_ref_code_and_qr(db, business, owner):
    _whatsapp(db, business)
    first, second = _save(db, owner), _save(db, owner)
    assert first.ref_code != second.ref_code
    assert first.link.qr_png != second.link.qr_png


def test_an_offer_link_prefills_the_offer_in_the_ads_language(db, business, owner):
    _whatsapp(db, business)
    asset = _save(db, owner, offer="20% off birthday cakes", language="fr")
    text = parse_qs(urlsplit(asset.link.url).query)["text"][0]
    assert (
        text == f"Bonjour ! Votre offre m'intéresse : 20% off birthday cakes (ref {asset.ref_code})"
    )


def test_without_a_whatsapp_number_the_ad_says_how_to_connect_one(db, business, owner):
    asset = _save(db, owner)
    assert asset.link.url == ""
    assert asset.link.qr_png == ""
    assert "connect WhatsApp on the Integrations page" in asset.link.problem

    _whatsapp(db, business, display_name="WhatsApp number")  # connected, never tested
    assert "Test connection" in service.get_asset(db, actor=owner, asset_id=asset.id).link.problem


def test_facebook_and_instagram_ads_link_to_the_connected_page_and_account(db, business, owner):
    facebook = _save(db, owner, platform="facebook", call_to_action="Send message")
    instagram = _save(db, owner, platform="instagram", call_to_action="Send message")
    assert "connect Messenger" in facebook.link.problem
    assert "connect Instagram" in instagram.link.problem

    create_integration(db, business_id=business.id, kind="messenger", name="Messenger",
                       credentials={"page_id": "108000111222"})  # fmt: skip
    create_integration(db, business_id=business.id, kind="instagram", name="Instagram",
                       credentials={"ig_account_id": "1789"},
                       config={"display_name": "@mamangina"})  # fmt: skip

    facebook = service.get_asset(db, actor=owner, asset_id=facebook.id)
    instagram = service.get_asset(db, actor=owner, asset_id=instagram.id)
    assert facebook.link.url == f"https://m.me/108000111222?ref={facebook.ref_code}"
    assert instagram.link.url == f"https://ig.me/m/mamangina?ref={instagram.ref_code}"
    assert facebook.link.qr_png.startswith("data:image/png;base64,")


def test_saving_checks_the_platform_limits(db, owner):
    with pytest.raises(AdError) as raised:
        _save(db, owner, platform="facebook", headline="x" * 41)
    assert raised.value.field == "headline"
    assert "41 characters" in raised.value.message
    assert "at most 40" in raised.value.message
    with pytest.raises(AdError) as raised:
        _save(db, owner, primary_text="   ")
    assert raised.value.field == "primary_text"
    assert service.list_assets(db, actor=owner) == []


def test_edit_mark_ready_archive_and_delete(db, business, owner):
    _whatsapp(db, business)
    asset = _save(db, owner)

    edited = service.update_asset(db, actor=owner, asset_id=asset.id, headline="Hot bread at 7")
    assert edited.headline == "Hot bread at 7"
    assert edited.primary_text == "Baked every morning."
    assert edited.ref_code == asset.ref_code
    assert edited.link.url == asset.link.url
    with pytest.raises(AdError):
        service.update_asset(db, actor=owner, asset_id=asset.id, primary_text="y" * 251)

    assert service.set_status(db, actor=owner, asset_id=asset.id, status="ready").status == "ready"
    with pytest.raises(AdError) as raised:
        service.set_status(db, actor=owner, asset_id=asset.id, status="published")
    assert raised.value.field == "status"

    service.set_status(db, actor=owner, asset_id=asset.id, status="archived")
    assert service.list_assets(db, actor=owner) == []
    archived = service.list_assets(db, actor=owner, include_archived=True)
    assert [(a.id, a.status) for a in archived] == [(asset.id, "archived")]

    service.delete_asset(db, actor=owner, asset_id=asset.id)
    assert service.list_assets(db, actor=owner, include_archived=True) == []
    with pytest.raises(AdError):
        service.delete_asset(db, actor=owner, asset_id=asset.id)


def test_admins_manage_agents_and_viewers_only_read(db, business, owner):
    admin = actor_for(db, role=Role.ADMIN, business=business)[0]
    asset = _save(db, admin)
    for role in (Role.AGENT, Role.VIEWER):
        reader = actor_for(db, role=role, business=business)[0]
        assert [a.id for a in service.list_assets(db, actor=reader)] == [asset.id]
        assert service.get_asset(db, actor=reader, asset_id=asset.id).headline == "Fresh sourdough"
        with pytest.raises(PermissionDenied):
            _save(db, reader)
        with pytest.raises(PermissionDenied):
            service.update_asset(db, actor=reader, asset_id=asset.id, headline="Mine")
        with pytest.raises(PermissionDenied):
            service.set_status(db, actor=reader, asset_id=asset.id, status="ready")
        with pytest.raises(PermissionDenied):
            service.delete_asset(db, actor=reader, asset_id=asset.id)
    assert service.get_asset(db, actor=owner, asset_id=asset.id).status == "draft"


def test_another_business_never_sees_or_touches_the_ads(db, business, owner):
    _whatsapp(db, business)
    asset = _save(db, owner)
    stranger = actor_for(db, role=Role.OWNER)[0]

    assert service.list_assets(db, actor=stranger, include_archived=True) == []
    with pytest.raises(AdError):
        service.get_asset(db, actor=stranger, asset_id=asset.id)
    with pytest.raises(AdError):
        service.update_asset(db, actor=stranger, asset_id=asset.id, headline="Hacked")
    with pytest.raises(AdError):
        service.set_status(db, actor=stranger, asset_id=asset.id, status="archived")
    with pytest.raises(AdError):
        service.delete_asset(db, actor=stranger, asset_id=asset.id)
    # The stranger's own WhatsApp ad links to the stranger's number, not this one.
    _whatsapp(db, db.get(Business, stranger.business_id), display_name="Other (+1 555 0100)")
    assert "wa.me/15550100?" in _save(db, stranger).link.url
    assert service.get_asset(db, actor=owner, asset_id=asset.id).headline == "Fresh sourdough"


def test_find_ref_code():
    assert service.find_ref_code("Hi! I'd like the Sourdough loaf (ref AD7K2Q)") == "AD7K2Q"
    assert service.find_ref_code("bonjour (réf: ad7k2q) merci") == "AD7K2Q"
    assert service.find_ref_code("Hi! Do you deliver to Westlands?") is None
    assert service.find_ref_code(None) is None
