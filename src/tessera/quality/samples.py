"""A few failing rows for a failed check, as JSON-friendly dicts, with sensitive columns left out.

A failed check has a row-level predicate (nulls, constraints, invalid or missing values) or a key whose
duplicates can be shown. On DuckDB the failed checks with a predicate share ONE bounded query
(``failing_samples``): the first rows failing any of them, in scan order, give each check the same rows a
``LIMIT`` query of its own gives, in one scan at most instead of one per check; a check whose failing rows are
too rare to be among them asks on its own. Each key shows its duplicates with its own small ``LIMIT`` query
(``sample_rows``), as does every check on another engine. Fetching samples never
fails a run: an error here just means no samples."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from typing import Any

from tessera.engine import Engine
from tessera.model.sqltext import qualified
from tessera.quality.plan import PlannedCheck
from tessera.quality.sql import quote_ident

__all__ = ["failing_samples", "jsonable", "sample_query", "sample_rows"]


def jsonable(value: Any) -> Any:
    """Decimals, timestamps, UUIDs and the like become strings; bytes become hex; containers recurse."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return str(value)


def sample_query(plan: PlannedCheck, relation: str, columns: Sequence[str], limit: int) -> str | None:
    """The query selecting up to ``limit`` failing rows of ``plan``, or None when it has no row-level form."""
    if limit <= 0 or not columns:
        return None
    source = qualified(relation)
    if plan.violation is not None:
        select = ", ".join(quote_ident(c) for c in columns)
        return f"SELECT {select} FROM {source} WHERE {plan.violation} LIMIT {limit}"
    keys = plan.duplicate_keys
    if not keys:
        return None
    select = ", ".join(f"r.{quote_ident(c)}" for c in columns)
    non_null = f" WHERE {keys[0]} IS NOT NULL" if len(keys) == 1 else ""
    join = " AND ".join(f"r.{k} IS NOT DISTINCT FROM d.{k}" for k in keys)
    order = ", ".join(f"r.{k}" for k in keys)
    duplicated = (
        f"SELECT {', '.join(keys)} FROM {source}{non_null} GROUP BY {', '.join(keys)} HAVING count(*) > 1"
    )
    return (
        f"SELECT {select} FROM {source} AS r SEMI JOIN ({duplicated}) AS d ON {join} "
        f"ORDER BY {order} LIMIT {limit}"
    )


def sample_rows(
    engine: Engine, relation: str, plan: PlannedCheck, columns: Sequence[str], limit: int
) -> tuple[dict[str, Any], ...]:
    query = sample_query(plan, relation, columns, limit)
    if query is None:
        return ()
    try:
        rows = engine.fetch_dicts(query)
    except Exception:
        return ()
    return tuple({k: jsonable(v) for k, v in row.items()} for row in rows[:limit])


Samples = tuple[dict[str, Any], ...]

_AT = "__tessera_sample_at"
#: Rows the shared sample query reads at most: the first rows failing any of the checks, in scan order.
SHARED_ROWS = 1000


def failing_samples(
    engine: Engine, relation: str, plans: Sequence[PlannedCheck], columns: Sequence[str], limit: int
) -> list[Samples]:
    """Up to ``limit`` failing rows for each of ``plans`` (failed checks), in their order."""
    shared: dict[int, Samples] = {}
    predicates = [i for i, p in enumerate(plans) if p.violation is not None]
    if engine.dialect == "duckdb" and len(predicates) > 1 and 0 < limit <= SHARED_ROWS and columns:
        found = _shared(engine, relation, [plans[i].violation or "" for i in predicates], columns, limit)
        shared = {i: rows for i, rows in zip(predicates, found, strict=True) if rows is not None}
    return [
        shared[i] if i in shared else sample_rows(engine, relation, plan, columns, limit)
        for i, plan in enumerate(plans)
    ]


def _shared(
    engine: Engine, relation: str, violations: Sequence[str], columns: Sequence[str], limit: int
) -> list[Samples | None]:
    """Each predicate's first ``limit`` failing rows, from the first ``SHARED_ROWS`` rows failing any of them
    (in scan order, as DuckDB keeps it for a ``LIMIT``: the rows a ``LIMIT`` query per predicate gives). None
    for a predicate this cannot answer — fewer than ``limit`` of its rows among a full ``SHARED_ROWS`` — or
    for all when the query fails: those ask on their own."""
    flags = ", ".join(f"({v}) IS TRUE" for v in violations)
    select = ", ".join(quote_ident(c) for c in columns)
    where = " OR ".join(f"({v})" for v in violations)
    first = f"SELECT * FROM {qualified(relation)} WHERE {where} LIMIT {SHARED_ROWS}"
    # The flags are computed over the rows the LIMIT kept, numbered as it kept them: a flag may plan as a join
    # (``NOT IN`` a long list), which need not keep the order.
    query = (
        f"SELECT {flags}, {select} FROM (SELECT *, row_number() OVER () AS {_AT} FROM ({first})) "
        f"ORDER BY {_AT}"
    )
    try:
        rows = engine.fetch_rows(query)
    except Exception:
        return [None] * len(violations)
    width = len(violations)
    found: list[list[dict[str, Any]]] = [[] for _ in violations]
    for row in rows:
        for k in range(width):
            if row[k] and len(found[k]) < limit:
                found[k].append({c: jsonable(v) for c, v in zip(columns, row[width:], strict=True)})
    complete = len(rows) < SHARED_ROWS  # every failing row was read
    return [tuple(f) if complete or len(f) >= limit else None for f in found]
