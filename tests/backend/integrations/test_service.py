"""The Integrations page's website widget: settings, key rotation, identity secret, tenancy."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from backend import events
from backend.auth.permissions import PermissionDenied
from backend.channels import service as channels
from backend.channels import widget
from backend.channels.widget import WidgetSettingsError
from backend.core.config import settings
from backend.core.crypto import decrypt
from backend.core.db import session_scope
from backend.integrations import service
from backend.models import ChannelIntegration, Role
from tests.factories import actor_for

GOOD = {
    "enabled": True,
    "title": "Talk to Sunrise",
    "greeting": "Karibu! Ask us about cakes.",
    "color": "#FF6600",
    "position": "left",
    "language": "sw",
    "prechat": {"name": "required", "email": "optional", "phone": "off"},
    "allowed_origins": ["https://shop.example.com"],
    "identity_required": False,
}


@pytest.fixture
def owner(db):
    actor, _ = actor_for(db, role=Role.OWNER)
    return actor


def _save(db, actor, **changes):
    return service.save_widget(db, actor=actor, **{**GOOD, **changes})


def _row(db, business_id: int) -> ChannelIntegration:
    rows = db.exec(
        select(ChannelIntegration).where(
            ChannelIntegration.business_id == business_id, ChannelIntegration.kind == "widget"
        )
    ).all()
    assert len(rows) == 1
    return rows[0]


def _events(db) -> list[events.DomainEvent]:
    return events.pending(db)


def test_not_set_up_until_the_first_save(db, owner):
    assert service.get_widget(db, actor=owner) is None


def test_first_save_creates_the_widget_with_a_key_and_snippet(db, owner):
    saved = _save(db, owner)

    assert saved.public_key.startswith("wk_")
    assert len(saved.public_key) > 10
    assert saved.snippet == widget.snippet(settings.public_url, saved.public_key)
    assert f'data-bizbot-key="{saved.public_key}"' in saved.snippet
    assert (saved.enabled, saved.title, saved.greeting) == (
        True,
        "Talk to Sunrise",
        "Karibu! Ask us about cakes.",
    )
    assert (saved.color, saved.position, saved.language) == ("#ff6600", "left", "sw")
    assert saved.prechat == {"name": "required", "email": "optional", "phone": "off"}
    assert saved.allowed_origins == ["https://shop.example.com"]
    assert (saved.identity_required, saved.has_identity_secret) == (False, False)
    assert service.get_widget(db, actor=owner) == saved

    row = _row(db, owner.business_id)
    assert (row.kind, row.name, row.public_key, row.is_enabled) == (
        "widget",
        "Website chat",
        saved.public_key,
        True,
    )
    assert row.connected_at is not None
    # The runtime reads exactly these keys.
    assert set(row.config) == set(widget.DEFAULTS)
    assert row.config["color"] == "#ff6600"


def test_a_second_save_updates_the_same_widget_and_keeps_its_key(db, owner):
    first = _save(db, owner)
    second = _save(db, owner, enabled=False, title="Ask the baker", color="#0a0", language="auto")
    assert second.integration_id == first.integration_id
    assert second.public_key == first.public_key
    assert (second.enabled, second.title, second.color, second.language) == (
        False,
        "Ask the baker",
        "#00aa00",
        "auto",
    )
    assert _row(db, owner.business_id).config["title"] == "Ask the baker"


def test_each_change_publishes_one_event(db, owner):
    saved = _save(db, owner)
    service.rotate_widget_key(db, actor=owner)
    service.create_identity_secret(db, actor=owner)
    service.remove_identity_secret(db, actor=owner)
    published = _events(db)
    assert [e.name for e in published] == ["integration.updated"] * 4
    assert {(e.business_id, e.data["integration_id"], e.data["kind"]) for e in published} == {
        (owner.business_id, saved.integration_id, "widget")
    }


def test_origins_are_normalised_and_deduplicated(db, owner):
    saved = _save(
        db,
        owner,
        allowed_origins=[
            " HTTPS://Shop.Example.com/ ",
            "",
            "https://shop.example.com",
            "https://shop.example.com:443",
            "https://*.Example.com",
            "http://localhost:*",
            "http://127.0.0.1:8000",
            "   ",
        ],
    )
    assert saved.allowed_origins == [
        "https://shop.example.com",
        "https://*.example.com",
        "http://localhost:*",
        "http://127.0.0.1:8000",
    ]
    assert widget.origin_allowed("https://blog.example.com", saved.allowed_origins)
    assert widget.origin_allowed("http://localhost:3000", saved.allowed_origins)
    assert not widget.origin_allowed("https://evil.example.org", saved.allowed_origins)


def test_greeting_may_be_empty_and_title_spaces_collapse(db, owner):
    saved = _save(db, owner, title="  Chat   with us ", greeting="  ")
    assert (saved.title, saved.greeting) == ("Chat with us", "")


@pytest.mark.parametrize(
    ("changes", "field", "hint"),
    [
        ({"title": "   "}, "title", "Enter a title"),
        ({"title": "x" * (widget.MAX_TITLE + 1)}, "title", f"under {widget.MAX_TITLE}"),
        ({"greeting": "x" * (widget.MAX_GREETING + 1)}, "greeting", f"under {widget.MAX_GREETING}"),
        ({"color": "blue"}, "color", "#2563eb"),
        ({"color": "#12345g"}, "color", "hex code"),
        ({"color": ""}, "color", "hex code"),
        ({"position": "top"}, "position", "right, left"),
        ({"language": "de"}, "language", "auto, en, fr"),
        ({"prechat": {"name": "sometimes"}}, "prechat", "off, optional, required"),
        ({"prechat": {"age": "required"}}, "prechat", "'age'"),
        ({"allowed_origins": ["shop.example.com"]}, "origins", "scheme://host"),
        ({"allowed_origins": ["https://x.com/path"]}, "origins", "scheme://host"),
        ({"allowed_origins": ["https://x.com?a=1"]}, "origins", "scheme://host"),
        ({"allowed_origins": ["ftp://x.com"]}, "origins", "scheme://host"),
        ({"allowed_origins": ["https://bad_host.com"]}, "origins", "invalid host"),
        ({"allowed_origins": ["http://localhost:99999"]}, "origins", "1-65535"),
        (
            {
                "allowed_origins": [
                    f"https://s{n}.example.com" for n in range(widget.MAX_ORIGINS + 1)
                ]
            },
            "origins",
            f"at most {widget.MAX_ORIGINS}",
        ),
        ({"allowed_origins": []}, "origins", "at least one allowed origin"),
        ({"identity_required": True}, "identity_required", "Generate an identity secret"),
    ],
)
def test_each_invalid_setting_names_its_field_and_the_fix(db, owner, changes, field, hint):
    with pytest.raises(WidgetSettingsError) as caught:
        _save(db, owner, **changes)
    assert caught.value.field == field
    assert hint in str(caught.value)
    assert service.get_widget(db, actor=owner) is None
    assert _events(db) == []


def test_an_invalid_save_leaves_the_stored_settings_alone(db, owner):
    saved = _save(db, owner)
    with pytest.raises(WidgetSettingsError):
        _save(db, owner, title="New title", color="nope")
    assert service.get_widget(db, actor=owner) == saved


def test_a_disabled_widget_may_have_no_origins_yet(db, owner):
    saved = _save(db, owner, enabled=False, allowed_origins=[])
    assert (saved.enabled, saved.allowed_origins) == (False, [])


def test_rotating_the_key_replaces_it(db, owner):
    saved = _save(db, owner)
    rotated = service.rotate_widget_key(db, actor=owner)
    assert rotated.public_key != saved.public_key
    assert rotated.public_key.startswith("wk_")
    assert rotated.snippet == widget.snippet(settings.public_url, rotated.public_key)
    assert saved.public_key not in rotated.snippet
    assert _row(db, owner.business_id).public_key == rotated.public_key
    assert rotated.title == saved.title


def test_the_old_key_no_longer_finds_the_widget(committed):
    with session_scope() as session:
        owner, _ = actor_for(session, role=Role.OWNER)
        old = _save(session, owner).public_key
    with session_scope() as session:
        new = service.rotate_widget_key(session, actor=owner).public_key
    with session_scope() as session:
        keys = set(session.exec(select(ChannelIntegration.public_key)).all())
    assert new in keys
    assert old not in keys


def test_identity_secret_is_returned_once_and_stored_encrypted(db, owner):
    _save(db, owner)
    secret = service.create_identity_secret(db, actor=owner)
    assert len(secret) >= 40
    row = _row(db, owner.business_id)
    assert secret not in (row.credentials_encrypted or "")
    assert json.loads(decrypt(row.credentials_encrypted)) == {"identity_secret": secret}
    assert channels.to_config(row).credentials["identity_secret"] == secret

    view = service.get_widget(db, actor=owner)
    assert view.has_identity_secret
    assert secret not in repr(view)

    replaced = service.create_identity_secret(db, actor=owner)
    assert replaced != secret
    assert json.loads(decrypt(_row(db, owner.business_id).credentials_encrypted)) == {
        "identity_secret": replaced
    }


def test_verified_visitors_can_be_required_once_a_secret_exists(db, owner):
    _save(db, owner)
    service.create_identity_secret(db, actor=owner)
    saved = _save(db, owner, identity_required=True)
    assert (saved.identity_required, saved.has_identity_secret) == (True, True)
    assert _row(db, owner.business_id).config["identity_required"] is True


def test_removing_the_secret_turns_verification_off(db, owner):
    _save(db, owner)
    service.create_identity_secret(db, actor=owner)
    _save(db, owner, identity_required=True)

    removed = service.remove_identity_secret(db, actor=owner)
    assert (removed.identity_required, removed.has_identity_secret) == (False, False)
    row = _row(db, owner.business_id)
    assert row.credentials_encrypted is None
    assert row.config["identity_required"] is False
    assert set(row.config) == set(widget.DEFAULTS)
    with pytest.raises(WidgetSettingsError) as caught:
        _save(db, owner, identity_required=True)
    assert caught.value.field == "identity_required"


@pytest.mark.parametrize(
    "action",
    [service.rotate_widget_key, service.create_identity_secret, service.remove_identity_secret],
)
def test_key_and_secret_actions_need_a_widget(db, owner, action):
    with pytest.raises(WidgetSettingsError) as caught:
        action(db, actor=owner)
    assert caught.value.field == "form"
    assert "Set up the website widget first" in str(caught.value)


def test_an_admin_may_manage_the_widget(db):
    admin, _ = actor_for(db, role=Role.ADMIN)
    assert _save(db, admin).title == GOOD["title"]


@pytest.mark.parametrize("role", [Role.AGENT, Role.VIEWER])
def test_agents_and_viewers_are_refused(db, role):
    owner, business = actor_for(db, role=Role.OWNER)
    _save(db, owner)
    actor, _ = actor_for(db, role=role, business=business)
    with pytest.raises(PermissionDenied):
        service.get_widget(db, actor=actor)
    with pytest.raises(PermissionDenied):
        _save(db, actor, title="Hijacked")
    with pytest.raises(PermissionDenied):
        service.rotate_widget_key(db, actor=actor)
    with pytest.raises(PermissionDenied):
        service.create_identity_secret(db, actor=actor)
    with pytest.raises(PermissionDenied):
        service.remove_identity_secret(db, actor=actor)
    assert service.get_widget(db, actor=owner).title == GOOD["title"]


def test_a_business_never_sees_or_changes_another_business_widget(db):
    owner_a, _ = actor_for(db, role=Role.OWNER)
    owner_b, _ = actor_for(db, role=Role.OWNER)
    b_widget = _save(db, owner_b, title="B's chat")
    service.create_identity_secret(db, actor=owner_b)

    assert service.get_widget(db, actor=owner_a) is None
    with pytest.raises(WidgetSettingsError):
        service.rotate_widget_key(db, actor=owner_a)
    with pytest.raises(WidgetSettingsError):
        service.remove_identity_secret(db, actor=owner_a)

    a_widget = _save(db, owner_a, title="A's chat")
    assert a_widget.integration_id != b_widget.integration_id
    service.rotate_widget_key(db, actor=owner_a)
    service.create_identity_secret(db, actor=owner_a)
    service.remove_identity_secret(db, actor=owner_a)

    b_now = service.get_widget(db, actor=owner_b)
    assert (b_now.title, b_now.public_key, b_now.has_identity_secret) == (
        "B's chat",
        b_widget.public_key,
        True,
    )
