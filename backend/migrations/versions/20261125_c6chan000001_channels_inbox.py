"""channels and inbox: attachments, contact merge (issues 5, 6)

Revision ID: c6chan000001
Revises: b7data000002
Create Date: 2026-11-25 16:00:00
"""

from collections.abc import Sequence

revision: str = "c6chan000001"
down_revision: str | None = "b7data000002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
