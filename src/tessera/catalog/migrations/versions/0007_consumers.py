"""consumers: registered consumer expectations, subscriptions, the notification outbox, column profiles

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 08:40:00.000000

Principals gain an ``email`` (where their notifications go). Every new table but ``notifications`` moves the
catalog generation (``tessera.catalog.generation``); the outbox is rewritten on every delivery attempt and no
cached catalog view reads it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tessera.catalog.generation import unwatch, watch

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

WATCHED = ("consumer_expectations", "subscriptions", "column_profiles")


def upgrade() -> None:
    # a plain ADD COLUMN: a batch alter would copy the table on SQLite and drop its generation triggers
    op.add_column("principals", sa.Column("email", sa.String(length=320), nullable=True))
    op.create_table(
        "consumer_expectations",
        sa.Column("consumer", sa.String(length=256), nullable=False),
        sa.Column("address", sa.String(length=256), nullable=False),
        sa.Column("major", sa.Integer(), nullable=True),
        sa.Column("owner", sa.String(length=256), nullable=False),
        sa.Column("expectations", sa.JSON(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("registered_by", sa.String(length=256), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "address"),
    )
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("principal", sa.String(length=256), nullable=False),
        sa.Column("address", sa.String(length=256), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=256), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("principal", "address"),
    )
    op.create_index("ix_subscriptions_address", "subscriptions", ["address"])
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=256), nullable=False),
        sa.Column("recipient", sa.String(length=256), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=512), nullable=False),
        sa.Column("dedup_key", sa.String(length=512), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedup_key"),
    )
    op.create_index("ix_notifications_due", "notifications", ["status", "next_attempt_at"])
    op.create_index("ix_notifications_address", "notifications", ["address", "created_at"])
    op.create_table(
        "column_profiles",
        sa.Column("address", sa.String(length=256), nullable=False),
        sa.Column("major", sa.Integer(), nullable=False),
        sa.Column("delta_version", sa.BigInteger(), nullable=False),
        sa.Column("column_name", sa.String(length=256), nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.Column("null_count", sa.BigInteger(), nullable=False),
        sa.Column("distinct_count", sa.BigInteger(), nullable=True),
        sa.Column("min_value", sa.Text(), nullable=True),
        sa.Column("max_value", sa.Text(), nullable=True),
        sa.Column("top_values", sa.JSON(), nullable=True),
        sa.Column("masked", sa.Boolean(), nullable=False),
        sa.Column("profiled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("address", "major", "delta_version", "column_name"),
    )
    watch(op.get_bind(), WATCHED)


def downgrade() -> None:
    unwatch(op.get_bind(), WATCHED)
    op.drop_table("column_profiles")
    op.drop_index("ix_notifications_address", table_name="notifications")
    op.drop_index("ix_notifications_due", table_name="notifications")
    op.drop_table("notifications")
    op.drop_index("ix_subscriptions_address", table_name="subscriptions")
    op.drop_table("subscriptions")
    op.drop_table("consumer_expectations")
    unwatch(op.get_bind(), ("principals",))
    with op.batch_alter_table("principals") as batch:
        batch.drop_column("email")
    watch(op.get_bind(), ("principals",))
