"""settings: the business logo and its own SMTP server

Revision ID: g1settings01
Revises: f9ads0000001
Create Date: 2026-11-25 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "g1settings01"
down_revision: str | None = "f9ads0000001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_COLUMNS = (
    ("logo_path", sqlmodel.sql.sqltypes.AutoString(length=500)),
    ("smtp_host", sqlmodel.sql.sqltypes.AutoString(length=255)),
    ("smtp_port", sa.Integer()),
    ("smtp_username", sqlmodel.sql.sqltypes.AutoString(length=254)),
    ("smtp_password_encrypted", sqlmodel.sql.sqltypes.AutoString(length=1024)),
    ("smtp_from", sqlmodel.sql.sqltypes.AutoString(length=254)),
    ("smtp_security", sqlmodel.sql.sqltypes.AutoString(length=16)),
)


def upgrade() -> None:
    for name, type_ in _COLUMNS:
        op.add_column("business", sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    for name, _ in reversed(_COLUMNS):
        op.drop_column("business", name)
