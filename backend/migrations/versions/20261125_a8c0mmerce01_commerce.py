"""commerce: catalogue, orders and payment links (issue 8)

Revision ID: a8c0mmerce01
Revises: 61845fd08f7e
Create Date: 2026-11-25 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a8c0mmerce01"
down_revision: str | None = "61845fd08f7e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "uq_product_business_sku",
        "product",
        ["business_id", "sku"],
        unique=True,
        postgresql_where=sa.text("sku IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "uq_product_business_sku",
        table_name="product",
        postgresql_where=sa.text("sku IS NOT NULL"),
    )
