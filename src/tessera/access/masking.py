"""Masked, row-filtered views of a product as DuckDB SQL: pure functions, no connection.

A column is masked for a reader without clearance when its contract marks it sensitive (a sensitive
classification, or a ``tessera.masking`` method). Methods, chosen per column:

    hash      sha256 hex of the value's text (VARCHAR): equal values stay equal, so joins and counts of
              distinct values still work; a value from a small domain can be guessed by hashing candidates
    redact    '***' for strings, NULL for other types
    null      NULL of the column's type
    partial   strings keep their last 4 characters, the rest become '*' (a value of 4 characters or fewer
              is all '*'); other types NULL

A sensitive column without a method gets ``hash`` when it is a string and ``null`` otherwise, so its type
stays the same. A missing value stays missing under every method. Every column keeps its name and place.

Row filters come from grants: each is one boolean condition over the product's own columns; a reader's rows
are the OR of the filters of the grants that let them read (none: every row). Filters are checked here before
use (:func:`check_row_filter`) and see the raw values; the reader only ever sees the masked view."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tessera.errors import QueryError
from tessera.model.sqltext import ident

if TYPE_CHECKING:
    from tessera.access.model import ReadAccess
    from tessera.model.contract import Column

__all__ = [
    "MASKING_METHODS",
    "check_row_filter",
    "mask_expression",
    "masked_select",
    "masking_method",
    "quote",
]

MASKING_METHODS = ("hash", "redact", "null", "partial")


quote = ident


def masking_method(column: Column) -> str:
    """The method that applies to a sensitive column: its own, else ``hash`` for strings, ``null`` otherwise.
    An unknown method (the mesh schema allows none) masks as ``null``: fail closed."""
    method = column.masking or ("hash" if column.logical_type == "string" else "null")
    return method if method in MASKING_METHODS else "null"


def mask_expression(column: Column) -> str:
    """The SQL that replaces a sensitive column's value for a reader without clearance."""
    c = quote(column.name)
    method = masking_method(column)
    text = column.logical_type == "string"
    if method == "hash":
        return f"sha256(CAST({c} AS VARCHAR))"
    if method == "redact" and text:
        return f"CASE WHEN {c} IS NULL THEN NULL ELSE '***' END"
    if method == "partial" and text:
        return (
            f"CASE WHEN length({c}) > 4 THEN repeat('*', length({c}) - 4) || right({c}, 4) "
            f"ELSE repeat('*', length({c})) END"
        )
    return f"CASE WHEN false THEN {c} END"  # NULL of the column's own type


def masked_select(columns: Sequence[Column], access: ReadAccess, source: str) -> str:
    """A SELECT over ``source`` (a relation or table-function call) with every column of the source, the
    sensitive ones masked unless ``access.clearance``, and rows limited by the OR of ``access.row_filters``.
    Filters are checked (:func:`check_row_filter`) and raise ``QueryError`` when they are not safe."""
    masked = [] if access.clearance else [c for c in columns if c.sensitive]
    replace = ", ".join(f"{mask_expression(c)} AS {quote(c.name)}" for c in masked)
    select = f"SELECT * REPLACE ({replace})" if replace else "SELECT *"
    filters = [check_row_filter(f, columns, address=access.address) for f in access.row_filters]
    where = " WHERE " + " OR ".join(f"({f})" for f in filters) if filters else ""
    return f"{select} FROM {source}{where}"


def check_row_filter(text: str, columns: Sequence[Column], *, address: str = "") -> str:
    """A grant's row filter, checked against this product's columns before it runs (the grant was checked when
    it was made; a filter on a domain or the mesh meets each product's columns only here): one boolean
    predicate over the product's own columns, no subquery, table, aggregate or function that reads outside
    the row (:func:`tessera.access.filters.validate_row_filter`). Returns the SQL that was checked; raises
    ``QueryError`` naming the filter, the grant's product and the problem."""
    from tessera.access.filters import validate_row_filter

    try:
        return validate_row_filter(text, {c.name: c.logical_type for c in columns})
    except QueryError as exc:
        if not address:
            raise
        raise QueryError(f"{exc} (a grant on {address})") from None
