"""DuckDB's refusals of a reader's SQL as plain messages: which product, column, alias or function is unknown,
and the closest name the reader may use ("did you mean sales.orders?").

The caller passes the names its reader may know: the product addresses it may read and the columns of the
products in the query, so a suggestion never names a product the reader cannot see. DuckDB's own suggestions
are used only for aliases, bindings and functions, which come from the query itself or the engine, never for
tables (its catalog holds the reader's internal relations). Errors of other kinds keep the engine's message."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence

from tessera.errors import QueryError
from tessera.model.suggest import closest, did_you_mean

__all__ = ["explain", "explained", "shown_sql"]

_TABLE = re.compile(r'^Catalog Error: Table with name "?(.+?)"? does not exist')
_COLUMN = re.compile(r'^Binder Error: Referenced column "(.+?)" not found')
_TABLE_COLUMN = re.compile(
    r'^Binder Error: (?:Table|Values list) "(.+?)" does not have a column named "(.+?)"'
)
_ALIAS = re.compile(r'^Binder Error: Referenced table "(.+?)" not found')
_FUNCTION = re.compile(
    r"^Catalog Error: (?:Scalar |Aggregate |Table )?Function with name (\S+) does not exist"
)
_SYNTAX = re.compile(r'^Parser Error: syntax error at or near "(.+?)"')
_QUOTED = re.compile(r'"([^"]+)"')

#: Words a misspelt first word of a clause is compared with.
_KEYWORDS = (
    "SELECT", "FROM", "WHERE", "GROUP", "ORDER", "BY", "HAVING", "LIMIT", "JOIN", "LEFT", "RIGHT", "INNER",
    "OUTER", "ON", "USING", "UNION", "DISTINCT", "WITH", "AS", "AND", "OR", "NOT", "CASE", "WHEN", "THEN",
    "ELSE", "END", "OFFSET", "QUALIFY", "WINDOW", "OVER", "PARTITION", "BETWEEN", "LIKE", "IN", "IS", "NULL",
)  # fmt: skip


def shown_sql(sql: str) -> str:
    """The query as an error quotes it: one line, at most 300 characters."""
    shown = " ".join(sql.split())
    return f"{shown[:300]}{'…' if len(shown) > 300 else ''}"


def _candidates(lines: Sequence[str], label: str) -> list[str]:
    """The names DuckDB lists after ``label`` (``Candidate bindings``) in the rest of its message; never an
    internal name (``__tessera…``: the reader's raw relations)."""
    found = (n for line in lines if line.strip().startswith(label) for n in _QUOTED.findall(line))
    return [n for n in found if not n.startswith("__")]


def _full_name(name: str, tables: Iterable[str], products: Collection[str]) -> str:
    """DuckDB names only the table part when the schema exists: the query's own name for it."""
    lowered = name.lower()
    for table in tables:
        if table not in products and (table == lowered or table.endswith(f".{lowered}")):
            return table
    return name


def _product_hint(name: str, products: Collection[str]) -> str:
    if "." not in name:  # an unqualified name: the products called (nearly) that, in any domain
        by_name: dict[str, str] = {}
        for address in sorted(products):
            by_name.setdefault(address.rsplit(".", 1)[-1], address)
        if hits := closest(name, by_name):
            return f"; did you mean {by_name[hits[0]]}?"
    return did_you_mean(name, products)


def explain(
    message: str,
    sql: str,
    *,
    products: Collection[str],
    columns: Mapping[str, Sequence[str]],
    tables: Iterable[str] = (),
) -> str | None:
    """A plain message for DuckDB's ``message`` about ``sql`` (None: not a kind this knows; keep the engine's).
    ``products``: the addresses the reader may read; ``columns``: each product in the query → its columns;
    ``tables``: the table names the query reads, as written."""
    lines = message.strip().splitlines()
    first, rest = (lines[0], lines[1:]) if lines else ("", [])
    where = f"\n  in: {shown_sql(sql)}"
    if found := _TABLE.match(first):
        name = _full_name(found[1], tables, products)
        hint = _product_hint(name, products) or " (read products as domain.product)"
        return f"no product {name!r} in this mesh{hint}{where}"
    named = _TABLE_COLUMN.match(first)
    if found := (named or _COLUMN.match(first)):
        column = found[2] if named else found[1]
        known = [c for cols in columns.values() for c in cols] + _candidates(rest, "Candidate bindings")
        place = f"table {found[1]}" if named else ", ".join(columns) or "the query's tables"
        return f"no column {column!r} in {place}{did_you_mean(column, known, what='column ')}{where}"
    if found := _ALIAS.match(first):
        hint = did_you_mean(found[1], _candidates(rest, "Candidate tables"))
        return f"no table or alias {found[1]!r} in the query{hint}{where}"
    if found := _FUNCTION.match(first):
        offered = _candidates(rest, "Did you mean")
        hint = f"; did you mean {offered[0]}()?" if offered else ""
        return f"no function {found[1]}(){hint}{where}"
    if found := _SYNTAX.match(first):
        near = found[1]
        hits = closest(near.upper(), _KEYWORDS, cutoff=0.7) if near.upper() not in _KEYWORDS else []
        hint = f"; did you mean {hits[0]}?" if hits else ""
        return f"the SQL does not parse: syntax error at or near {near!r}{hint}{where}"
    return None


def explained(
    exc: QueryError, sql: str, *, products: Collection[str], columns: Mapping[str, Sequence[str]]
) -> QueryError:
    """``exc`` with a plain message when :func:`explain` knows its kind; else ``exc`` itself."""
    from tessera.engine.names import table_names

    try:
        tables: Iterable[str] = sorted(table_names(sql))
    except Exception:  # names only sharpen the message; the error stands without them
        tables = ()
    text = explain(exc.detail or str(exc), sql, products=products, columns=columns, tables=tables)
    return exc if text is None else QueryError(text, exc.detail)
