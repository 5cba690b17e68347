"""Presence and type checks: every declared column is in the data, with a type of its declared family.

Judged from the data's column types only (a ``DESCRIBE``, no row read), before the fused pass. The expected
type is the storage type the contract promises (``tessera.storage.schema.arrow_type``: the physical type
decides when given, else the logical type); the found type is the engine's (DuckDB's names, which the
PostgreSQL engine maps its own types to). Types match by family, so ``int32`` data for an ``int64`` column,
``varchar`` for ``string`` or ``decimal(10,2)`` for a ``number`` pass, and ``string`` data for an ``integer``
column fails. Text formats (CSV, JSON) carry no types of their own: a column their reader guessed to be a
number or a date is still text to a ``string`` declaration (``loose_text``)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from tessera.model.contract import Column, Contract
from tessera.model.results import Check

__all__ = ["declared_family", "found_family", "schema_checks"]

_INTEGERS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
             "UBIGINT", "UHUGEINT", "INT", "INT1", "INT2", "INT4", "INT8", "LONG", "SHORT")  # fmt: skip
_FLOATS = ("FLOAT", "DOUBLE", "REAL", "FLOAT4", "FLOAT8")
_TEXT = ("VARCHAR", "TEXT", "CHAR", "BPCHAR", "STRING", "UUID", "ENUM")
_DECIMAL = re.compile(r"^(?:DECIMAL|NUMERIC)\s*\(\s*\d+\s*,\s*(\d+)\s*\)$")

#: Declared family → the data families that satisfy it.
_ACCEPTS: dict[str, frozenset[str]] = {
    "string": frozenset({"string"}),
    "integer": frozenset({"integer", "decimal0"}),
    "number": frozenset({"integer", "number", "decimal", "decimal0"}),
    "boolean": frozenset({"boolean"}),
    "date": frozenset({"date"}),
    "timestamp": frozenset({"timestamp", "date"}),  # a date widens to midnight without loss
    "time": frozenset({"time"}),
    "object": frozenset({"object", "map", "json"}),
    "map": frozenset({"map", "object", "json"}),
    "array": frozenset({"array", "json"}),
    "binary": frozenset({"binary"}),
}
_LOGICAL = {"object": "object", "map": "map", "array": "array", "vector": "array", "time": "time"}


def found_family(sql_type: str) -> str:
    """The family of an engine column type (DuckDB's names): ``DECIMAL(10,0)`` → ``decimal0``."""
    upper = sql_type.strip().upper()
    if upper.endswith("]") or upper.startswith(("LIST", "ARRAY")):
        return "array"
    base = upper.split("(")[0].strip()
    match = _DECIMAL.match(upper)
    if match or base in ("DECIMAL", "NUMERIC"):
        return "decimal0" if match and int(match[1]) == 0 else "decimal"
    if base in _INTEGERS:
        return "integer"
    if base in _FLOATS:
        return "number"
    if base.startswith(_TEXT):
        return "string"
    if base.startswith("BOOL"):
        return "boolean"
    if base.startswith(("TIMESTAMP", "DATETIME")):
        return "timestamp"
    if base == "DATE":
        return "date"
    if base.startswith("TIME"):
        return "time"
    if base.startswith(("STRUCT", "UNION")):
        return "object"
    if base.startswith("MAP"):
        return "map"
    if base.startswith("JSON"):
        return "json"
    if base in ("BLOB", "BYTEA", "VARBINARY", "BINARY", "BYTES"):
        return "binary"
    return base.lower()


def declared_family(column: Column) -> tuple[str | None, str]:
    """``(family, how it is declared)``: the family the column promises (None: no type to check) and the
    declaration in the contract's words (``integer (physicalType int)``)."""
    from tessera.storage.families import declared_type_family

    logical = column.logical_type or ""
    words = logical + (f" (physicalType {column.physical_type})" if column.physical_type else "")
    if not column.typed or (not logical and not column.physical_type):
        return None, ""
    try:
        family = declared_type_family(column)
    except Exception:  # a physical type the storage layer does not know: judge by the logical type
        family = None
    return family or _LOGICAL.get(logical) or (logical if logical in _ACCEPTS else None), words


def schema_checks(contract: Contract, types: Mapping[str, str], *, loose_text: bool = False) -> list[Check]:
    """``<column>.present`` and ``<column>.type`` for every declared column, in declaration order."""
    by_lower = {name.lower(): name for name in types}
    out: list[Check] = []
    for column in contract.columns:
        name = column.name
        found = name if name in types else by_lower.get(name.lower())
        present = Check(
            f"{name}.present",
            "present",
            name,
            "present",
            None,
            "passed" if found else "failed",
            "error",
            "" if found else f"column {name!r} is missing (the contract declares it)",
            unit="",
            dimension="conformity",
        )
        out.append(present)
        if found is None:
            continue
        family, words = declared_family(column)
        if family is None:
            continue
        data_type = types[found]
        got = found_family(data_type)
        ok = got in _ACCEPTS.get(family, frozenset({family})) or (loose_text and family == "string")
        message = "" if ok else f"column {name!r} is {data_type}, the contract declares {words}"
        out.append(
            Check(
                f"{name}.type",
                "type",
                name,
                words,
                None,
                "passed" if ok else "failed",
                "error",
                message,
                unit="",
                dimension="conformity",
            )
        )
    return out
