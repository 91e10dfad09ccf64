"""Templates: validation as Meta requires, submit and sync against the fake Graph, roles."""

from __future__ import annotations

import pytest
from sqlmodel import select

from backend.auth.permissions import PermissionDenied
from backend.models.notifications import Notification
from backend.models.tenants import Role
from backend.scheduler import PERIODIC_JOBS
from backend.templates import service
from backend.templates.schemas import GraphFailed, TemplateError
from backend.templates.tasks import sync_all_templates
from tests.backend.templates.conftest import approved, order_ready, whatsapp_business
from tests.factories import actor_for, make_user


def errors_of(data) -> dict[str, str]:
    with pytest.raises(TemplateError) as caught:
        service.validate(data)
    return caught.value.errors


# --- validation --------------------------------------------------------------------------------


def test_a_valid_template_is_cleaned_and_previewed_with_its_examples():
    data = service.validate(order_ready(name="  order_ready ", category="UTILITY"))
    assert (data.name, data.category) == ("order_ready", "utility")
    assert service.preview(data) == (
        "*Order #1042*\n\nHi Amina, your order #1042 is ready for pickup.\n\n_Sunrise Bakery_"
    )


def test_every_bad_field_is_named_with_its_fix():
    errors = errors_of(
        order_ready(
            name="Order Ready!",
            language="english",
            category="promo",
            body="Hi {{1}}, your order {{3}} is ready.",
            body_examples=["Amina"],
            footer="Thanks {{1}}",
            buttons=[{"type": "url", "text": "Track", "url": "example.com"}],
        )
    )
    assert "order_ready" in errors["name"]  # the suggested fix
    assert "en_US" in errors["language"]
    assert "marketing, utility or authentication" in errors["category"]
    assert "consecutively" in errors["body"]
    assert "footer cannot hold variables" in errors["footer"]
    assert "https://" in errors["buttons.0"]


def test_examples_are_required_for_each_variable():
    errors = errors_of(order_ready(body_examples=["Amina", ""], header_examples=[]))
    assert "{{2}}" in errors["body_examples"]
    assert "{{1}}" in errors["header_examples"]


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"body": "x" * 1025, "body_examples": []}, "body", "1,024"),
        ({"body": ""}, "body", "Write the message body"),
        ({"body": "{{1}} is ready", "body_examples": ["A"]}, "body", "starts or ends"),
        ({"name": "a" * 513}, "name", "512"),
        ({"header_text": "{{1}} and {{2}}", "header_examples": ["a", "b"]}, "header_text", "one"),
        (
            {"buttons": [{"type": "quick_reply", "text": f"R{i}"} for i in range(11)]},
            "buttons",
            "10",
        ),
        (
            {"buttons": [{"type": "phone_number", "text": "Call", "phone_number": "0700"}]},
            "buttons.0",
            "international",
        ),
        (
            {
                "buttons": [
                    {"type": "url", "text": "Go", "url": f"https://x.io/{i}"} for i in range(3)
                ]
            },
            "buttons",
            "link buttons",
        ),
        ({"buttons": [{"type": "quick_reply", "text": "x" * 26}]}, "buttons.0", "25"),
    ],
)
def test_meta_limits(overrides, field, words):
    assert words in errors_of(order_ready(**overrides))[field]


# --- create, submit, sync ----------------------------------------------------------------------


def test_submit_sends_the_components_and_stores_metas_id_as_pending(db, graph):
    actor, _, _ = whatsapp_business(db)
    view = service.create_template(db, actor=actor, data=order_ready())
    assert view.status == "draft"
    submitted = service.submit_template(db, actor=actor, template_id=view.id)
    [body] = graph.sent("message_templates")
    assert (body["name"], body["language"], body["category"]) == ("order_ready", "en_US", "UTILITY")
    assert body["components"] == [
        {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}",
         "example": {"header_text": ["#1042"]}},
        {"type": "BODY", "text": "Hi {{1}}, your order {{2}} is ready for pickup.",
         "example": {"body_text": [["Amina", "#1042"]]}},
        {"type": "FOOTER", "text": "Sunrise Bakery"},
        {"type": "BUTTONS", "buttons": [
            {"type": "QUICK_REPLY", "text": "On my way"},
            {"type": "URL", "text": "Track", "url": "https://example.com/track"}]},
    ]  # fmt: skip
    assert submitted.status == "pending"
    assert submitted.external_id == graph.template_named("order_ready", "en_US")["id"]
    with pytest.raises(TemplateError, match="pending already"):
        service.submit_template(db, actor=actor, template_id=view.id)


def test_metas_refusal_is_shown_and_nothing_changes(db, graph):
    actor, _, _ = whatsapp_business(db)
    view = service.create_template(db, actor=actor, data=order_ready())
    graph.fail_next("message_templates", code=100, message="Invalid parameter")
    with pytest.raises(GraphFailed, match="Invalid parameter"):
        service.submit_template(db, actor=actor, template_id=view.id)
    assert service.get_template(db, actor=actor, template_id=view.id).status == "draft"


def test_without_a_whatsapp_number_submit_says_to_connect_one(db, graph):
    actor, _ = actor_for(db)
    view = service.create_template(db, actor=actor, data=order_ready())
    with pytest.raises(TemplateError, match="Connect a WhatsApp number"):
        service.submit_template(db, actor=actor, template_id=view.id)
    assert graph.sent("message_templates") == []


def test_a_name_is_unique_per_language(db):
    actor, _ = actor_for(db)
    service.create_template(db, actor=actor, data=order_ready())
    with pytest.raises(TemplateError, match="exists already") as caught:
        service.create_template(db, actor=actor, data=order_ready())
    assert caught.value.field == "name"
    service.create_template(db, actor=actor, data=order_ready(language="fr"))


def test_the_periodic_sync_approves_rejects_and_notifies_owners_and_admins_once(committed, graph):
    from backend.core.db import session_scope

    with session_scope() as session:
        actor, business, _ = whatsapp_business(session)
        admin = make_user(session, business=business, role=Role.ADMIN)
        make_user(session, business=business, role=Role.AGENT)
        first = service.create_template(session, actor=actor, data=order_ready())
        second = service.create_template(session, actor=actor, data=order_ready(name="promo"))
        for view in (first, second):
            service.submit_template(session, actor=actor, template_id=view.id)
    graph.review_template("order_ready", "en_US", status="APPROVED")
    graph.review_template("promo", "en_US", status="REJECTED", reason="INCORRECT_CATEGORY")
    assert any(job is sync_all_templates for job, _, _ in PERIODIC_JOBS)
    assert sync_all_templates()["changed"] == 2
    assert sync_all_templates()["changed"] == 0  # nothing new: nobody is told twice
    with session_scope() as session:
        rows = {v.name: v for v in service.list_templates(session, actor=actor)}
        notes = session.exec(select(Notification).order_by(Notification.id)).all()
    assert rows["order_ready"].status == "approved"
    assert rows["promo"].status == "rejected"
    assert "category does not match" in rows["promo"].rejection_reason
    assert sorted((n.user_id, n.title) for n in notes) == sorted(
        [(u, "Template order_ready (en_US) is approved") for u in (actor.user_id, admin.id)]
        + [(u, "Template promo (en_US) is rejected") for u in (actor.user_id, admin.id)]
    )


def test_sync_adds_templates_made_in_metas_tools(db, graph):
    actor, _, _ = whatsapp_business(db)
    graph.state.templates.append(
        {"id": "777", "name": "welcome", "language": "sw", "category": "MARKETING",
         "status": "APPROVED", "components": [
             {"type": "BODY", "text": "Karibu {{1}}!", "example": {"body_text": [["Juma"]]}}]}
    )  # fmt: skip
    assert service.sync_now(db, actor=actor) == 1
    [view] = service.list_templates(db, actor=actor)
    assert (view.name, view.status, view.category, view.preview) == (
        "welcome", "approved", "marketing", "Karibu Juma!",
    )  # fmt: skip


def test_editing_a_rejected_template_makes_it_a_draft_and_resubmits_in_place(db, graph):
    actor, _, _ = whatsapp_business(db)
    view = approved(db, actor, graph)
    graph.review_template("order_ready", "en_US", status="REJECTED", reason="INVALID_FORMAT")
    service.sync_now(db, actor=actor)
    edited = service.update_template(
        db, actor=actor, template_id=view.id, data=order_ready(footer="See you soon")
    )
    assert (edited.status, edited.rejection_reason) == ("draft", None)
    with pytest.raises(TemplateError, match="rename"):
        service.update_template(
            db, actor=actor, template_id=view.id, data=order_ready(name="other")
        )
    service.submit_template(db, actor=actor, template_id=view.id)
    assert graph.requests[-1].path.endswith(f"/{view.external_id}")
    assert graph.template(view.external_id)["status"] == "PENDING"
    assert graph.template(view.external_id)["components"][2] == {
        "type": "FOOTER", "text": "See you soon",
    }  # fmt: skip


def test_delete_removes_it_at_meta_too(db, graph):
    actor, _, _ = whatsapp_business(db)
    view = approved(db, actor, graph)
    service.delete_template(db, actor=actor, template_id=view.id)
    assert service.list_templates(db, actor=actor) == []
    assert graph.state.templates == []


# --- tenants and roles -------------------------------------------------------------------------


def test_another_business_sees_none_of_it(db, graph):
    actor, _, _ = whatsapp_business(db)
    view = approved(db, actor, graph)
    stranger, _, _ = whatsapp_business(db)
    assert service.list_templates(db, actor=stranger) == []
    assert service.approved_templates(db, actor=stranger) == []
    for call in (service.get_template, service.submit_template, service.delete_template):
        with pytest.raises(TemplateError, match="does not exist"):
            call(db, actor=stranger, template_id=view.id)


def test_agents_pick_approved_templates_but_only_owners_and_admins_write_them(db, graph):
    owner, business, _ = whatsapp_business(db)
    approved(db, owner, graph)
    service.create_template(db, actor=owner, data=order_ready(name="draft_one"))
    agent, _ = actor_for(db, role=Role.AGENT, business=business)
    assert [v.name for v in service.approved_templates(db, actor=agent)] == ["order_ready"]
    with pytest.raises(PermissionDenied):
        service.create_template(db, actor=agent, data=order_ready(name="mine"))
    with pytest.raises(PermissionDenied):
        service.list_templates(db, actor=agent)
    admin, _ = actor_for(db, role=Role.ADMIN, business=business)
    assert len(service.list_templates(db, actor=admin)) == 2
