"""webhook deliveries: raw bodies of authentic webhook requests, for audit and replay

Revision ID: 61845fd08f7e
Revises: d7e01f0d1e06
Create Date: 2026-11-25 13:50:21.162428
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "61845fd08f7e"
down_revision: str | None = "d7e01f0d1e06"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webhookdelivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.Column("channel_integration_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("content_type", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("new_event_ids", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(["business_id"], ["business.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["channel_integration_id"], ["channelintegration.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_webhookdelivery_business_id"), "webhookdelivery", ["business_id"], unique=False
    )
    op.create_index(
        "ix_webhookdelivery_integration_created",
        "webhookdelivery",
        ["channel_integration_id", "created_at"],
        unique=False,
    )
    op.create_index("ix_webhookdelivery_created", "webhookdelivery", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_webhookdelivery_created", table_name="webhookdelivery")
    op.drop_index("ix_webhookdelivery_integration_created", table_name="webhookdelivery")
    op.drop_index(op.f("ix_webhookdelivery_business_id"), table_name="webhookdelivery")
    op.drop_table("webhookdelivery")
