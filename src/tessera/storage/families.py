"""The family (integer, number, string, boolean, date, timestamp, binary) a contract column's type declares,
without Arrow or a SQL parser for the spellings contracts use most.

``declared_type_family(column)`` is ``arrow_family(arrow_type(column))`` of :mod:`tessera.storage.schema`,
which loads Arrow and parses ``physicalType`` with sqlglot: a bare ``tessera test`` pays neither for
``bigint``, ``varchar`` or ``decimal(10,2)``. Any other spelling goes through ``arrow_type`` itself, and
``tests/architecture/test_imports.py`` holds every entry here equal to what ``arrow_type`` answers."""

from __future__ import annotations

import re

from tessera.model.contract import Column

__all__ = ["PHYSICAL_FAMILIES", "UNKNOWN", "declared_type_family", "quick_family"]

#: Physical type spellings (lower case, single spaces) and the family of the Arrow type ``arrow_type`` gives
#: them; None: no flat Arrow type, the logical type decides.
PHYSICAL_FAMILIES: dict[str, str | None] = {
    **dict.fromkeys(
        ("tinyint", "int8", "byte", "smallint", "int16", "short", "int", "int32", "integer", "bigint",
         "int64", "long", "int2", "int4", "uinteger"),
        "integer",
    ),
    **dict.fromkeys(
        ("double", "double precision", "float", "float4", "float8", "real", "hugeint", "ubigint"), "number"
    ),
    **dict.fromkeys(("varchar", "string", "text", "char", "nvarchar", "uuid"), "string"),
    **dict.fromkeys(("boolean", "bool"), "boolean"),
    "date": "date",
    **dict.fromkeys(
        ("timestamp", "timestamptz", "timestamp with time zone", "timestamp without time zone",
         "timestamp_ntz", "datetime", "timestamp_ms"),
        "timestamp",
    ),
    **dict.fromkeys(("blob", "bytea", "binary", "varbinary", "bytes"), "binary"),
    **dict.fromkeys(("decimal", "numeric", "number", "time", "json"), None),
}  # fmt: skip
_LOGICAL = {k: k for k in ("string", "boolean", "date", "timestamp", "integer", "number")}
_DECIMAL = re.compile(r"^\s*(?:decimal|numeric|number)\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)\s*$", re.I)
_SIZED_TEXT = re.compile(r"^(?:varchar|char|nvarchar)\s*\(\s*\d+\s*\)$")
#: ``quick_family``'s answer when the spelling is not one it knows.
UNKNOWN = "?"


def quick_family(column: Column) -> str | None:
    """The declared family from the tables above, or ``UNKNOWN``."""
    if column.precision is not None:  # a decimal: Arrow takes precisions 1 to 38
        return "number" if 1 <= column.precision <= 38 else UNKNOWN
    if column.physical_type:
        name = " ".join(column.physical_type.strip().lower().split())
        match = _DECIMAL.match(name)
        if match:
            return "number" if 1 <= int(match[1]) <= 38 else UNKNOWN
        if _SIZED_TEXT.match(name):
            return "string"
        if name not in PHYSICAL_FAMILIES:
            return UNKNOWN
        family = PHYSICAL_FAMILIES[name]
        if family is not None:
            return family
    return _LOGICAL.get(column.logical_type or "")


def declared_type_family(column: Column) -> str | None:
    """``arrow_family(arrow_type(column))``: raises what ``arrow_type`` raises for a spelling it refuses."""
    family = quick_family(column)
    if family != UNKNOWN:
        return family
    from tessera.storage.schema import arrow_family, arrow_type

    typ = arrow_type(column)
    return arrow_family(typ) if typ is not None else None
