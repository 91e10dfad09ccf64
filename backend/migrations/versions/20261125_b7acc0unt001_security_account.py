"""security: account recovery, 2FA policy and IP allowlist (issue 7)

Revision ID: b7acc0unt001
Revises: a8pay0000002
Create Date: 2026-11-25 16:00:00
"""

from collections.abc import Sequence

revision: str = "b7acc0unt001"
down_revision: str | None = "a8pay0000002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
