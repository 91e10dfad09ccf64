"""Leads by hand: create, edit, move on the board, filters, CSV, tenants and roles."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from backend.auth.permissions import PermissionDenied
from backend.leads import service
from backend.leads.schemas import LeadError, LeadFilters, NotAllowedToDelete
from backend.models import Role
from backend.models.leads import Lead
from tests.factories import actor_for, make_user


def _column(db, actor, stage: str) -> list[str]:
    board = service.board(db, actor=actor)
    return [lead.name for lead in next(c for c in board.columns if c.stage == stage).leads]


def _positions(db, business_id: int, stage: str) -> list[int]:
    rows = db.exec(
        select(Lead.position).where(Lead.business_id == business_id, Lead.stage == stage)
    ).all()
    return sorted(rows)


def test_created_leads_go_to_the_top_of_new_with_totals(db):
    owner, _ = actor_for(db)
    service.create_lead(db, actor=owner, name="Ann", value="100")
    service.create_lead(db, actor=owner, name="Ben", value="25.50", phone="+254 700 000 001")
    service.create_lead(db, actor=owner, email="Cid@Example.com")

    board = service.board(db, actor=owner)
    new = board.columns[0]
    assert [c.stage for c in board.columns] == ["new", "contacted", "qualified", "won", "lost"]
    assert [x.name or x.email for x in new.leads] == ["cid@example.com", "Ben", "Ann"]
    assert (new.count, new.value_cents, new.value_display) == (3, 12550, "125.50 USD")
    assert new.leads[1].value_display == "25.50 USD"
    assert new.leads[0].source == "agent"
    assert board.columns[3].count == 0
    assert board.columns[3].value_display == "0.00 USD"


def test_a_captured_lead_lands_on_top_of_hand_made_ones(db):
    owner, business = actor_for(db)
    service.create_lead(db, actor=owner, name="Hand made")
    service.capture(db, business_id=business.id, source="ai", name="From chat")
    assert _column(db, owner, "new") == ["From chat", "Hand made"]


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"name": ""}, "name", "name, an email or a phone"),
        ({"name": "A", "email": "not-an-email"}, "email", "name@example.com"),
        ({"name": "A", "phone": "call me"}, "phone", "digits"),
        ({"name": "A", "value": "-5"}, "value", "negative"),
        ({"name": "A", "value": "abc"}, "value", "not a value"),
        ({"name": "A", "next_follow_up_at": "tomorrow"}, "next_follow_up_at", "2026-12-01"),
        ({"name": "A", "stage": "maybe"}, "stage", "new, contacted"),
    ],
)
def test_bad_input_names_the_field_and_the_fix(db, fields, field, words):
    owner, _ = actor_for(db)
    with pytest.raises(LeadError) as caught:
        service.create_lead(db, actor=owner, **fields)
    assert caught.value.field == field
    assert words in caught.value.message
    assert service.list_leads(db, actor=owner).total == 0


def test_owner_must_be_a_member_of_the_business(db):
    owner, _ = actor_for(db)
    outsider = make_user(db)  # a member of another business
    with pytest.raises(LeadError, match="not a member") as caught:
        service.create_lead(db, actor=owner, name="Ann", owner_user_id=outsider.id)
    assert caught.value.field == "owner"


def test_edit_changes_only_the_given_fields(db):
    owner, business = actor_for(db)
    business.timezone = "Africa/Nairobi"
    agent = make_user(db, business=business, role=Role.AGENT, name="Agent Amy")
    lead = service.create_lead(db, actor=owner, name="Ann", email="ann@example.com")

    view = service.update_lead(
        db,
        actor=owner,
        lead_id=lead.id,
        value="1,200.00",
        owner_user_id=agent.id,
        notes="Wants a demo",
        next_follow_up_at="2026-12-01T09:30",
    )
    assert view.name == "Ann"
    assert view.email == "ann@example.com"
    assert view.value_cents == 120000
    assert view.value_display == "1,200.00 USD"
    assert view.owner_name == "Agent Amy"
    assert view.notes == "Wants a demo"
    # 09:30 in Nairobi (UTC+3) is 06:30 UTC.
    assert view.next_follow_up_at == datetime(2026, 12, 1, 6, 30, tzinfo=UTC)

    cleared = service.update_lead(
        db, actor=owner, lead_id=lead.id, owner_user_id=None, next_follow_up_at=""
    )
    assert cleared.owner_user_id is None
    assert cleared.next_follow_up_at is None
    assert service.get_lead(db, actor=owner, lead_id=lead.id).notes == "Wants a demo"


def test_moves_renumber_both_columns(db):
    owner, business = actor_for(db)
    ids = {n: service.create_lead(db, actor=owner, name=n).id for n in ("A", "B", "C", "D")}
    assert _column(db, owner, "new") == ["D", "C", "B", "A"]

    service.move_lead(db, actor=owner, lead_id=ids["C"], stage="qualified")
    service.move_lead(db, actor=owner, lead_id=ids["A"], stage="qualified", position=1)
    service.move_lead(db, actor=owner, lead_id=ids["D"], stage="qualified", position=99)
    assert _column(db, owner, "new") == ["B"]
    assert _column(db, owner, "qualified") == ["C", "A", "D"]
    assert _positions(db, business.id, "qualified") == [0, 1, 2]

    # Within a column: D to the top.
    service.move_lead(db, actor=owner, lead_id=ids["D"], stage="qualified", position=0)
    assert _column(db, owner, "qualified") == ["D", "C", "A"]
    assert _positions(db, business.id, "qualified") == [0, 1, 2]
    assert _positions(db, business.id, "new") == [0]
    board = service.board(db, actor=owner)
    assert [c.count for c in board.columns] == [1, 0, 3, 0, 0]


def test_filters_and_pages(db):
    owner, business = actor_for(db)
    agent = make_user(db, business=business, role=Role.AGENT)
    past = datetime(2020, 1, 1, tzinfo=UTC)
    future = datetime(2999, 1, 1, tzinfo=UTC)
    a = service.create_lead(db, actor=owner, name="Alice Bakery", owner_user_id=agent.id,
                            next_follow_up_at=past)  # fmt: skip
    b = service.create_lead(db, actor=owner, name="Bob", interest="wedding CAKE 100%",
                            next_follow_up_at=future)  # fmt: skip
    service.capture(db, business_id=business.id, source="widget_offline", name="Carol")
    service.move_lead(db, actor=owner, lead_id=b.id, stage="won")

    def names(**kw) -> list[str]:
        page = service.list_leads(db, actor=owner, filters=LeadFilters(**kw))
        return sorted(x.name for x in page.leads)

    assert names() == ["Alice Bakery", "Bob", "Carol"]
    assert names(stage="won") == ["Bob"]
    assert names(owner_user_id=agent.id) == ["Alice Bakery"]
    assert names(owner_user_id=0) == ["Bob", "Carol"]
    assert names(source="widget_offline") == ["Carol"]
    assert names(search="cake") == ["Bob"]
    assert names(search="100%") == ["Bob"]
    assert names(search="bakery") == ["Alice Bakery"]
    assert names(follow_up_due=True) == ["Alice Bakery"]
    assert service.get_lead(db, actor=owner, lead_id=a.id).follow_up_due is True

    first = service.list_leads(db, actor=owner, limit=2)
    second = service.list_leads(db, actor=owner, limit=2, offset=2)
    assert first.total == second.total == 3
    assert len(first.leads) == 2
    assert len(second.leads) == 1
    assert {x.id for x in first.leads}.isdisjoint({x.id for x in second.leads})

    with pytest.raises(LeadError, match="Unknown source"):
        service.list_leads(db, actor=owner, filters=LeadFilters(source="fax"))


def test_csv_export_has_every_filtered_lead_and_defuses_formulas(db):
    owner, _ = actor_for(db)
    service.create_lead(db, actor=owner, name="=HYPERLINK(1)", value="10", notes="hi, there")
    service.create_lead(db, actor=owner, name="Plain", value="2000")
    lost = service.create_lead(db, actor=owner, name="Gone")
    service.move_lead(db, actor=owner, lead_id=lost.id, stage="lost")

    rows = list(csv.DictReader(io.StringIO(service.export_csv(db, actor=owner))))
    assert [r["name"] for r in rows] == ["'=HYPERLINK(1)", "Plain", "Gone"]
    assert rows[0]["notes"] == "hi, there"
    assert rows[0]["value"] == "10.00"
    assert rows[1]["value"] == "2000.00"
    assert rows[1]["currency"] == "USD"

    only_new = service.export_csv(db, actor=owner, filters=LeadFilters(stage="new"))
    assert [r["name"] for r in csv.DictReader(io.StringIO(only_new))] == ["'=HYPERLINK(1)",
                                                                         "Plain"]  # fmt: skip


def test_no_business_sees_or_touches_another_s_leads(db):
    owner, _ = actor_for(db)
    other, _ = actor_for(db)
    lead = service.create_lead(db, actor=owner, name="Mine", value="5")

    assert service.list_leads(db, actor=other).total == 0
    assert all(c.count == 0 for c in service.board(db, actor=other).columns)
    assert "Mine" not in service.export_csv(db, actor=other)
    for attempt in (
        lambda: service.get_lead(db, actor=other, lead_id=lead.id),
        lambda: service.update_lead(db, actor=other, lead_id=lead.id, name="Stolen"),
        lambda: service.move_lead(db, actor=other, lead_id=lead.id, stage="won"),
    ):
        with pytest.raises(LeadError, match="no longer exists"):
            attempt()
    # The other owner cannot delete it either (their delete finds nothing).
    with pytest.raises(LeadError):
        service.delete_lead(db, actor=other, lead_id=lead.id)
    assert service.get_lead(db, actor=owner, lead_id=lead.id).name == "Mine"
    assert service.get_lead(db, actor=owner, lead_id=lead.id).stage == "new"


def test_roles_viewers_read_agents_edit_admins_delete(db):
    owner, business = actor_for(db)
    viewer, _ = actor_for(db, role=Role.VIEWER, business=business)
    agent, _ = actor_for(db, role=Role.AGENT, business=business)
    admin, _ = actor_for(db, role=Role.ADMIN, business=business)
    lead = service.create_lead(db, actor=agent, name="By agent")
    service.move_lead(db, actor=agent, lead_id=lead.id, stage="contacted")

    assert service.list_leads(db, actor=viewer).total == 1
    assert service.board(db, actor=viewer).columns[1].count == 1
    with pytest.raises(PermissionDenied):
        service.create_lead(db, actor=viewer, name="No")
    with pytest.raises(PermissionDenied):
        service.update_lead(db, actor=viewer, lead_id=lead.id, name="No")
    with pytest.raises(PermissionDenied):
        service.move_lead(db, actor=viewer, lead_id=lead.id, stage="won")
    with pytest.raises(NotAllowedToDelete, match="move the lead to Lost"):
        service.delete_lead(db, actor=agent, lead_id=lead.id)

    service.delete_lead(db, actor=admin, lead_id=lead.id)
    assert service.list_leads(db, actor=owner).total == 0
    assert len(service.members(db, actor=viewer)) == 4
