"""The catalog's lineage records read back (tables ``lineage_edges`` and ``column_lineage``, written by
``records.record_column_lineage`` when a version is recorded): which nodes exist, and the edges between them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tessera.catalog import tables as t
from tessera.catalog.store import Catalog

__all__ = [
    "column_edges",
    "column_names",
    "has_column",
    "has_dataset",
    "lineage_datasets",
    "product_edges",
    "subject_edges",
]


def has_dataset(catalog: Catalog, dataset: str) -> bool:
    """Whether ``dataset`` is a product or a source table some product reads."""
    with catalog.engine.connect() as conn:  # the catalog knows every node; no need to read the mesh files
        found = conn.execute(
            select(t.products.c.address)
            .where(t.products.c.address == dataset)
            .union(select(t.lineage_edges.c.source).where(t.lineage_edges.c.source == dataset))
        ).first()
    return found is not None


def lineage_datasets(catalog: Catalog) -> list[str]:
    """Every product and every source table some product reads."""
    with catalog.engine.connect() as conn:
        return list(
            conn.execute(select(t.products.c.address).union(select(t.lineage_edges.c.source))).scalars()
        )


def has_column(catalog: Catalog, address: str, column: str) -> bool:
    with catalog.engine.connect() as conn:
        found = conn.execute(
            select(t.columns.c.name).where(t.columns.c.address == address, t.columns.c.name == column)
        ).first()
    return found is not None


def column_names(catalog: Catalog, address: str) -> list[str]:
    with catalog.engine.connect() as conn:
        return list(conn.execute(select(t.columns.c.name).where(t.columns.c.address == address)).scalars())


def product_edges(catalog: Catalog) -> list[dict[str, Any]]:
    """Every product-level edge (an input port): ``source``, ``target``, ``kind``."""
    with catalog.engine.connect() as conn:
        rows = conn.execute(select(t.lineage_edges).where(t.lineage_edges.c.kind == "product")).mappings()
        return [dict(row) for row in rows]


def column_edges(catalog: Catalog) -> list[dict[str, Any]]:
    """Every recorded column edge, of every version."""
    with catalog.engine.connect() as conn:
        return [dict(row) for row in conn.execute(select(t.column_lineage)).mappings()]


def subject_edges(catalog: Catalog) -> list[tuple[str, str, str, str | None, str]]:
    """(product, source, source column, target column, kind) of every column edge any recorded version was
    built with, once each: an older major may copy a key differently."""
    c = t.column_lineage.c
    with catalog.engine.connect() as conn:
        rows = conn.execute(select(c.address, c.source, c.source_column, c.target_column, c.kind).distinct())
        return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]
