"""leads: owners, notes, follow-ups (issue 9)

Revision ID: e9leads00001
Revises: e3eng0000001
Create Date: 2026-11-25 16:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e9leads00001"
down_revision: str | None = "e3eng0000001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "lead", sa.Column("follow_up_reminded_for", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index(
        "ix_lead_business_follow_up", "lead", ["business_id", "next_follow_up_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_lead_business_follow_up", table_name="lead")
    op.drop_column("lead", "follow_up_reminded_for")
