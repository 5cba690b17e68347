"""Reads for a caller over the network (the REST API, and so the remote SDK and the web catalog): through the
reader (``tessera.platform.reading.reader``) as a caller that is never trusted, each one audited.

A token's principal reads with its grants: only products it may read, sensitive columns masked unless it has
clearance, rows limited by its row filters. An anonymous caller of a mesh that does not enforce access reads with
``local``'s grants (every column, every row), but still only as checked SELECTs over products: DuckDB's file
readers, ``ATTACH`` and the like are never open to the network. ``cancel`` interrupts the query when the client
goes away or the server stops."""

from __future__ import annotations

import threading

from tessera.platform.context import Context
from tessera.platform.reading.reader import Reader, Served, network_caller

__all__ = ["Served", "query_for", "read_for"]


def read_for(
    ctx: Context,
    text: str,
    *,
    columns: list[str] | None = None,
    limit: int | None = None,
    cancel: threading.Event | None = None,
) -> Served:
    """A product version (``sales.orders``, ``@2.1.0``, ``@2``, ``@v17``, ``@1/v3``) as the caller may see it."""
    return Reader(ctx, network_caller(ctx), cancel=cancel).read(text, columns=columns, limit=limit)


def query_for(ctx: Context, sql: str, *, cancel: threading.Event | None = None) -> Served:
    """``sql`` as the caller may run it: one SELECT over the products it may read, masked and filtered."""
    return Reader(ctx, network_caller(ctx), cancel=cancel).query(sql)
