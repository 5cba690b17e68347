"""Reads for a caller over the network (the REST API, the remote SDK): always through the access guard, and
each one audited.

A token's principal reads with its grants: only products it may read, sensitive columns masked unless it has
clearance, rows limited by its row filters. An anonymous caller of a mesh that does not enforce access reads as
the trusted local user (every column, every row), but still only as checked SELECTs over products: DuckDB's
file readers, ``ATTACH`` and the like are never open to the network. Every read appends a ``data.read`` (or
``data.query``) audit entry naming who, what, which version and how many rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tessera.model.address import Address
from tessera.platform.access import Access
from tessera.platform.context import Context
from tessera.platform.reading import resolve
from tessera.platform.secure import query_as, read_as

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["Served", "query_for", "read_for"]

_SQL_IN_AUDIT = 2000


@dataclass(frozen=True, slots=True)
class Served:
    table: pa.Table
    #: The release read (``sales.orders@v3``), or the products a query read.
    source: str
    #: Why the release should not be relied on (deprecated major), else None.
    deprecation: str | None = None


def _principal(ctx: Context) -> str:
    ctx.identify()
    return ctx.principal  # the token's principal, else "local": trusted only when access is not enforced


def read_for(
    ctx: Context, text: str, *, columns: list[str] | None = None, limit: int | None = None
) -> Served:
    """A product version (``sales.orders``, ``@2.1.0``, ``@2``, ``@v17``, ``@1/v3``) as the caller may see it."""
    principal = _principal(ctx)
    address = Address.parse(text)
    table = read_as(ctx, principal, text, columns=columns, limit=limit)
    release = resolve(ctx, text)
    Access(ctx).record(
        "data.read",
        address.name,
        {
            "principal": principal,
            "version": release.name,
            "rows": table.num_rows,
            "columns": columns or "*",
            "limit": limit,
        },
    )
    return Served(table, release.name, release.deprecation)


def query_for(ctx: Context, sql: str) -> Served:
    """``sql`` as the caller may run it: one SELECT over the products it may read, masked and filtered."""
    from tessera.access.secure_query import check_sql

    principal = _principal(ctx)
    products = check_sql(sql).products
    table = query_as(ctx, principal, sql)
    Access(ctx).record(
        "data.query",
        ", ".join(products) or "-",
        {"principal": principal, "sql": sql[:_SQL_IN_AUDIT], "rows": table.num_rows},
    )
    return Served(table, ", ".join(products))
