"""catalog generation: a counter that every write to a catalog table moves, in the writing transaction

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 06:00:00.000000

Caches of catalog views (a server's search index and product pages) are keyed by it, so a write committed by any
process, through any code path, makes them stale at once (``tessera.catalog.generation``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tessera.catalog.generation import GENERATION, unwatch, watch

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

#: Every catalog table at this revision but the unwatched ones (``generation.UNWATCHED``); a later migration
#: adding a table watches it itself.
TABLES = (
    "domains",
    "products",
    "product_roles",
    "columns",
    "contracts",
    "storage_locations",
    "majors",
    "versions",
    "quality_runs",
    "quality_checks",
    "lineage_edges",
    "column_lineage",
    "builds",
    "incidents",
    "principals",
    "group_members",
    "grants",
    "access_requests",
    "shares",
    "share_tables",
    "share_recipients",
    "share_grants",
)


def upgrade() -> None:
    op.create_table(
        GENERATION,
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute(sa.text(f"INSERT INTO {GENERATION} (id, n) VALUES (1, 0)"))
    watch(op.get_bind(), TABLES)


def downgrade() -> None:
    unwatch(op.get_bind(), TABLES)
    op.drop_table(GENERATION)
