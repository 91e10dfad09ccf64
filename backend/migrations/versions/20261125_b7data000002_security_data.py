"""security: outgoing webhooks, GDPR and retention (issue 7)

Revision ID: b7data000002
Revises: b7acc0unt001
Create Date: 2026-11-25 16:00:00
"""

from collections.abc import Sequence

revision: str = "b7data000002"
down_revision: str | None = "b7acc0unt001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
