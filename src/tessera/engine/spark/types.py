"""Spark's types, both ways: a Spark column type as DuckDB names it (the quality gate plans in DuckDB's
terms), a Spark schema as Arrow (what the contract check compares), and a contract's Arrow type as the DuckDB
SQL type a cast on the cluster names (the dialect every engine takes)."""

from __future__ import annotations

import re
from typing import Any

import pyarrow as pa

from tessera.errors import DataError

__all__ = ["arrow_schema", "duckdb_type", "spark_type"]

_TYPES = {
    "string": "VARCHAR",
    "bigint": "BIGINT",
    "int": "INTEGER",
    "smallint": "SMALLINT",
    "tinyint": "TINYINT",
    "boolean": "BOOLEAN",
    "double": "DOUBLE",
    "float": "FLOAT",
    "date": "DATE",
    "timestamp": "TIMESTAMP WITH TIME ZONE",
    "timestamp_ntz": "TIMESTAMP",
    "binary": "BLOB",
}


def spark_type(simple: str) -> str:
    """A Spark type (``simpleString``) named as DuckDB names it: the quality gate plans in DuckDB's terms."""
    lowered = simple.lower()
    if lowered.startswith(("varchar", "char")):
        return "VARCHAR"
    return _TYPES.get(lowered, simple.upper())


def duckdb_type(t: pa.DataType) -> str:
    """An Arrow type of the contract's schema as a DuckDB SQL type (the dialect every engine takes)."""
    simple = {
        pa.string(): "VARCHAR",
        pa.large_string(): "VARCHAR",
        pa.int8(): "TINYINT",
        pa.int16(): "SMALLINT",
        pa.int32(): "INTEGER",
        pa.int64(): "BIGINT",
        pa.float32(): "FLOAT",
        pa.float64(): "DOUBLE",
        pa.bool_(): "BOOLEAN",
        pa.date32(): "DATE",
    }
    if t in simple:
        return simple[t]
    if pa.types.is_decimal(t):
        return f"DECIMAL({t.precision}, {t.scale})"
    if pa.types.is_timestamp(t):
        return "TIMESTAMP WITH TIME ZONE" if t.tz else "TIMESTAMP"
    raise DataError(f"type {t} cannot be written from Spark")


_ARROW: dict[str, pa.DataType] = {
    "string": pa.string(),
    "bigint": pa.int64(),
    "int": pa.int32(),
    "smallint": pa.int16(),
    "tinyint": pa.int8(),
    "boolean": pa.bool_(),
    "double": pa.float64(),
    "float": pa.float32(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "timestamp_ntz": pa.timestamp("us"),
    "binary": pa.binary(),
    "void": pa.null(),
}


def arrow_schema(schema: Any) -> pa.Schema:
    """A Spark schema as Arrow (the types the contract check compares); nested types pass as they are."""
    fields = []
    for field in schema.fields:
        simple = field.dataType.simpleString().lower()
        decimal = re.fullmatch(r"decimal\((\d+),\s*(\d+)\)", simple)
        typ = pa.decimal128(int(decimal[1]), int(decimal[2])) if decimal else _ARROW.get(simple)
        if typ is None:
            raise DataError(f"column {field.name!r} is {simple}: Spark frames publish flat columns only")
        fields.append(pa.field(field.name, typ))
    return pa.schema(fields)
