"""billing: plans and subscriptions (issue 8)

Revision ID: f8billing001
Revises: e9analytics1
Create Date: 2026-11-25 16:50:00
"""

from collections.abc import Sequence

revision: str = "f8billing001"
down_revision: str | None = "e9analytics1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
