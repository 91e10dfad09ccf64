"""templates: list a broadcast's first recipients by id from an index

Revision ID: g2templates3
Revises: g1engine0001
Create Date: 2026-11-25 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
from alembic import op

revision: str = "g2templates3"
down_revision: str | None = "g1engine0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_broadcastrecipient_broadcast_id_id", "broadcastrecipient", ["broadcast_id", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_broadcastrecipient_broadcast_id_id", table_name="broadcastrecipient")
