"""A PostgreSQL table -> ODCS, read from ``pg_catalog`` with psycopg (the ``postgres`` extra).

The source is a connection URL (``postgresql://host:5432/db``) and ``--table [schema.]name``. Credentials come
from libpq's environment (``PGUSER``, ``PGPASSWORD``, ``~/.pgpass``) and are never written to the contract: its
``servers`` entry names host, port, database and schema only. Types are PostgreSQL's own (``format_type``) as
``physicalType``; ``NOT NULL``, primary keys, single-column unique constraints and comments are kept.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from tessera.errors import FormatError, NotFoundError
from tessera.interop.model import Imported, ImportOptions
from tessera.interop.odcs import contract_document, property_document, snake
from tessera.interop.types import logical_from_sql

__all__ = ["import_postgres"]

_COLUMNS = """
SELECT a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, col_description(c.oid, a.attnum)
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""
_TABLE = """
SELECT c.oid, c.relkind, obj_description(c.oid, 'pg_class')
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %s AND c.relname = %s
"""
_KEYS = "SELECT contype, conkey FROM pg_catalog.pg_constraint WHERE conrelid = %s AND contype IN ('p', 'u')"
_KINDS = {"r": "table", "p": "table", "v": "view", "m": "materialized view", "f": "foreign table"}


def import_postgres(source: str, options: ImportOptions) -> list[Imported]:
    try:
        import psycopg
    except ImportError:
        raise FormatError(
            "importing from PostgreSQL needs psycopg: pip install 'tessera[postgres]'"
        ) from None
    try:
        url = urlsplit(source)
        url.port  # noqa: B018 -- parsed now: a bad port or host is the user's mistake, said as one
    except ValueError as exc:
        raise FormatError(f"{_safe(source)}: not a PostgreSQL URL ({exc})") from None
    if url.scheme not in {"postgres", "postgresql"}:
        raise FormatError(f"{_safe(source)}: a PostgreSQL source is a URL postgresql://host:port/database")
    if not options.table:
        raise FormatError("name the table to import with --table [schema.]name")
    schema, _, table = options.table.rpartition(".")
    schema = schema or "public"
    try:
        with psycopg.connect(source, connect_timeout=10) as conn:
            found = conn.execute(_TABLE, (schema, table)).fetchone()
            if found is None:
                raise NotFoundError(f"table {schema}.{table} not found in {_safe(source)}")
            oid, kind, comment = found
            columns = conn.execute(_COLUMNS, (schema, table)).fetchall()
            keys = conn.execute(_KEYS, (oid,)).fetchall()
    except psycopg.Error as exc:
        raise FormatError(f"{_safe(source)}: {str(exc).strip().splitlines()[0]}") from None
    primary = [int(n) for t, k in keys if t == "p" for n in k]
    unique = {int(k[0]) for t, k in keys if t == "u" and len(k) == 1}
    props = [_column(row, primary, unique) for row in columns]
    name = options.name or table
    server = {"server": "postgres", "type": "postgres", "host": url.hostname or "localhost",
              "port": url.port or 5432, "database": url.path.lstrip("/") or "postgres", "schema": schema}  # fmt: skip
    doc = contract_document(name, props, table=table, table_description=comment, extra={"servers": [server]})
    doc["schema"][0]["physicalType"] = _KINDS.get(str(kind), "table")
    return [Imported(contract=doc, name=snake(name))]


def _column(row: tuple[Any, ...], primary: list[int], unique: set[int]) -> dict[str, Any]:
    number, name, kind, not_null, comment = row
    is_key = number in primary
    fields: dict[str, Any] = {
        "physicalType": kind,
        "description": comment,
        "required": True if not_null or is_key else None,
        "unique": True if number in unique else None,
        "primaryKey": True if is_key else None,
        "primaryKeyPosition": primary.index(number) + 1 if is_key else None,
    }
    return property_document(name, logical_from_sql(kind, "postgres"), **fields)


_PASSWORD_PARAMETER = re.compile(r"(?i)(password\s*=\s*)('[^']*'|[^&\s]*)")


def _safe(source: str) -> str:
    """The URL without its password, for messages: neither ``user:secret@`` nor ``?password=secret`` (nor a
    ``password=`` of a connection string given where a URL was expected)."""
    text = _PASSWORD_PARAMETER.sub(r"\1***", source)
    try:
        password = urlsplit(text).password
    except ValueError:
        return re.sub(r"//[^/@]*@", "//***@", text)
    return text if password is None else text.replace(f":{password}@", ":***@", 1)
