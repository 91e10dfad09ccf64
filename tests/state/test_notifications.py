"""The notifications state: every kind of notification is shown with an icon of its own."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import reflex as rx
from reflex.components.lucide.icon import LUCIDE_ICON_LIST

from backend.models.notifications import NotificationKind
from backend.notifications.schemas import NotificationView
from components.notifications import kind_icon
from state.notifications import KIND_ICONS, notification_item


def _drawn() -> dict[str, str]:
    """Icon name → the lucide component `kind_icon` draws for it (the rest get the bell)."""
    match = kind_icon(rx.Var.create("")).children[0]
    return {
        str(value).strip('"'): icon.tag for values, icon in match.match_cases for value in values
    }


@pytest.mark.parametrize("kind", list(NotificationKind))
def test_every_kind_of_notification_has_an_icon_of_its_own(kind: NotificationKind):
    view = NotificationView(
        id=1, kind=kind.value, title="Something happened", body=None, link=None, data={},
        created_at=datetime.now(UTC), read=False,
    )  # fmt: skip
    icon = notification_item(view).icon
    assert icon == KIND_ICONS.get(kind.value), f"{kind!r} has no entry in KIND_ICONS"
    assert icon.replace("-", "_") in LUCIDE_ICON_LIST, f"{icon!r} is not a lucide icon"
    drawn = _drawn()
    assert icon in drawn, f"kind_icon draws the bell for {icon!r}: add it to its list"
    assert drawn[icon] != "Bell"


def test_kinds_have_different_icons_and_an_unknown_kind_gets_the_bell():
    assert len(set(KIND_ICONS.values())) == len(KIND_ICONS)
    assert set(KIND_ICONS) == {k.value for k in NotificationKind}
    view = NotificationView(1, "retired_kind", "Old", None, None, {}, datetime.now(UTC), False)
    assert notification_item(view).icon == "bell"
    assert kind_icon(rx.Var.create("")).children[0].default.tag == "Bell"
