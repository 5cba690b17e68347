"""Contract ↔ Arrow: the table schema a contract promises, and conforming candidate data to it.

Casts happen only where they are lossless (pyarrow's safe casts between types of one family: wider integers,
integers to decimals and floats, wider decimals, timestamp units and zones, dates to timestamps). Anything
else is refused with the column, the type found and the type promised."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from tessera.errors import DataError
from tessera.model.contract import Column, Contract

__all__ = [
    "METADATA_COLUMNS",
    "arrow_family",
    "arrow_type",
    "conform_reader",
    "conform_table",
    "contract_schema",
    "physical_arrow_type",
    "target_schema",
]

#: The seed's provenance columns, added to every published row.
METADATA_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("_product_name", pa.string()),
    ("_product_version", pa.string()),
    ("_domain", pa.string()),
    ("_publish_timestamp", pa.timestamp("us", tz="UTC")),
)

_INT_WIDTHS: dict[str, pa.DataType] = {
    "tinyint": pa.int8(),
    "int8": pa.int8(),
    "byte": pa.int8(),
    "smallint": pa.int16(),
    "int16": pa.int16(),
    "short": pa.int16(),
    "int": pa.int32(),
    "int32": pa.int32(),
    "integer": pa.int32(),
    "bigint": pa.int64(),
    "int64": pa.int64(),
    "long": pa.int64(),
}
_DECIMAL = re.compile(r"^\s*(?:decimal|numeric|number)\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)\s*$", re.I)


def arrow_type(column: Column) -> pa.DataType | None:
    """The Arrow (Delta-compatible) type a column promises; None for nested types that pass through.

    ``physicalType`` decides when Tessera can read it (``physical_arrow_type``): ODCS puts the storage type
    there and the logical type beside it, so ``logicalType: date, physicalType: timestamp`` is a timestamp
    column. Decimal precision and scale (from the physical type or ``tessera.precision``) decide a number."""
    if column.precision is not None:
        return pa.decimal128(column.precision, column.scale or 0)
    physical = physical_arrow_type(column.physical_type) if column.physical_type else None
    if physical is not None:
        return physical
    kind = column.logical_type
    if kind == "string":
        return pa.string()
    if kind == "boolean":
        return pa.bool_()
    if kind == "date":
        return pa.date32()
    if kind == "timestamp":
        return _TIMESTAMP
    if kind == "integer":
        return pa.int64()
    if kind == "number":
        return pa.float64()
    return None


_TIMESTAMP = pa.timestamp("us", tz="UTC")
#: SQL dialects a physical type is tried in, in order, when the generic parser does not know it.
_DIALECTS = (None, "duckdb", "postgres", "tsql", "snowflake", "spark", "bigquery")


@functools.lru_cache(maxsize=512)
def physical_arrow_type(text: str) -> pa.DataType | None:
    """The Arrow type of a ``physicalType`` written as a SQL type (any sqlglot dialect: ``bigint``,
    ``varchar(20)``, ``timestamptz``, ``decimal(12,2)``, ``double precision``, ``string``, ``int64`` ...);
    None when it names no flat type Tessera stores (``json``, ``array<int>``, ``time``, ``table``, unknown).

    Every timestamp (with or without a zone) is stored as UTC microseconds, as Delta's ``timestamp`` is;
    ``float``/``real`` are 4-byte floats; unsigned integers take the next wider signed type."""
    name = " ".join(text.strip().lower().split())
    if name in _INT_WIDTHS:
        return _INT_WIDTHS[name]
    match = _DECIMAL.match(name)
    if match:
        return pa.decimal128(int(match[1]), int(match[2] or 0))
    return _parsed_type(name)


def _parsed_type(name: str) -> pa.DataType | None:
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    for dialect in _DIALECTS:
        try:
            parsed = exp.DataType.build(name, dialect=dialect)
        except (SqlglotError, ValueError):
            continue
        if parsed.this != exp.DataType.Type.USERDEFINED:
            return _SQL_TYPES.get(parsed.this.name) or _sized(parsed)
    return None


def _sized(parsed: Any) -> pa.DataType | None:
    """A decimal with its precision and scale (``number(10,2)``, ``numeric(18)``); None for other types."""
    from sqlglot import exp

    if parsed.this not in exp.DataType.REAL_TYPES or not parsed.expressions:
        return None
    try:
        sizes = [int(e.sql()) for e in parsed.expressions]
    except ValueError:
        return None
    return pa.decimal128(sizes[0], sizes[1] if len(sizes) > 1 else 0) if 0 < sizes[0] <= 38 else None


_SQL_TYPES: dict[str, pa.DataType] = {
    **dict.fromkeys(
        ("CHAR", "NCHAR", "VARCHAR", "NVARCHAR", "TEXT", "TINYTEXT", "MEDIUMTEXT", "LONGTEXT", "NAME", "UUID"),
        pa.string(),
    ),
    **dict.fromkeys(("TINYINT", "BIT"), pa.int8()),
    **dict.fromkeys(("SMALLINT", "UTINYINT"), pa.int16()),
    **dict.fromkeys(("INT", "MEDIUMINT", "USMALLINT", "UMEDIUMINT"), pa.int32()),
    **dict.fromkeys(("BIGINT", "UINT"), pa.int64()),
    **dict.fromkeys(("UBIGINT",), pa.decimal128(20, 0)),
    **dict.fromkeys(("INT128", "UINT128"), pa.decimal128(38, 0)),
    **dict.fromkeys(("FLOAT",), pa.float32()),
    **dict.fromkeys(("DOUBLE", "UDOUBLE"), pa.float64()),
    **dict.fromkeys(("BOOLEAN",), pa.bool_()),
    **dict.fromkeys(("DATE", "DATE32"), pa.date32()),
    **dict.fromkeys(
        (
            "TIMESTAMP", "TIMESTAMPTZ", "TIMESTAMPLTZ", "TIMESTAMPNTZ", "DATETIME", "DATETIME2",
            "DATETIME64", "SMALLDATETIME", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS",
        ),
        _TIMESTAMP,
    ),
    **dict.fromkeys(("BINARY", "VARBINARY", "BLOB", "LONGBLOB", "MEDIUMBLOB", "TINYBLOB"), pa.binary()),
}  # fmt: skip


def contract_schema(contract: Contract) -> pa.Schema:
    fields = []
    for column in contract.columns:
        typ = arrow_type(column)
        fields.append(
            pa.field(column.name, typ if typ is not None else pa.null(), nullable=not column.required)
        )
    return pa.schema(fields)


def arrow_family(t: pa.DataType) -> str | None:
    """The logical family of an Arrow type (integer, number, string, boolean, date, timestamp, time, binary),
    or None for the others (nested, null): what a contract's type is compared with."""
    if pa.types.is_integer(t):
        return "integer"
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "number"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "string"
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_timestamp(t):
        return "timestamp"
    if pa.types.is_time(t):
        return "time"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return "binary"
    return None


_CAST_FAMILY = {"integer": "int", "number": "num", "string": "str", "date": "time", "timestamp": "time"}


def _family(t: pa.DataType) -> str:
    """The families a publish casts within (a date and a timestamp are one: both are points in time)."""
    if pa.types.is_null(t):
        return "null"
    family = arrow_family(t)
    if family == "boolean":
        return "bool"
    return _CAST_FAMILY.get(family or "", str(t))


def _castable(found: pa.DataType, wanted: pa.DataType) -> bool:
    a, b = _family(found), _family(wanted)
    if a == "str" and pa.types.is_decimal(wanted):
        return True  # decimals travel as strings in JSON/CSV; parsed exactly or refused by the safe cast
    if a in {"null", b}:
        if a == "time" and pa.types.is_timestamp(found) and pa.types.is_date(wanted):
            return False  # timestamp → date drops the time of day
        if pa.types.is_floating(found) and pa.types.is_decimal(wanted):
            return True  # checked value by value by the safe cast below
        return True
    return a == "int" and b == "num"


def target_schema(source: pa.Schema, contract: Contract) -> pa.Schema:
    """The schema data of ``source`` schema is conformed to: the contract's columns, each of a type the data's
    can be cast to without loss (type families only; values are checked when cast). A DataError lists every
    column that cannot conform."""
    return _target_schema(source, contract)


def _target_schema(source: pa.Schema, contract: Contract) -> pa.Schema:
    problems: list[str] = []
    fields: list[pa.Field] = []
    present = {name.lower(): name for name in source.names}
    for column in contract.columns:
        name = present.get(column.name.lower())
        wanted = arrow_type(column)
        if name is None:
            problems.append(f"column {column.name!r} is missing (the contract declares it)")
            continue
        found = source.field(name).type
        if wanted is None:
            wanted = found
        elif found != wanted and not _castable(found, wanted):
            problems.append(
                f"column {column.name!r} is {found}, the contract promises {wanted} ({column.logical_type})"
            )
        fields.append(pa.field(column.name, wanted, nullable=True))
    extra = [n for n in source.names if n.lower() not in {c.name.lower() for c in contract.columns}]
    extra = [n for n in extra if not n.startswith("_product_") and n not in {"_domain", "_publish_timestamp"}]
    if extra:
        problems.append(f"columns not in the contract: {', '.join(map(repr, extra))}")
    if problems:
        raise DataError("the data does not conform to the contract:\n  " + "\n  ".join(problems))
    return pa.schema(fields)


def _lossy_sample(original: pa.Array | pa.ChunkedArray, cast: pa.Array | pa.ChunkedArray) -> str | None:
    """The first value (as shown to the user) that does not survive the cast and back unchanged, or None."""
    import pyarrow.compute as pc

    try:
        back = cast.cast(original.type, safe=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        return f"a value that cannot be cast back ({exc})"  # no way back means the cast lost something
    differs = pc.fill_null(pc.not_equal(back, original), False)
    if not pc.any(differs).as_py():
        return None
    return repr(pc.filter(original, differs)[0].as_py())


def _relabelled_zone(source: pa.DataType, target: pa.DataType) -> bool:
    """Both zone-aware timestamps of the same unit: the values stay, only the zone's name changes."""
    return (
        pa.types.is_timestamp(source)
        and pa.types.is_timestamp(target)
        and source.unit == target.unit
        and source.tz is not None
        and target.tz is not None
    )


def _cast(array: pa.Array | pa.ChunkedArray, field: pa.Field) -> pa.Array | pa.ChunkedArray:
    """A lossless cast, judged on the values: integers become decimals when every value fits, floats only
    when every value is exactly representable, decimal strings when none needs rounding."""
    if array.type == field.type:
        return array
    if _relabelled_zone(array.type, field.type):
        # Zone-aware timestamps hold UTC instants; the zone is a label (Etc/UTC from DuckDB, UTC in the
        # contract): relabel without a cast, which would load pyarrow.compute (~0.15 s of a build) for nothing.
        if isinstance(array, pa.ChunkedArray):
            return pa.chunked_array([chunk.view(field.type) for chunk in array.chunks], type=field.type)
        return array.view(field.type)
    source = array
    try:
        if pa.types.is_decimal(field.type) and pa.types.is_integer(array.type):
            source = array.cast(pa.decimal128(38, 0))
        cast = source.cast(field.type, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise DataError(
            f"column {field.name!r}: cannot cast {array.type} to {field.type} without loss: {exc}"
        ) from None
    numeric = (pa.types.is_floating(t) or pa.types.is_decimal(t) for t in (array.type, field.type))
    if any(numeric) and not pa.types.is_string(array.type):
        lost = _lossy_sample(array, cast)
        if lost is not None:
            raise DataError(
                f"column {field.name!r}: {lost} does not fit {field.type} without rounding; "
                "round the data or widen the contract's scale"
            )
    return cast


def conform_table(table: pa.Table, contract: Contract) -> pa.Table:
    """Select, rename and safely cast a table's columns to the contract (zero-copy where types match)."""
    target = _target_schema(table.schema, contract)
    by_lower = {name.lower(): i for i, name in enumerate(table.schema.names)}
    columns = [_cast(table.column(by_lower[f.name.lower()]), f) for f in target]
    return pa.Table.from_arrays(columns, schema=target)


def conform_reader(reader: pa.RecordBatchReader, contract: Contract) -> pa.RecordBatchReader:
    """Select, rename and safely cast the candidate's columns to the contract, batch by batch (streaming)."""
    source = reader.schema
    target = _target_schema(source, contract)
    by_lower = {name.lower(): i for i, name in enumerate(source.names)}
    indexes = [by_lower[f.name.lower()] for f in target]

    def batches() -> Iterator[pa.RecordBatch]:
        for batch in reader:
            arrays = []
            for index, field in zip(indexes, target, strict=True):
                arrays.append(_cast(batch.column(index), field))
            yield pa.RecordBatch.from_arrays(arrays, schema=target)

    return pa.RecordBatchReader.from_batches(target, batches())
