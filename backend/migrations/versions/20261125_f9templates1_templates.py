"""templates: WhatsApp message templates (issue 9)

Revision ID: f9templates1
Revises: f8billing001
Create Date: 2026-11-25 17:00:00
"""

from collections.abc import Sequence

revision: str = "f9templates1"
down_revision: str | None = "f8billing001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
