"""A few failing rows for a failed check, as JSON-friendly dicts, with sensitive columns left out.

One small ``LIMIT`` query per failed check that has a row-level predicate (nulls, constraints, invalid or
missing values) or a key whose duplicates can be shown. Fetching samples never fails a run: an error here
just means no samples."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from typing import Any

from tessera.engine import Engine, quote_name
from tessera.quality.plan import PlannedCheck
from tessera.quality.sql import quote_ident

__all__ = ["jsonable", "sample_query", "sample_rows"]


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
    source = quote_name(relation)
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
