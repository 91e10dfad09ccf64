"""payments: providers and their webhooks (issue 8)

Revision ID: a8pay0000002
Revises: a8c0mmerce01
Create Date: 2026-11-25 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a8pay0000002"
down_revision: str | None = "a8c0mmerce01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("payment", sa.Column("reference", sa.String(length=64), nullable=True))
    op.create_unique_constraint("uq_payment_reference", "payment", ["reference"])


def downgrade() -> None:
    op.drop_constraint("uq_payment_reference", "payment", type_="unique")
    op.drop_column("payment", "reference")
