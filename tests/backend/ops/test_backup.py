"""`backup` / `restore`: the database and data/ files round-trip; the secret key stays out."""

from __future__ import annotations

import json
import secrets
import tarfile

import psycopg
import pytest
import sqlalchemy as sa

from backend.cli import main
from backend.core import db as core_db
from backend.core.config import settings
from backend.core.db import session_scope
from backend.models import Business
from backend.ops import backup
from tests.factories import make_business

pytestmark = pytest.mark.usefixtures("committed")


def _admin_url() -> str:
    url = sa.engine.make_url(core_db.sqlalchemy_url(settings.database_url)).set(database="postgres")
    return url.render_as_string(hide_password=False).replace(
        "postgresql+psycopg://", "postgresql://"
    )


@pytest.fixture
def empty_database(monkeypatch):
    """Point BizBot at a new, empty database for the test (dropped after)."""
    name = f"bizbot_restore_{secrets.token_hex(3)}"
    with psycopg.connect(_admin_url(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = sa.engine.make_url(core_db.sqlalchemy_url(settings.database_url)).set(database=name)
    original = settings.database_url
    core_db.get_engine().dispose()
    monkeypatch.setattr(settings, "database_url", url.render_as_string(hide_password=False))
    core_db.get_engine.cache_clear()
    yield
    core_db.get_engine().dispose()
    settings.database_url = original
    core_db.get_engine.cache_clear()
    with psycopg.connect(_admin_url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def data_dir(tmp_path):
    d = tmp_path / "data"
    (d / "uploads" / "7").mkdir(parents=True)
    (d / "uploads" / "7" / "menu.pdf").write_bytes(b"%PDF-1.4 the menu")
    (d / "secret_key").write_text("never-in-a-backup")
    (d / "pg").mkdir()
    (d / "pg" / "PG_VERSION").write_text("16")
    return d


def test_a_backup_restores_into_an_empty_installation(tmp_path, data_dir, empty_database_later):
    with session_scope() as session:
        make_business(session, name="Kept Bakery")
    archive = tmp_path / "b.tar.gz"
    info = backup.backup(archive, data_dir=data_dir)
    assert info.files == 1
    assert info.revision
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert "database.dump" in names
    assert "files/uploads/7/menu.pdf" in names
    assert not any("secret_key" in n or n.startswith("files/pg") for n in names)

    empty_database_later()
    restored_dir = tmp_path / "restored"
    result = backup.restore(archive, data_dir=restored_dir)
    assert result.files == 1
    assert (restored_dir / "uploads" / "7" / "menu.pdf").read_bytes() == b"%PDF-1.4 the menu"
    with session_scope() as session:
        names = session.execute(sa.select(Business.name)).scalars().all()
    assert names == ["Kept Bakery"]
    assert backup.current_revision() == info.revision


@pytest.fixture
def empty_database_later(request):
    """Switch to an empty database when the test calls it (after making its backup)."""
    return lambda: request.getfixturevalue("empty_database")


def test_cli_backup_prints_json_and_reminds_about_the_key(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(settings, "data_dir", tmp_path / "data")
    assert main(["backup", "--output", str(tmp_path / "x.tar.gz")]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["path"] == str(tmp_path / "x.tar.gz")
    assert "secret key" in err


def test_restore_refuses_to_overwrite_data_without_yes(tmp_path, capsys):
    archive = tmp_path / "x.tar.gz"
    backup.backup(archive, data_dir=tmp_path / "data")
    with session_scope() as session:
        make_business(session, name="Live Bakery")
    assert main(["restore", str(archive)]) == 1
    assert "--yes" in capsys.readouterr().err
    with session_scope() as session:
        assert session.execute(sa.select(Business.name)).scalars().all() == ["Live Bakery"]


def test_a_file_that_is_not_a_backup_is_refused_clearly(tmp_path, capsys):
    bogus = tmp_path / "notes.tar.gz"
    bogus.write_bytes(b"hello")
    assert main(["restore", str(bogus), "--yes"]) == 1
    assert "is not a BizBot backup" in capsys.readouterr().err
