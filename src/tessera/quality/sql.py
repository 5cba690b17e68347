"""SQL text for the quality pass: identifiers, literals typed to their column, and constraint predicates.

Every predicate here is NULL for a NULL value, so ``count_if(predicate)`` counts violations among the non-null
values only and a ``WHERE predicate`` never selects a null row."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal

from tessera.model.contract import Column
from tessera.model.sqltext import ident, string_literal

__all__ = [
    "ConstraintKind",
    "as_text",
    "column_violations",
    "in_list",
    "is_numeric",
    "is_temporal",
    "is_text",
    "literal",
    "not_in_list",
    "quote_ident",
    "typed_literal",
]

ConstraintKind = Literal["pattern", "enum", "range", "length"]

_TEXT = ("VARCHAR", "CHAR", "BPCHAR", "TEXT", "STRING")
_NUMERIC = ("TINYINT", "SMALLINT", "INT", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINT", "UBIGINT",
            "UHUGEINT", "FLOAT", "DOUBLE", "REAL", "DECIMAL", "NUMERIC")  # fmt: skip


quote_ident = ident


def _base(sql_type: str) -> str:
    return sql_type.upper().split("(")[0].strip()


def is_text(sql_type: str) -> bool:
    return _base(sql_type).startswith(_TEXT)


def is_numeric(sql_type: str) -> bool:
    return _base(sql_type).startswith(_NUMERIC)


def is_temporal(sql_type: str) -> bool:
    return _base(sql_type).startswith(("DATE", "TIMESTAMP"))


def _with_zone(sql_type: str) -> bool:
    upper = sql_type.upper()
    return "TIME ZONE" in upper or upper.startswith("TIMESTAMPTZ")


def literal(value: Any) -> str:
    """A Python value as a SQL literal of its natural type."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float | Decimal):
        return str(value) if not isinstance(value, float) else repr(value)
    if isinstance(value, date):
        return "'" + value.isoformat() + "'"
    return string_literal(str(value))


def _instant(value: Any, zoned: bool) -> Any:
    """Naive timestamps are UTC: normalise a bound for a TIMESTAMP (naive UTC) or TIMESTAMPTZ column."""
    moment = value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
    if not isinstance(moment, datetime):
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.isoformat() if zoned else moment.replace(tzinfo=None).isoformat()


def typed_literal(value: Any, sql_type: str) -> str:
    """A bound or list value compared with a column of ``sql_type``: plain when its type already matches
    (text with text, number with number), else cast to the column type so dates and timestamps compare as
    such."""
    if is_text(sql_type) and isinstance(value, str):
        return literal(value)
    if is_numeric(sql_type) and isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return literal(value)
    if _base(sql_type).startswith("TIMESTAMP"):
        value = _instant(value, _with_zone(sql_type))
    return f"CAST({literal(value)} AS {sql_type})"


def _items(values: Iterable[Any], sql_type: str) -> str:
    return ", ".join(typed_literal(v, sql_type) for v in values if v is not None)


def in_list(ref: str, values: Iterable[Any], sql_type: str) -> str | None:
    """``ref IN (...)`` over the non-null values; None when no non-null value is listed."""
    items = _items(values, sql_type)
    return f"{ref} IN ({items})" if items else None


def not_in_list(ref: str, values: Iterable[Any], sql_type: str) -> str:
    """TRUE for a non-null value outside the list (every non-null value when none is listed)."""
    items = _items(values, sql_type)
    return f"{ref} NOT IN ({items})" if items else f"{ref} IS NOT NULL"


def as_text(ref: str, sql_type: str) -> str:
    return ref if is_text(sql_type) else f"CAST({ref} AS VARCHAR)"


def column_violations(column: Column, sql_type: str) -> dict[ConstraintKind, str]:
    """The validity constraints of a column as row predicates that are TRUE for a violating value."""
    ref = quote_ident(column.name)
    out: dict[ConstraintKind, str] = {}
    if column.pattern is not None:
        out["pattern"] = f"NOT regexp_matches({as_text(ref, sql_type)}, {literal(column.pattern)})"
    if column.enum is not None:
        out["enum"] = not_in_list(ref, column.enum, sql_type)
    bounds = (
        ("<", column.minimum),
        (">", column.maximum),
        ("<=", column.exclusive_minimum),
        (">=", column.exclusive_maximum),
    )
    ranges = [f"{ref} {op} {typed_literal(v, sql_type)}" for op, v in bounds if v is not None]
    if ranges:
        out["range"] = ranges[0] if len(ranges) == 1 else "(" + " OR ".join(ranges) + ")"
    text = f"length({as_text(ref, sql_type)})"
    lengths = [
        f"{text} {op} {n}" for op, n in (("<", column.min_length), (">", column.max_length)) if n is not None
    ]
    if lengths:
        out["length"] = lengths[0] if len(lengths) == 1 else "(" + " OR ".join(lengths) + ")"
    return out
