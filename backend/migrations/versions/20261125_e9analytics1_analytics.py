"""analytics: indexes for the overview (issue 9)

Revision ID: e9analytics1
Revises: e9leads00001
Create Date: 2026-11-25 16:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "e9analytics1"
down_revision: str | None = "e9leads00001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_conversation_business_created",
        "conversation",
        ["business_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_message_business_created", "message", ["business_id", "created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_message_business_created", table_name="message")
    op.drop_index("ix_conversation_business_created", table_name="conversation")
