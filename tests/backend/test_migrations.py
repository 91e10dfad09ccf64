"""One migration history that matches the models, and the tenant key everywhere."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, SQLModel

from backend.core import migrate
from backend.core.db import get_engine
from backend.models import Business

# Tables that are not owned by one business: the tenant itself and people (who may belong to
# several businesses), plus their 2FA.
NOT_TENANT_OWNED = {"business", "user", "twofactor"}


def test_alembic_check_is_clean():
    migrate.check()


def test_every_tenant_owned_table_has_an_indexed_business_id():
    inspector = sa.inspect(get_engine())
    for table in SQLModel.metadata.sorted_tables:
        if table.name in NOT_TENANT_OWNED:
            continue
        assert "business_id" in table.c, f"{table.name} has no business_id"
        indexed = [
            ix["column_names"]
            for ix in inspector.get_indexes(table.name)
            + [
                {"column_names": u["column_names"]}
                for u in inspector.get_unique_constraints(table.name)
            ]
        ]
        assert any(cols and cols[0] == "business_id" for cols in indexed), (
            f"{table.name}.business_id is not the first column of any index"
        )


def test_pgvector_and_search_indexes_exist():
    inspector = sa.inspect(get_engine())
    names = {ix["name"] for ix in inspector.get_indexes("knowledgechunk")}
    assert {"ix_knowledgechunk_embedding_hnsw", "ix_knowledgechunk_tsv"} <= names
    with get_engine().connect() as conn:
        dims = conn.execute(
            sa.text("SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                    "WHERE attrelid = 'knowledgechunk'::regclass AND attname = 'embedding'")
        ).scalar_one()  # fmt: skip
    assert dims == "vector(384)"


def _fresh_database() -> tuple[str, str]:
    """A new empty database on the test server: (its SQLAlchemy URL, the admin URL)."""
    import secrets

    base = sa.engine.make_url(get_engine().url.render_as_string(hide_password=False))
    admin = base.set(database="postgres").render_as_string(hide_password=False)
    name = f"bizbot_migrate_{secrets.token_hex(3)}"
    with sa.create_engine(admin, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    return base.set(database=name).render_as_string(hide_password=False), admin


def test_every_migration_goes_down_and_up_again_on_a_database_with_data():
    """Each step down and back up works with rows in the tables, and the rows survive."""
    from alembic import command
    from alembic.script import ScriptDirectory

    url, admin = _fresh_database()
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS vector"))
            migrate.upgrade("head", connection=conn)
            with Session(bind=conn) as session:
                session.add(Business(name="Kept", slug="kept"))
                session.flush()
        script = ScriptDirectory.from_config(migrate.alembic_config())
        steps = [rev.revision for rev in script.walk_revisions()]  # newest first
        with engine.begin() as conn:
            config = migrate.alembic_config(conn)
            for revision in steps[:-1]:  # down to the initial schema, one step at a time
                command.downgrade(config, "-1")
                command.upgrade(config, revision)
                command.downgrade(config, "-1")
            command.upgrade(config, "head")
            kept = conn.execute(sa.text("SELECT name FROM business")).scalars().all()
            at = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
        assert kept == ["Kept"]
        assert at == script.get_current_head()
    finally:
        engine.dispose()
        with sa.create_engine(admin, isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(
                sa.text(
                    f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[-1].split("?")[0]}" WITH (FORCE)'
                )
            )
