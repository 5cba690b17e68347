"""sharing: Delta Sharing shares, their tables, recipients and share grants

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 21:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shares",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=256), nullable=False),
        sa.PrimaryKeyConstraint("name"),
        sa.UniqueConstraint("id"),
    )
    op.create_table(
        "share_recipients",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("principal", sa.String(length=256), nullable=True),
        sa.Column("token_id", sa.String(length=32), nullable=True),
        sa.Column("secret_hash", sa.String(length=64), nullable=True),
        sa.Column("token_issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=256), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=256), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name"),
        sa.UniqueConstraint("token_id"),
    )
    op.create_table(
        "share_tables",
        sa.Column("share", sa.String(length=128), nullable=False),
        sa.Column("schema_name", sa.String(length=128), nullable=False),
        sa.Column("table_name", sa.String(length=128), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("address", sa.String(length=256), nullable=False),
        sa.Column("major", sa.Integer(), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added_by", sa.String(length=256), nullable=False),
        sa.ForeignKeyConstraint(["share"], ["shares.name"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("share", "schema_name", "table_name"),
    )
    op.create_table(
        "share_grants",
        sa.Column("share", sa.String(length=128), nullable=False),
        sa.Column("recipient", sa.String(length=128), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("granted_by", sa.String(length=256), nullable=False),
        sa.ForeignKeyConstraint(["recipient"], ["share_recipients.name"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["share"], ["shares.name"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("share", "recipient"),
    )


def downgrade() -> None:
    op.drop_table("share_grants")
    op.drop_table("share_tables")
    op.drop_table("share_recipients")
    op.drop_table("shares")
