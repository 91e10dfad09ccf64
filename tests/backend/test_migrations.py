"""One migration history that matches the models, and the tenant key everywhere."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import SQLModel

from backend.core import migrate
from backend.core.db import get_engine

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
