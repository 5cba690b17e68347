"""Type mappings between ODCS logical types and SQL, Avro and JSON Schema (docs/interop.md has the table).

SQL types go through sqlglot, so a DDL in any dialect it reads maps the same way, and an exported column gets
its ``physicalType`` back when that type parses, else the logical type's usual SQL type.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp
from sqlglot.errors import ParseError

from tessera.interop.walk import mapping

__all__ = ["logical_from_sql", "sql_type"]

_T = exp.DataType.Type
_INTEGER = {
    _T.TINYINT, _T.SMALLINT, _T.INT, _T.BIGINT, _T.MEDIUMINT, _T.INT128, _T.INT256, _T.UTINYINT, _T.USMALLINT,
    _T.UINT, _T.UBIGINT, _T.UMEDIUMINT, _T.UINT128, _T.UINT256, _T.SERIAL, _T.BIGSERIAL, _T.SMALLSERIAL,
}  # fmt: skip
_NUMBER = {_T.DECIMAL, _T.DOUBLE, _T.FLOAT, _T.MONEY, _T.SMALLMONEY, _T.BIGDECIMAL, _T.UDECIMAL}
_TIMESTAMP = {
    _T.TIMESTAMP, _T.TIMESTAMPTZ, _T.TIMESTAMPLTZ, _T.TIMESTAMPNTZ, _T.DATETIME, _T.DATETIME64, _T.TIMESTAMP_S,
    _T.TIMESTAMP_MS, _T.TIMESTAMP_NS, _T.SMALLDATETIME, _T.DATETIME2,
}  # fmt: skip
_SIMPLE: dict[Any, str] = {
    _T.BOOLEAN: "boolean", _T.DATE: "date", _T.DATE32: "date", _T.TIME: "time", _T.TIMETZ: "time",
    _T.ARRAY: "array", _T.LIST: "array", _T.STRUCT: "object", _T.OBJECT: "object", _T.JSON: "object",
    _T.JSONB: "object", _T.VARIANT: "object", _T.MAP: "map", _T.VECTOR: "vector",
}  # fmt: skip


def parse_type(text: str, dialect: str | None = None) -> exp.DataType | None:
    """A type written in ``dialect`` as a sqlglot type, or None when it is not a SQL type."""
    try:
        built = exp.DataType.build(text.strip(), dialect=dialect or None, udt=False)
    except (ParseError, ValueError, KeyError, TypeError):
        return None
    return built if isinstance(built, exp.DataType) else None


def logical_of(kind: exp.DataType) -> str:
    """The ODCS logical type of a SQL type (text for anything not numeric, temporal or nested)."""
    this = kind.this
    if this in _INTEGER:
        return "integer"
    if this in _NUMBER:
        if this == _T.DECIMAL and kind.expressions and len(kind.expressions) == 2:
            scale = kind.expressions[1].this
            if isinstance(scale, exp.Literal) and str(scale.this) == "0":
                return "integer" if int(str(kind.expressions[0].this.this)) <= 18 else "number"
        return "number"
    if this in _TIMESTAMP:
        return "timestamp"
    return _SIMPLE.get(this, "string")


def logical_from_sql(text: str, dialect: str | None = None) -> str:
    kind = parse_type(text, dialect)
    return logical_of(kind) if kind is not None else "string"


_DEFAULT_SQL = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "time": "TIME",
    "object": "JSON",
    "map": "JSON",
    "array": "JSON",
    "vector": "JSON",
}


def sql_type(prop: dict[str, Any], dialect: str) -> str:
    """The column type of an ODCS property in ``dialect``, from its logical type refined by what of its
    ``physicalType`` carries across dialects: integer width, decimal precision and scale, a string's length,
    single or double precision, a time zone, binary or UUID storage."""
    logical = str(prop.get("logicalType") or "string")
    physical = prop.get("physicalType")
    kind = parse_type(physical) if isinstance(physical, str) else None
    if kind is not None and logical_of(kind) != logical:
        kind = None
    options = mapping(prop.get("logicalTypeOptions"))
    if logical == "array" and isinstance(prop.get("items"), dict) and dialect in {"duckdb", "postgres"}:
        return f"{sql_type(prop['items'], dialect)}[]"
    return _render(_portable(logical, kind, options), dialect)


_WIDTHS = {_T.TINYINT: "TINYINT", _T.SMALLINT: "SMALLINT", _T.INT: "INT", _T.BIGINT: "BIGINT"}
_BINARY = {_T.BINARY, _T.VARBINARY}


def _portable(logical: str, kind: exp.DataType | None, options: dict[str, Any]) -> exp.DataType:
    this = kind.this if kind is not None else None
    params = [p.this for p in kind.expressions] if kind is not None else []
    sizes = [int(str(p.this)) for p in params if isinstance(p, exp.Literal) and str(p.this).isdigit()]
    if logical == "integer":
        return exp.DataType.build(_WIDTHS.get(this, "BIGINT") if this is not None else "BIGINT")
    if logical == "number":
        if this == _T.DECIMAL and len(sizes) == len(params) and sizes:
            return exp.DataType.build(f"DECIMAL({', '.join(map(str, sizes))})")
        return exp.DataType.build("REAL" if this == _T.FLOAT else "DOUBLE")
    if logical == "string":
        if this in _BINARY or (
            this is not None and this.name in {"BLOB", "LONGBLOB", "MEDIUMBLOB", "TINYBLOB"}
        ):
            return exp.DataType.build("VARBINARY")
        if this == _T.UUID:
            return exp.DataType.build("UUID")
        length = options.get("maxLength") if isinstance(options.get("maxLength"), int) else None
        if this in {_T.VARCHAR, _T.NVARCHAR, _T.CHAR, _T.NCHAR} and len(sizes) == 1 and len(params) == 1:
            length = sizes[0]
        return exp.DataType.build(f"VARCHAR({length})" if length else "VARCHAR")
    if logical == "timestamp":
        zoned = this in {_T.TIMESTAMPTZ, _T.TIMESTAMPLTZ} or options.get("timezone") is True
        return exp.DataType.build("TIMESTAMPTZ" if zoned else "TIMESTAMP")
    return exp.DataType.build(_DEFAULT_SQL.get(logical, "VARCHAR"))


def _render(kind: exp.DataType, dialect: str) -> str:
    text: str = kind.sql(dialect=dialect)
    return text
