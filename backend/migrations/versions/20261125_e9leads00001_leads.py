"""leads: owners, notes, follow-ups (issue 9)

Revision ID: e9leads00001
Revises: e3eng0000001
Create Date: 2026-11-25 16:45:00
"""

from collections.abc import Sequence

revision: str = "e9leads00001"
down_revision: str | None = "e3eng0000001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
