"""system: the instance-admin flag on users (the System page)

Revision ID: g1system0001
Revises: g1onboard001
Create Date: 2026-11-25 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision: str = "g1system0001"
down_revision: str | None = "g1onboard001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "user",
        sa.Column("is_instance_admin", sa.Boolean(), server_default="false", nullable=False),
    )
    # An installation upgraded from before the flag: its first user runs it.
    op.execute('UPDATE "user" SET is_instance_admin = true WHERE id = (SELECT min(id) FROM "user")')


def downgrade() -> None:
    op.drop_column("user", "is_instance_admin")
