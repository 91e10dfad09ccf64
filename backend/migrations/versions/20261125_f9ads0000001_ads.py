"""ads studio: click-to-chat links and their conversations (issue 9)

Revision ID: f9ads0000001
Revises: f9templates1
Create Date: 2026-11-25 17:00:00
"""

from collections.abc import Sequence

revision: str = "f9ads0000001"
down_revision: str | None = "f9templates1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
