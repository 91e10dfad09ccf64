"""analytics: indexes for the overview (issue 9)

Revision ID: e9analytics1
Revises: e9leads00001
Create Date: 2026-11-25 16:45:00
"""

from collections.abc import Sequence

revision: str = "e9analytics1"
down_revision: str | None = "e9leads00001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
