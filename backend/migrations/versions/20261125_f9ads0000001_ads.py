"""ads studio: click-to-chat links and their conversations (issue 9)

Revision ID: f9ads0000001
Revises: f9templates1
Create Date: 2026-11-25 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "f9ads0000001"
down_revision: str | None = "f9templates1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "adasset",
        sa.Column("call_to_action", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
    )
    op.add_column(
        "adasset", sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True)
    )
    op.add_column("adasset", sa.Column("product_id", sa.Integer(), nullable=True))
    op.add_column(
        "adasset", sa.Column("ref_code", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True)
    )
    op.create_index(op.f("ix_adasset_product_id"), "adasset", ["product_id"], unique=False)
    op.create_foreign_key(
        "adasset_product_id_fkey", "adasset", "product", ["product_id"], ["id"], ondelete="SET NULL"
    )
    op.create_unique_constraint(
        "uq_adasset_business_ref_code", "adasset", ["business_id", "ref_code"]
    )
    op.create_table(
        "adconversation",
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
        sa.Column("ad_asset_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["ad_asset_id"], ["adasset.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["business_id"], ["business.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversation.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ad_asset_id", "conversation_id", name="uq_adconversation_asset_conv"),
    )
    op.create_index(
        op.f("ix_adconversation_ad_asset_id"), "adconversation", ["ad_asset_id"], unique=False
    )
    op.create_index(
        op.f("ix_adconversation_business_id"), "adconversation", ["business_id"], unique=False
    )
    op.create_index(
        op.f("ix_adconversation_conversation_id"),
        "adconversation",
        ["conversation_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_adconversation_conversation_id"), table_name="adconversation")
    op.drop_index(op.f("ix_adconversation_business_id"), table_name="adconversation")
    op.drop_index(op.f("ix_adconversation_ad_asset_id"), table_name="adconversation")
    op.drop_table("adconversation")
    op.drop_constraint("uq_adasset_business_ref_code", "adasset", type_="unique")
    op.drop_constraint("adasset_product_id_fkey", "adasset", type_="foreignkey")
    op.drop_index(op.f("ix_adasset_product_id"), table_name="adasset")
    op.drop_column("adasset", "ref_code")
    op.drop_column("adasset", "product_id")
    op.drop_column("adasset", "language")
    op.drop_column("adasset", "call_to_action")
