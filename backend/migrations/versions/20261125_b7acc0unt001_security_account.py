"""security: account recovery, 2FA policy and IP allowlist (issue 7)

Revision ID: b7acc0unt001
Revises: a8pay0000002
Create Date: 2026-11-25 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "b7acc0unt001"
down_revision: str | None = "a8pay0000002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamps() -> list[sa.Column]:
    return [
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
    ]


def upgrade() -> None:
    op.add_column(
        "business",
        sa.Column("require_two_factor", sa.Boolean(), server_default="false", nullable=False),
    )
    op.create_table(
        "accounttoken",
        *_timestamps(),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["business_id"], ["business.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index(
        op.f("ix_accounttoken_business_id"), "accounttoken", ["business_id"], unique=False
    )
    op.create_index(op.f("ix_accounttoken_user_id"), "accounttoken", ["user_id"], unique=False)
    op.create_table(
        "invitation",
        *_timestamps(),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("invited_by_user_id", sa.Integer(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["business_id"], ["business.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["invited_by_user_id"], ["user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index(op.f("ix_invitation_business_id"), "invitation", ["business_id"], unique=False)
    op.create_index(
        op.f("ix_invitation_invited_by_user_id"), "invitation", ["invited_by_user_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_invitation_invited_by_user_id"), table_name="invitation")
    op.drop_index(op.f("ix_invitation_business_id"), table_name="invitation")
    op.drop_table("invitation")
    op.drop_index(op.f("ix_accounttoken_user_id"), table_name="accounttoken")
    op.drop_index(op.f("ix_accounttoken_business_id"), table_name="accounttoken")
    op.drop_table("accounttoken")
    op.drop_column("business", "require_two_factor")
