"""templates optout: find a broadcast recipient by its message (live delivery status)

Revision ID: g1templates2
Revises: g1system0001
Create Date: 2026-11-25 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401
from alembic import op

revision: str = "g1templates2"
down_revision: str | None = "g1system0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_broadcastrecipient_message", "broadcastrecipient", ["message_id"])


def downgrade() -> None:
    op.drop_index("ix_broadcastrecipient_message", table_name="broadcastrecipient")
