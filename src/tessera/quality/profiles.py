"""Column profiles of the candidate, measured in the gate's pass (docs/architecture.md, "The publish path"):
two bounded aggregate queries on the gate's own sealed connection, after the checks.

1. One scan: per column the non-null count, an approximate distinct count (HyperLogLog, ``approx_count_distinct``:
   within a few percent) and, for columns that are not sensitive and have an order, the minimum and maximum.
2. One statement of small ``GROUP BY … LIMIT 5`` branches: the five most frequent values, with exact counts,
   of each column that is not sensitive, whose values repeat and has at most ``TOP_MAX_DISTINCT`` distinct
   values (a bounded hash table each; a key column's top values would all count 1).

Sensitive columns get counts only and ``masked=True``: no value of theirs is ever read into a profile. The SQL
is DuckDB's and standard, so the Spark engine runs it translated like the checks. Profiling never fails a
publish: ``profile`` returns None, and the publish records no profile, when the engine cannot answer."""

from __future__ import annotations

import logging
from collections.abc import Collection

from tessera.engine import Engine
from tessera.model.profile import ColumnProfile
from tessera.model.sqltext import qualified
from tessera.quality.fused import error_text
from tessera.quality.sql import quote_ident

__all__ = ["TOP_MAX_DISTINCT", "TOP_VALUES", "profile"]

log = logging.getLogger(__name__)

TOP_VALUES = 5
#: Columns with more distinct values than this get no top values (their GROUP BY would be a large hash table).
TOP_MAX_DISTINCT = 100_000
#: Stored values (min, max, top values) are cut to this many characters.
VALUE_CHARS = 200
#: Types without a useful order or a compact text form: counts only.
_UNORDERED = (
    "[]",
    "STRUCT",
    "MAP",
    "UNION",
    "LIST",
    "ARRAY",
    "BLOB",
    "BYTEA",
    "BINARY",
    "JSON",
    "VARIANT",
    "GEO",
)


def _ordered(sql_type: str) -> bool:
    upper = sql_type.upper()
    return not any(word in upper for word in _UNORDERED)


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…"


def profile(
    engine: Engine, relation: str, sensitive: Collection[str], skip: Collection[str] = ()
) -> tuple[ColumnProfile, ...] | None:
    """Profiles of every column of ``relation`` but ``skip``; ``sensitive`` columns counts only. None (logged)
    when the engine cannot answer the queries: a profile is information, never a gate."""
    try:
        return _profile(engine, relation, sensitive, skip)
    except Exception as exc:  # any engine error: no profile, the publish goes on
        log.warning("no column profiles for %s: %s", relation, error_text(exc))
        return None


def _profile(
    engine: Engine, relation: str, sensitive: Collection[str], skip: Collection[str]
) -> tuple[ColumnProfile, ...]:
    columns = [(name, typ) for name, typ in engine.columns(relation) if name not in skip]
    source = qualified(relation)
    exprs = ["count(*)"]
    for name, typ in columns:
        col = quote_ident(name)
        exprs += [f"count({col})", f"approx_count_distinct({col})"]
        if name not in sensitive and _ordered(typ):
            exprs += [f"CAST(min({col}) AS VARCHAR)", f"CAST(max({col}) AS VARCHAR)"]
    row = engine.fetch_rows(f"SELECT {', '.join(exprs)} FROM {source}")[0]
    rows = int(row[0] or 0)
    at = 1
    found: list[ColumnProfile] = []
    for name, typ in columns:
        non_null, distinct = int(row[at] or 0), int(row[at + 1] or 0)
        at += 2
        low = high = None
        masked = name in sensitive
        if not masked and _ordered(typ):
            low, high = _text(row[at]), _text(row[at + 1])
            at += 2
        found.append(
            ColumnProfile(name, rows, rows - non_null, min(distinct, non_null), low, high, masked=masked)
        )
    tops = _top_values(engine, source, [(p, t) for p, (_, t) in zip(found, columns, strict=True)])
    return tuple(
        ColumnProfile(
            p.column,
            p.row_count,
            p.null_count,
            p.distinct_count,
            p.min_value,
            p.max_value,
            tops.get(p.column, ()),
            p.masked,
        )
        for p in found
    )


def _top_values(
    engine: Engine, source: str, profiles: list[tuple[ColumnProfile, str]]
) -> dict[str, tuple[tuple[str, int], ...]]:
    chosen = [
        p.column
        for p, typ in profiles
        if not p.masked
        and _ordered(typ)
        and p.distinct_count is not None
        and 0 < p.distinct_count <= TOP_MAX_DISTINCT
        and p.distinct_count < 0.9 * (p.row_count - p.null_count)
    ]
    if not chosen:
        return {}
    branches = []
    for i, name in enumerate(chosen):
        col = quote_ident(name)
        branches.append(
            f"SELECT {i} AS c, CAST(v AS VARCHAR) AS v, n FROM (SELECT {col} AS v, count(*) AS n FROM {source} "
            f"WHERE {col} IS NOT NULL GROUP BY {col} ORDER BY n DESC, v LIMIT {TOP_VALUES}) AS t{i}"
        )
    out: dict[str, list[tuple[str, int]]] = {name: [] for name in chosen}
    for c, value, n in engine.fetch_rows(" UNION ALL ".join(branches)):
        out[chosen[int(c)]].append((_text(value) or "", int(n)))
    return {name: tuple(sorted(values, key=lambda vn: (-vn[1], vn[0]))) for name, values in out.items()}
