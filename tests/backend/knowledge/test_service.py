"""Knowledge page actions: adding, editing, listing and deleting sources; bulk import rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from backend.auth.permissions import PermissionDenied
from backend.core.config import settings
from backend.core.db import session_scope
from backend.core.queue import get_queue
from backend.knowledge import parsing, service
from backend.knowledge.parsing import KnowledgeError
from backend.models import KnowledgeSource, Role
from tests.backend.knowledge.files import text_pdf
from tests.factories import actor_for


@pytest.fixture
def owner(db):
    actor, _ = actor_for(db, role=Role.OWNER)
    return actor


def _queued_jobs() -> list[tuple[str, tuple]]:
    return [(job.func_name, job.args) for job in get_queue("knowledge").get_jobs()]


def test_add_faq_is_pending_and_queued_only_once_committed(committed_owner):
    with session_scope() as session:
        view = service.add_faq(
            session,
            actor=committed_owner,
            question="  Do you   deliver? ",
            answer="Yes, within 10 km.\r\n",
            category="Orders",
            language="EN",
            group_key="delivery",
        )
        assert _queued_jobs() == []
    assert (view.kind, view.title, view.question, view.content) == (
        "faq",
        "Do you deliver?",
        "Do you deliver?",
        "Yes, within 10 km.",
    )
    assert (view.status, view.category, view.language) == ("pending", "Orders", "en")
    assert _queued_jobs() == [("backend.knowledge.tasks.embed_source", (view.id,))]


def test_rolled_back_add_queues_nothing(db, owner):
    service.add_faq(db, actor=owner, question="Open?", answer="Yes")
    db.rollback()
    assert _queued_jobs() == []


@pytest.mark.parametrize("role", [Role.AGENT, Role.VIEWER])
def test_only_owners_and_admins_manage_knowledge(db, role):
    actor, _ = actor_for(db, role=role)
    with pytest.raises(PermissionDenied):
        service.add_faq(db, actor=actor, question="Open?", answer="Yes")
    with pytest.raises(PermissionDenied):
        service.list_sources(db, actor=actor)
    with pytest.raises(PermissionDenied):
        service.test_retrieval(db, actor=actor, query="open?")


def test_admin_may_add_faq(db):
    admin, _ = actor_for(db, role=Role.ADMIN)
    assert service.add_faq(db, actor=admin, question="Open?", answer="Yes").status == "pending"


@pytest.mark.parametrize(
    ("question", "answer", "field"),
    [("", "Yes", "question"), ("Open?", "  \n ", "answer"), ("x" * 2001, "Yes", "question")],
)
def test_faq_form_errors_name_the_field(db, owner, question, answer, field):
    with pytest.raises(KnowledgeError) as error:
        service.add_faq(db, actor=owner, question=question, answer=answer)
    assert error.value.field == field


def test_adding_the_same_question_again_updates_that_faq(db, owner):
    first = service.add_faq(db, actor=owner, question="Do you deliver?", answer="No.")
    second = service.add_faq(db, actor=owner, question="do you DELIVER?", answer="Yes, now.")
    assert second.id == first.id
    assert second.content == "Yes, now."
    assert service.count_sources(db, actor=owner) == 1


def test_update_faq_re_embeds_only_when_question_or_answer_change(db, owner):
    view = service.add_faq(db, actor=owner, question="Open on Sunday?", answer="No.")
    source = db.get(KnowledgeSource, view.id)
    source.status, source.chunk_count = "ready", 1
    db.flush()

    view = service.update_faq(
        db,
        actor=owner,
        source_id=view.id,
        question="Open on Sunday?",
        answer="No.",
        category="Hours",
    )
    assert (view.status, view.category) == ("ready", "Hours")

    view = service.update_faq(
        db, actor=owner, source_id=view.id, question="Open on Sunday?", answer="Yes, 8am to 4pm."
    )
    assert (view.status, view.content, view.category) == ("pending", "Yes, 8am to 4pm.", None)


def test_update_faq_refuses_a_question_another_faq_asks(db, owner):
    service.add_faq(db, actor=owner, question="Open on Sunday?", answer="No.")
    other = service.add_faq(db, actor=owner, question="Open on Monday?", answer="Yes.")
    with pytest.raises(KnowledgeError, match="Another FAQ already asks") as error:
        service.update_faq(
            db, actor=owner, source_id=other.id, question="open on sunday?", answer="Yes."
        )
    assert error.value.field == "question"


def test_another_business_cannot_see_edit_or_delete_a_source(db, owner):
    view = service.add_faq(db, actor=owner, question="Open?", answer="Yes")
    stranger, _ = actor_for(db, role=Role.OWNER)
    with pytest.raises(KnowledgeError, match="no longer exists"):
        service.get_source(db, actor=stranger, source_id=view.id)
    with pytest.raises(KnowledgeError, match="no longer exists"):
        service.update_faq(db, actor=stranger, source_id=view.id, question="Open?", answer="No")
    with pytest.raises(KnowledgeError, match="no longer exists"):
        service.delete_source(db, actor=stranger, source_id=view.id)
    assert service.list_sources(db, actor=stranger) == []
    assert service.get_source(db, actor=owner, source_id=view.id).content == "Yes"


def test_add_text_needs_a_title_and_text_and_replaces_a_text_of_the_same_title(db, owner):
    with pytest.raises(KnowledgeError) as error:
        service.add_text(db, actor=owner, title=" ", text="Returns within 24 hours.")
    assert error.value.field == "title"
    with pytest.raises(KnowledgeError) as error:
        service.add_text(db, actor=owner, title="Returns", text="")
    assert error.value.field == "text"

    first = service.add_text(db, actor=owner, title="Returns", text="Within 24 hours.")
    again = service.add_text(db, actor=owner, title="Returns", text="Within 24 hours.\n")
    changed = service.add_text(db, actor=owner, title="returns", text="Within 48 hours.")
    assert first.id == again.id == changed.id
    assert (changed.kind, changed.content) == ("text", "Within 48 hours.")
    assert service.count_sources(db, actor=owner) == 1


def test_unsupported_file_is_refused_and_nothing_is_stored(db, owner):
    with pytest.raises(KnowledgeError) as error:
        service.add_file(db, actor=owner, filename="menu.xlsx", data=b"PK\x03\x04")
    assert error.value.field == "file"
    assert "upload .txt, .md, .pdf, .docx" in error.value.message
    assert service.count_sources(db, actor=owner) == 0
    assert not (settings.data_dir / "uploads" / str(owner.business_id)).exists()


def test_too_big_and_empty_files_are_refused(db, owner):
    with pytest.raises(KnowledgeError, match="the limit is 20 MB"):
        service.add_file(db, actor=owner, filename="big.txt", data=b"a" * (20 * 1024 * 1024 + 1))
    with pytest.raises(KnowledgeError, match="is empty"):
        service.add_file(db, actor=owner, filename="empty.pdf", data=b"")


def test_document_upload_is_stored_by_content_and_queued(db, owner):
    data = text_pdf("Price list")
    [view] = service.add_file(db, actor=owner, filename="C:\\Users\\me\\prices.pdf", data=data)
    digest = parsing.bytes_hash(data)
    path = settings.data_dir / "uploads" / str(owner.business_id) / f"{digest}.pdf"
    assert path.read_bytes() == data
    assert (view.kind, view.title, view.filename, view.status) == (
        "file",
        "prices.pdf",
        "prices.pdf",
        "pending",
    )
    assert db.get(KnowledgeSource, view.id).mime_type == "application/pdf"
    # The same bytes again are the same source.
    [again] = service.add_file(db, actor=owner, filename="prices-copy.pdf", data=data)
    assert again.id == view.id


def test_new_version_of_a_file_replaces_the_source_of_that_name(db, owner):
    [old] = service.add_file(db, actor=owner, filename="prices.txt", data=b"Bread 5")
    [new] = service.add_file(db, actor=owner, filename="prices.txt", data=b"Bread 6")
    assert new.id == old.id
    assert db.get(KnowledgeSource, new.id).content_hash == parsing.bytes_hash(b"Bread 6")


def test_qa_csv_upload_becomes_one_faq_per_row(db, owner):
    data = (
        b"id,question,answer,category,language,group\n"
        b"h1,What are your opening hours?,7am to 7pm,Visiting,en,hours\n"
        b"h1-fr,Quand ouvrez-vous ?,De 7h a 19h,Visiting,fr,hours\n"
    )
    views = service.add_file(db, actor=owner, filename="faq.csv", data=data)
    assert [(v.kind, v.external_id, v.question, v.language, v.category) for v in views] == [
        ("faq", "h1", "What are your opening hours?", "en", "Visiting"),
        ("faq", "h1-fr", "Quand ouvrez-vous ?", "fr", "Visiting"),
    ]
    assert {db.get(KnowledgeSource, v.id).group_key for v in views} == {"hours"}
    assert not (settings.data_dir / "uploads" / str(owner.business_id)).exists()


def test_qa_csv_missing_a_column_or_with_bad_rows_is_refused_whole(db, owner):
    with pytest.raises(KnowledgeError) as error:
        service.add_file(db, actor=owner, filename="faq.csv", data=b"question,reply\nOpen?,Yes\n")
    assert "missing: answer (columns found: 'question', 'reply')" in error.value.message
    data = b"question,answer\nOpen?,Yes\nDeliver?,\n,Cash\n"
    with pytest.raises(KnowledgeError) as error:
        service.add_file(db, actor=owner, filename="faq.csv", data=data)
    assert "row 2: missing answer; row 3: missing question" in error.value.message
    assert service.count_sources(db, actor=owner) == 0


def test_list_search_count_and_page(db, owner):
    for n in range(7):
        service.add_faq(db, actor=owner, question=f"Question {n}?", answer=f"Answer {n}")
    service.add_text(db, actor=owner, title="Delivery zones", text="Westlands 50% off " + "x" * 900)
    assert service.count_sources(db, actor=owner) == 8
    assert service.count_sources(db, actor=owner, search="answer 3") == 1
    assert service.count_sources(db, actor=owner, search="50%") == 1
    assert service.count_sources(db, actor=owner, search="5_%") == 0
    page = service.list_sources(db, actor=owner, limit=3, offset=0)
    rest = service.list_sources(db, actor=owner, limit=10, offset=3)
    assert len(page) == 3
    assert len(rest) == 5
    assert page[0].title == "Delivery zones"  # newest first
    assert page[0].content.endswith("…")
    assert len(page[0].content) == 501
    full = service.get_source(db, actor=owner, source_id=page[0].id)
    assert len(full.content) > 900


def test_delete_source_removes_it(db, owner):
    view = service.add_faq(db, actor=owner, question="Open?", answer="Yes")
    service.delete_source(db, actor=owner, source_id=view.id)
    assert service.count_sources(db, actor=owner) == 0
    with pytest.raises(KnowledgeError):
        service.delete_source(db, actor=owner, source_id=view.id)


def test_import_rows_upserts_by_id_then_by_question_and_counts_bad_rows(db, owner):
    business_id = owner.business_id
    rows = [
        {"id": "hours", "question": "Opening hours?", "answer": "7 to 7"},
        {"question": "Do you deliver?", "answer": "Yes"},
        {"question": "Wifi?", "answer": ""},
    ]
    summary = service.import_rows(db, business_id=business_id, rows=rows)
    assert (summary.created, summary.updated, summary.unchanged, summary.failed) == (2, 0, 0, 1)
    assert summary.errors == ["row 3: missing answer"]

    rows = [
        {"id": "hours", "question": "When are you open?", "answer": "7 to 7"},
        {"question": "Do you deliver?", "answer": "Yes"},
        {"question": "Wifi?", "answer": "Free"},
    ]
    summary = service.import_rows(db, business_id=business_id, rows=rows)
    assert (summary.created, summary.updated, summary.unchanged, summary.failed) == (1, 1, 1, 0)
    hours = db.exec(select(KnowledgeSource).where(KnowledgeSource.external_id == "hours")).one()
    assert (hours.question, hours.status) == ("When are you open?", "pending")
    assert service.count_sources(db, actor=owner) == 3


def test_import_rows_cannot_turn_a_text_into_an_faq(db, owner):
    text = service.add_text(db, actor=owner, title="Policy", text="Returns in 24h")
    db.get(KnowledgeSource, text.id).external_id = "policy"
    db.flush()
    summary = service.import_rows(
        db, business_id=owner.business_id, rows=[{"id": "policy", "question": "Q", "answer": "A"}]
    )
    assert summary.failed == 1
    assert summary.errors == ["row 1: id 'policy' already belongs to a text source, not an FAQ"]


def test_enqueue_pending_requeues_only_sources_stuck_for_a_while(committed_owner):
    with session_scope() as session:
        stuck = service.add_faq(session, actor=committed_owner, question="Q1?", answer="A1")
        fresh = service.add_faq(session, actor=committed_owner, question="Q2?", answer="A2")
    get_queue("knowledge").empty()
    with session_scope() as session:
        session.execute(
            sa.update(KnowledgeSource)
            .where(KnowledgeSource.id == stuck.id)
            .values(status="embedding", updated_at=sa.func.now() - timedelta(hours=1))
        )
    with session_scope() as session:
        assert service.enqueue_pending(session) == 1
        assert service.enqueue_pending(session, business_id=committed_owner.business_id + 1) == 0
    assert _queued_jobs() == [("backend.knowledge.tasks.embed_source", (stuck.id,))]
    assert fresh.id != stuck.id
