"""relative table locations: absolute paths of Tessera's layout become relative to the storage root

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-14 10:00:00.000000

Catalogs recorded every table location whole, so a moved or copied mesh looked for its tables where the
original was (and read the original's). When the catalog is opened by a mesh (its storage root is known), each
location of the layout ``<root>/<domain>/<product>/v<major>`` is rewritten as ``<domain>/<product>/v<major>``,
which the catalog joins to the current storage root. Any other location stays whole and is read as it is; a
catalog opened without a storage root (the seed API's own catalogs) is left unchanged.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from tessera.catalog.paths import legacy_relative

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _rewrite(table: str, key: str, column: str) -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text(f"SELECT {key}, address, {column} FROM {table}")).all()
    taken = {row[2] for row in rows}
    for ident, address, location in rows:
        relative = legacy_relative(location, address)
        if relative is None:
            continue
        if column == key and relative in taken:  # the relative form is already recorded: keep one row
            conn.execute(sa.text(f"DELETE FROM {table} WHERE {key} = :id"), {"id": ident})
            continue
        conn.execute(
            sa.text(f"UPDATE {table} SET {column} = :location WHERE {key} = :id"),
            {"location": relative, "id": ident},
        )
        taken.add(relative)


def upgrade() -> None:
    if context.config.attributes.get("storage_root") is None:
        return
    _rewrite("versions", "id", "table_uri")
    _rewrite("products", "address", "storage_uri")
    _rewrite("storage_locations", "uri", "uri")
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT address, major, table_uri FROM majors")).all()
    for address, major, location in rows:
        relative = legacy_relative(location, address)
        if relative is not None:
            conn.execute(
                sa.text(
                    "UPDATE majors SET table_uri = :location WHERE address = :address AND major = :major"
                ),
                {"location": relative, "address": address, "major": major},
            )


def downgrade() -> None:
    """Relative locations cannot be made whole without the storage root: nothing to undo in the schema."""
