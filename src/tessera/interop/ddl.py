"""SQL DDL <-> ODCS: ``CREATE TABLE`` statements in any dialect sqlglot reads, one schema object per table.

Import keeps each column's declared type as ``physicalType`` and maps it to a logical type; ``NOT NULL``,
``PRIMARY KEY`` and ``UNIQUE`` become ``required``, ``primaryKey`` and ``unique``; column comments become
descriptions. Export writes one ``CREATE TABLE`` per schema object in the dialect asked for; quality rules and
value constraints (patterns, ranges) have no place in DDL and are reported as dropped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from tessera.errors import FormatError
from tessera.interop.model import Exported, ExportOptions, Imported, ImportOptions
from tessera.interop.odcs import contract_document, property_document, snake
from tessera.interop.types import logical_of, sql_type
from tessera.interop.walk import objects, properties, rule_fields
from tessera.model.sqltext import ident

__all__ = ["export_sql", "import_sql"]


def import_sql(source: str, options: ImportOptions) -> list[Imported]:
    text = Path(source).read_text(encoding="utf-8")
    dialect = options.dialect or None
    try:
        statements = sqlglot.parse(text, read=dialect)
    except ParseError as exc:
        raise FormatError(f"{source}: not SQL DDL sqlglot can read{_in(dialect)}: {_first(exc)}") from None
    except ValueError as exc:  # an unknown dialect name
        raise FormatError(f"--dialect {dialect}: {exc}") from None
    tables = [s for s in statements if isinstance(s, exp.Create) and s.kind == "TABLE"]
    tables = [t for t in tables if isinstance(t.this, exp.Schema)]
    if options.table:
        tables = [t for t in tables if _table_name(t).lower() == options.table.lower()]
    if not tables:
        which = f" named {options.table!r}" if options.table else ""
        raise FormatError(f"{source}: no CREATE TABLE statement{which} with columns{_in(dialect)}")
    objs = [_object(t, dialect) for t in tables]
    _apply_comments([s for s in statements if isinstance(s, exp.Comment)], objs)
    name = options.name or (_table_name(tables[0]) if len(tables) == 1 else Path(source).stem)
    doc = contract_document(name, objs[0]["properties"], table=_table_name(tables[0]))
    doc["schema"] = objs
    return [Imported(contract=doc, name=snake(name))]


def _apply_comments(comments: list[exp.Comment], objs: list[dict[str, Any]]) -> None:
    """``COMMENT ON TABLE|COLUMN ... IS '...'`` statements as descriptions of the tables and columns named."""
    by_name = {str(o.get("physicalName") or o["name"]).lower(): o for o in objs}
    for comment in comments:
        text = comment.expression.name if isinstance(comment.expression, exp.Literal) else None
        target = comment.this
        kind = str(comment.args.get("kind") or "").upper()
        if text is None:
            continue
        if kind == "TABLE" and isinstance(target, exp.Table) and target.name.lower() in by_name:
            by_name[target.name.lower()]["description"] = text
        elif kind == "COLUMN" and isinstance(target, exp.Column) and target.table.lower() in by_name:
            for prop in by_name[target.table.lower()]["properties"]:
                if str(prop.get("physicalName") or prop["name"]).lower() == target.name.lower():
                    prop["description"] = text


def _in(dialect: str | None) -> str:
    return f" in dialect {dialect}" if dialect else " (name its dialect with --dialect)"


def _first(exc: ParseError) -> str:
    return str(exc).splitlines()[0]


def _table_name(create: exp.Create) -> str:
    table = create.this.this
    return table.name if isinstance(table, exp.Table) else str(table)


def _object(create: exp.Create, dialect: str | None) -> dict[str, Any]:
    schema = create.this
    keys: list[str] = []
    for constraint in schema.expressions:
        if isinstance(constraint, exp.PrimaryKey):
            keys += [c.name for c in constraint.expressions]
        elif isinstance(constraint, exp.Constraint):
            for pk in constraint.find_all(exp.PrimaryKey):
                keys += [c.name for c in pk.expressions]
    props = [_column(c, keys, dialect) for c in schema.expressions if isinstance(c, exp.ColumnDef)]
    name = _table_name(create)
    obj: dict[str, Any] = {"name": snake(name)}
    if obj["name"] != name:
        obj["physicalName"] = name
    obj["physicalType"] = "table"
    comment = create.find(exp.SchemaCommentProperty)
    if comment is not None:
        obj["description"] = comment.this.name
    obj["properties"] = props
    return obj


def _column(column: exp.ColumnDef, keys: list[str], dialect: str | None) -> dict[str, Any]:
    kind = column.args.get("kind")
    kinds = {type(c.args.get("kind")) for c in column.constraints}
    inline_pk = exp.PrimaryKeyColumnConstraint in kinds
    primary = inline_pk or column.name in keys
    comment = next(
        (
            c.args["kind"].this.name
            for c in column.constraints
            if isinstance(c.args.get("kind"), exp.CommentColumnConstraint)
        ),
        None,
    )
    fields: dict[str, Any] = {
        "physicalType": kind.sql(dialect=dialect) if isinstance(kind, exp.DataType) else None,
        "description": comment,
        "required": True if primary or exp.NotNullColumnConstraint in kinds else None,
        "unique": True if exp.UniqueColumnConstraint in kinds else None,
        "primaryKey": True if primary else None,
        "primaryKeyPosition": (keys.index(column.name) + 1 if column.name in keys else 1)
        if primary
        else None,
    }
    not_null = [c for c in column.constraints if isinstance(c.args.get("kind"), exp.NotNullColumnConstraint)]
    if any(c.args["kind"].args.get("allow_null") for c in not_null):
        fields["required"] = None  # an explicit NULL
    logical = logical_of(kind) if isinstance(kind, exp.DataType) else "string"
    return property_document(column.name, logical, **fields)


def export_sql(document: dict[str, Any], options: ExportOptions) -> Exported:
    dialect = options.dialect
    try:
        sqlglot.Dialect.get_or_raise(dialect)
    except ValueError as exc:  # an unknown dialect name: said before anything is written
        raise FormatError(f"--dialect {dialect}: {exc}") from None
    statements, dropped = [], []
    for index, obj in objects(document):
        lines, keys = [], []
        for pindex, prop in properties(obj):
            path: tuple[str | int, ...] = ("schema", index, "properties", pindex)
            name = str(prop.get("physicalName") or prop.get("name"))
            column = f"{_quote(name, dialect)} {sql_type(prop, dialect)}"
            if prop.get("required") is True or prop.get("primaryKey") is True:
                column += " NOT NULL"
            if prop.get("unique") is True and prop.get("primaryKey") is not True:
                column += " UNIQUE"
            lines.append(column)
            if prop.get("primaryKey") is True:
                keys.append((int(prop.get("primaryKeyPosition") or 0), name))
            dropped += rule_fields(prop, path, frozenset({"unique", "maxLength"}))
            if prop.get("logicalType") == "object" and prop.get("properties"):
                dropped.append(f"schema[{index}].properties[{pindex}].properties (stored as JSON)")
        if keys:
            lines.append(f"PRIMARY KEY ({', '.join(_quote(n, dialect) for _, n in sorted(keys))})")
        if obj.get("quality"):
            dropped.append(f"schema[{index}].quality")
        table = _quote(str(obj.get("physicalName") or obj.get("name")), dialect)
        body = ",\n  ".join(lines)
        statements.append(f"CREATE TABLE {table} (\n  {body}\n);\n")
        statements.extend(_comments(obj, table, dialect))
    if not statements:
        raise FormatError("the contract has no schema object to write as a table")
    return Exported("\n".join(statements), tuple(dropped))


#: dialects that write descriptions as ``COMMENT ON`` statements (others have no such statement)
_COMMENT_ON = {"duckdb", "postgres", "snowflake", "oracle", "redshift", "trino", "databricks", "spark"}


def _comments(obj: dict[str, Any], table: str, dialect: str) -> list[str]:
    if dialect not in _COMMENT_ON:
        return []
    out = []
    if isinstance(obj.get("description"), str):
        out.append(f"COMMENT ON TABLE {table} IS {_literal(obj['description'], dialect)};\n")
    for _, prop in properties(obj):
        if isinstance(prop.get("description"), str):
            column = f"{table}.{_quote(str(prop.get('physicalName') or prop.get('name')), dialect)}"
            out.append(f"COMMENT ON COLUMN {column} IS {_literal(prop['description'], dialect)};\n")
    return out


def _literal(text: str, dialect: str) -> str:
    literal: str = exp.Literal.string(text).sql(dialect=dialect)
    return literal


def _quote(name: str, dialect: str) -> str:
    if dialect in {"duckdb", "postgres"}:
        return ident(name)
    quoted: str = exp.to_identifier(name, quoted=True).sql(dialect=dialect)
    return quoted
