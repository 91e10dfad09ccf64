"""commerce: catalogue, orders and payment links (issue 8)

Revision ID: a8c0mmerce01
Revises: 61845fd08f7e
Create Date: 2026-11-25 16:00:00
"""

from collections.abc import Sequence

revision: str = "a8c0mmerce01"
down_revision: str | None = "61845fd08f7e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
