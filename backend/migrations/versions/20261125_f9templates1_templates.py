"""templates: WhatsApp message templates (issue 9)

Revision ID: f9templates1
Revises: f8billing001
Create Date: 2026-11-25 17:00:00

The `messagetemplate` table exists since the initial schema; this adds broadcasts (a template
sent to a segment of contacts) and their per-recipient status.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "f9templates1"
down_revision: str | None = "f8billing001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _stamps() -> list[sa.Column]:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
            nullable=False,
        ),
    ]  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "broadcast",
        *_stamps(),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("channel_integration_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("segment", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("variables", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["business_id"], ["business.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["template_id"], ["messagetemplate.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["channel_integration_id"], ["channelintegration.id"], ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["created_by_user_id"], ["user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_broadcast_business_id"), "broadcast", ["business_id"], unique=False)
    op.create_index(op.f("ix_broadcast_template_id"), "broadcast", ["template_id"], unique=False)
    op.create_table(
        "broadcastrecipient",
        *_stamps(),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.Column("broadcast_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["business_id"], ["business.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["broadcast_id"], ["broadcast.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("broadcast_id", "contact_id", name="uq_broadcastrecipient_contact"),
    )
    op.create_index(
        op.f("ix_broadcastrecipient_business_id"),
        "broadcastrecipient",
        ["business_id"],
        unique=False,
    )
    op.create_index(
        "ix_broadcastrecipient_broadcast_status",
        "broadcastrecipient",
        ["broadcast_id", "status"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_broadcastrecipient_broadcast_status", table_name="broadcastrecipient")
    op.drop_index(op.f("ix_broadcastrecipient_business_id"), table_name="broadcastrecipient")
    op.drop_table("broadcastrecipient")
    op.drop_index(op.f("ix_broadcast_template_id"), table_name="broadcast")
    op.drop_index(op.f("ix_broadcast_business_id"), table_name="broadcast")
    op.drop_table("broadcast")
