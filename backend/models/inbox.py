"""What agents work with in the inbox: canned responses, and the contact search index."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.sql.elements import Grouping
from sqlmodel import Field

from backend.models.base import Table, business_fk
from backend.models.contacts import Contact


class CannedResponse(Table, table=True):
    """A saved reply an agent inserts by typing `/shortcut` in the composer."""

    __table_args__ = (
        sa.UniqueConstraint("business_id", "shortcut", name="uq_cannedresponse_business_shortcut"),
    )

    business_id: int = business_fk()
    # Lower case, without the leading slash: "refund-policy".
    shortcut: str = Field(max_length=32)
    title: str | None = Field(default=None, max_length=120)
    content: str = Field(sa_type=sa.Text)
    created_by_user_id: int | None = Field(
        default=None, foreign_key="user.id", ondelete="SET NULL", index=True
    )


def _sql(fragment: str) -> sa.ColumnElement:
    # Literals written into the SQL (not bound), so a query's expression equals the index's.
    return sa.type_coerce(sa.text(fragment), sa.String)


def _joined(left: sa.ColumnElement, right: sa.ColumnElement) -> sa.ColumnElement:
    return Grouping(left.op("||")(right))


def contact_search_document() -> sa.ColumnElement:
    """The full-text document of a contact (name, email, phone), as the index below has it.

    The inbox's search uses this same expression so PostgreSQL can use the index. The
    parentheses mirror how PostgreSQL prints the index back, so `alembic check` sees no change.
    """
    table = Contact.__table__
    name, email, phone = (
        sa.func.coalesce(column, _sql("''"))
        for column in (table.c.name, table.c.email, table.c.phone)
    )
    space = _sql("' '")
    text = _joined(_joined(_joined(name, space), email), space).op("||")(phone)
    return sa.func.to_tsvector(sa.text("'simple'::regconfig"), text)


# Declared here (the inbox needs it) rather than in contacts.py: the contact table is the
# contacts' domain, this index is the inbox search's.
sa.Index("ix_contact_search", contact_search_document(), postgresql_using="gin")
