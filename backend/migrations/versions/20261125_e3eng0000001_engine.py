"""engine: pipeline and speed (issues 3, 5)

Revision ID: e3eng0000001
Revises: c6chan000001
Create Date: 2026-11-25 16:00:00
"""

from collections.abc import Sequence

revision: str = "e3eng0000001"
down_revision: str | None = "c6chan000001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
