"""Which tables a SQL statement reads: DuckDB's own parser first (cheap), sqlglot when DuckDB needs the
tables to exist to answer (``JOIN … USING`` binds)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

__all__ = ["table_names", "tables_read"]

_NAME = re.compile(
    r'^((?:"[^"]+"|[A-Za-z_][A-Za-z0-9_]*)(?:\.(?:"[^"]+"|[A-Za-z_][A-Za-z0-9_]*)){0,2})(?:\s+AS\s+.*)?$',
    re.I,
)


def _unquote(name: str) -> str:
    return ".".join(part.strip('"') for part in name.split("."))


def tables_read(statements: Iterable[Any]) -> list[str]:
    """Qualified table names that parsed sqlglot statements read, lower case, CTE names left out, in order."""
    from sqlglot import exp

    parsed = [s for s in statements if s is not None]
    ctes = {cte.alias_or_name.lower() for statement in parsed for cte in statement.find_all(exp.CTE)}
    out: list[str] = []
    for statement in parsed:
        for table in statement.find_all(exp.Table):
            name = ".".join(p for p in (table.catalog, table.db, table.name) if p).lower()
            if table.name and name not in ctes and name not in out:
                out.append(name)
    return out


def _duckdb_names(sql: str) -> set[str] | None:
    """DuckDB's own answer; None when it cannot give one without binding (``JOIN … USING``)."""
    import duckdb

    try:
        found = duckdb.connect().get_table_names(sql, qualified=True)
    except duckdb.Error:
        return None
    return {_unquote(m[1]).lower() for name in found if (m := _NAME.match(name.strip()))}


def table_names(sql: str) -> set[str]:
    """Qualified names (``sales.orders``, ``source.crm.customers``) the statement reads, lower case."""
    found = _duckdb_names(sql)
    if found is not None:
        return found
    import sqlglot

    try:
        return set(tables_read(sqlglot.parse(sql, read="duckdb")))
    except sqlglot.errors.ParseError:
        return set()
