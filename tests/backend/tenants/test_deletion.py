"""The danger zone: deleting a business removes every row and file it owns, and nothing else."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pyotp
import pytest
import sqlalchemy as sa
from pgvector.sqlalchemy import Vector
from sqlmodel import SQLModel

from backend.auth import service as auth
from backend.auth.permissions import PermissionDenied
from backend.channels import media
from backend.channels.base import MediaFile
from backend.commerce import service as commerce
from backend.core.config import settings
from backend.core.db import session_scope
from backend.core.images import data_file
from backend.core.queue import get_queue
from backend.knowledge import parsing
from backend.models import Business, Role, User
from backend.security import two_factor
from backend.tenants import deletion
from backend.tenants import service as tenants
from backend.tenants.service import BusinessError
from backend.tenants.tasks import business_folders
from tests.backend.inbox.helpers import run_worker
from tests.backend.tenants.test_profile import png
from tests.factories import (
    PASSWORD,
    actor_for,
    make_channel,
    make_conversation,
    make_knowledge_source,
    make_message,
    make_order,
    make_user,
)
from tests.fakes.smtp_server import FakeSMTP

_n = itertools.count(1)


def _tenant_tables() -> list[sa.Table]:
    return [t for t in SQLModel.metadata.sorted_tables if "business_id" in t.c]


def _dummy(column: sa.Column):
    """A valid value for a required column with no default."""
    kind = getattr(column.type, "impl_instance", column.type)  # AutoString is a String
    if isinstance(kind, Vector):
        return [0.0] * kind.dim
    if isinstance(kind, sa.JSON):
        return {}
    if isinstance(kind, sa.String):
        return f"x{next(_n)}"[: kind.length or 64]
    python = kind.python_type
    if python is bool:
        return False
    if python in (int, float, Decimal):
        return python(1)
    if python is datetime:
        return datetime.now(UTC)
    if python in (dict, list, bytes):
        return python()
    raise AssertionError(f"{column.table.name}.{column.name}: no dummy for {python}")


def fill_every_tenant_table(session, *, business_id: int, user_id: int) -> set[str]:
    """Give every table with a business_id at least one row of this business (factories made
    some; the rest get a row with the required columns filled in); the table names."""
    conn = session.connection()
    ids = {"business": business_id, "user": user_id}
    for table in _tenant_tables():
        found = conn.execute(
            sa.select(table.c.id).where(table.c.business_id == business_id).limit(1)
        ).scalar()
        if found is not None:
            ids[table.name] = found
            continue
        values = {}
        for column in table.c:
            if column.primary_key or column.server_default is not None:
                continue
            targets = [fk.column.table.name for fk in column.foreign_keys]
            if column.name == "business_id":
                values[column.name] = business_id
            elif targets and targets[0] in ids:
                values[column.name] = ids[targets[0]]
            elif not column.nullable:
                assert not targets, f"{table.name}.{column.name} needs a {targets[0]} row first"
                values[column.name] = _dummy(column)
        ids[table.name] = conn.execute(
            sa.insert(table).values(**values).returning(table.c.id)
        ).scalar_one()
    return {t.name for t in _tenant_tables()}


def rows_of(session, business_id: int) -> dict[str, int]:
    """How many rows each tenant table holds for the business (tables with none left out)."""
    conn = session.connection()
    counts = {
        t.name: conn.execute(
            sa.select(sa.func.count()).select_from(t).where(t.c.business_id == business_id)
        ).scalar_one()
        for t in _tenant_tables()
    }
    return {name: n for name, n in counts.items() if n}


def _populate(session, business, owner):
    conversation = make_conversation(session, business=business)
    make_message(session, conversation=conversation)
    make_channel(session, business=business)
    make_knowledge_source(session, business=business)
    make_order(session, business=business, conversation=conversation)
    make_user(session, business=business, role=Role.AGENT)
    return fill_every_tenant_table(session, business_id=business.id, user_id=owner.user_id)


def test_deleting_removes_a_row_from_every_tenant_table_and_leaves_others_alone(db):
    owner, business = actor_for(db, role=Role.OWNER)
    other_owner, other = actor_for(db, role=Role.OWNER)
    tables = _populate(db, business, owner)
    _populate(db, other, other_owner)
    assert set(rows_of(db, business.id)) == tables  # every tenant table has a row to delete
    assert len(tables) >= 40
    before_other = rows_of(db, other.id)
    deleted = deletion.delete_business(
        db, actor=owner, confirm_name=business.name, password=PASSWORD
    )
    assert deleted.business_id == business.id
    assert rows_of(db, business.id) == {}
    assert db.get(Business, business.id) is None
    assert rows_of(db, other.id) == before_other
    # People keep their accounts; the owner's account stays and can be invited elsewhere.
    assert db.get(User, owner.user_id) is not None


@pytest.mark.parametrize(
    ("confirm", "password", "field"),
    [("wrong name", PASSWORD, "confirm_name"), ("", PASSWORD, "confirm_name"),
     (None, "not my password", "password"), (None, "", "password")],
)  # fmt: skip
def test_the_typed_name_and_current_password_are_required(db, confirm, password, field):
    owner, business = actor_for(db)
    business.name = "Sunrise Bakery"
    with pytest.raises(BusinessError) as err:
        deletion.delete_business(db, actor=owner, confirm_name=confirm if confirm is not None
                                 else business.name, password=password)  # fmt: skip
    assert err.value.field == field
    assert db.get(Business, business.id) is not None


def test_the_name_must_match_exactly_not_just_loosely(db):
    owner, business = actor_for(db)
    business.name = "Sunrise Bakery"
    with pytest.raises(BusinessError) as err:
        deletion.delete_business(db, actor=owner, confirm_name="sunrise bakery", password=PASSWORD)
    assert "Sunrise Bakery" in err.value.message


def test_password_guesses_are_limited(db):
    owner, business = actor_for(db)
    for _ in range(5):
        with pytest.raises(BusinessError):
            deletion.delete_business(db, actor=owner, confirm_name=business.name, password="guess")
    with pytest.raises(BusinessError) as err:
        deletion.delete_business(db, actor=owner, confirm_name=business.name, password=PASSWORD)
    assert "Too many attempts" in err.value.message
    assert db.get(Business, business.id) is not None


@pytest.mark.parametrize("role", [Role.ADMIN, Role.AGENT, Role.VIEWER])
def test_only_owners_delete(db, role):
    member, business = actor_for(db, role=role)
    with pytest.raises(PermissionDenied):
        deletion.delete_business(db, actor=member, confirm_name=business.name, password=PASSWORD)
    assert db.get(Business, business.id) is not None


def test_with_two_factor_the_current_code_is_required(db):
    owner, business = actor_for(db)
    enrolment = two_factor.start_enrolment(db, user_id=owner.user_id)
    secret = enrolment.secret
    two_factor.confirm_enrolment(db, user_id=owner.user_id, business_id=business.id,
                                 code=pyotp.TOTP(secret).now())  # fmt: skip
    for code, words in (("", "6-digit code"), ("000000", "not right")):
        with pytest.raises(BusinessError) as err:
            deletion.delete_business(db, actor=owner, confirm_name=business.name,
                                     password=PASSWORD, code=code)  # fmt: skip
        assert (err.value.field, words in err.value.message) == ("code", True)
    assert db.get(Business, business.id) is not None
    # The code used at enrolment is spent; the next time step's code is accepted.
    step = pyotp.TOTP(secret)
    code = step.at(datetime.now(UTC).timestamp() + 30)
    deletion.delete_business(db, actor=owner, confirm_name=business.name, password=PASSWORD,
                             code=code)  # fmt: skip
    assert db.get(Business, business.id) is None


def _store_every_kind_of_file(session, actor) -> list[Path]:
    """One file of each kind BizBot keeps for a business: logo, product image, a customer's
    media, an uploaded knowledge document."""
    tenants.set_logo(session, actor=actor, filename="logo.png", data=png())
    product = commerce.create_product(session, actor=actor, name="Loaf", price="3",
                                      currency="USD")  # fmt: skip
    image = commerce.set_product_image(
        session, actor=actor, product_id=product.id, filename="loaf.png", data=png(2, 2)
    )
    attachment = media.store(business_id=actor.business_id, name="photo",
                             file=MediaFile(content=png(3, 3), mime_type="image/png"))  # fmt: skip
    upload = parsing.upload_path(settings.data_dir, business_id=actor.business_id,
                                 digest="ab" * 32, ext=".txt")  # fmt: skip
    upload.parent.mkdir(parents=True, exist_ok=True)
    upload.write_bytes(b"Opening hours: 8 to 6.")
    return [
        data_file(session.get(Business, actor.business_id).logo_path),
        data_file(image.image_path),
        media.root() / attachment["path"],
        upload,
    ]


@pytest.mark.usefixtures("committed")
def test_files_sessions_and_the_owners_email_after_the_commit(monkeypatch):
    with FakeSMTP() as smtp:
        monkeypatch.setattr(settings, "smtp_host", smtp.host)
        monkeypatch.setattr(settings, "smtp_port", smtp.port)
        monkeypatch.setattr(settings, "smtp_security", "none")
        with session_scope() as session:
            owner, business = actor_for(session)
            other_owner, _ = actor_for(session)
            business.is_demo = True  # demo businesses can be deleted too
            ticket = auth.LoginTicket(user_id=owner.user_id, business_id=business.id)
            token = auth.start_session(session, ticket=ticket, ip_address=None, user_agent=None)
            email = session.get(User, owner.user_id).email
            name = business.name
        # Through the code that writes each kind of file, not from the list the deletion reads:
        # a writer of a new folder must show up here, or the deletion leaves its files behind.
        with session_scope() as session:
            files = _store_every_kind_of_file(session, owner)
            others = _store_every_kind_of_file(session, other_owner)
        assert all(path.exists() for path in files + others)
        with session_scope() as session:
            assert auth.resolve_session(session, token=token) is not None
            deletion.delete_business(session, actor=owner, confirm_name=name, password=PASSWORD)
        with session_scope() as session:
            assert auth.resolve_session(session, token=token) is None  # signed out everywhere
        assert get_queue("default").count == 2
        run_worker("default")
        assert [path for path in files if path.exists()] == []
        assert all(path.exists() for path in others)
        assert not any(folder.exists() for folder in business_folders(business.id))
        [mail] = smtp.messages
    assert mail.envelope_to == [email]
    assert mail.subject == f"{name} was deleted from BizBot"
    assert "Your own account stays" in mail.text
