"""Which tables a SQL statement reads: DuckDB's own parser first (cheap), sqlglot when DuckDB needs the
tables to exist to answer (``JOIN … USING`` binds)."""

from __future__ import annotations

import re

__all__ = ["table_names"]

_NAME = re.compile(
    r'^((?:"[^"]+"|[A-Za-z_][A-Za-z0-9_]*)(?:\.(?:"[^"]+"|[A-Za-z_][A-Za-z0-9_]*)){0,2})(?:\s+AS\s+.*)?$',
    re.I,
)


def _unquote(name: str) -> str:
    return ".".join(part.strip('"') for part in name.split("."))


def table_names(sql: str) -> set[str]:
    """Qualified names (``sales.orders``, ``source.crm.customers``) the statement reads, lower case."""
    import duckdb

    try:
        found = duckdb.connect().get_table_names(sql, qualified=True)
        out = set()
        for name in found:
            match = _NAME.match(name.strip())
            if match:
                out.add(_unquote(match[1]).lower())
        return out
    except duckdb.Error:
        pass
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse(sql, read="duckdb")
    except sqlglot.errors.ParseError:
        return set()
    ctes = {
        cte.alias_or_name.lower() for statement in tree if statement for cte in statement.find_all(exp.CTE)
    }
    out = set()
    for statement in tree:
        if statement is None:
            continue
        for table in statement.find_all(exp.Table):
            parts = [p for p in (table.catalog, table.db, table.name) if p]
            name = ".".join(parts).lower()
            if name and name not in ctes:
                out.add(name)
    return out
