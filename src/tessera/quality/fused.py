"""The one fused pass: every aggregate of the plan in a single SELECT over the relation (one scan).

When that statement fails, the failure is pinned on the aggregates that cause it, so one bad rule (an invalid
regular expression, a bound that does not cast) errors alone and the others are still measured: each
aggregate is first tried on one row (cheap; catches what does not bind or cast), the rest run fused again, and
only if that still fails does each run on its own."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from tessera.engine import Engine
from tessera.model.sqltext import ident, qualified

__all__ = ["error_text", "fused_select", "run_fused"]


def error_text(exc: BaseException) -> str:
    """The first line of an engine error: what went wrong, without the echoed query."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def fused_select(exprs: Sequence[str], source: str) -> str:
    return "SELECT " + ",\n       ".join(exprs) + f"\nFROM {source}"


def _measure(engine: Engine, exprs: Sequence[str], source: str) -> dict[str, Any]:
    rows = engine.fetch_rows(fused_select(exprs, source))
    return dict(zip(exprs, rows[0], strict=True))


def _attempt(engine: Engine, exprs: Sequence[str], source: str) -> dict[str, Any] | str:
    """The measured values, or the error text."""
    try:
        return _measure(engine, exprs, source)
    except Exception as exc:
        return error_text(exc)


_DISTINCT = re.compile(r'^count\(DISTINCT ("(?:[^"]|"")+")\)$')
_INTEGERS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"}
#: Widest value range counted with a bitmap (2^27 bits = 16 MB); wider ranges hash.
MAX_BITMAP_SPAN = 1 << 27


def _bitmap_rewrites(engine: Engine, relation: str, exprs: Sequence[str]) -> dict[str, str]:
    """Distinct counts of integer columns as ``bit_count(bitstring_agg(col, min, max))``: a bitmap over the
    value range instead of a hash table, about 20x faster on 10M keys. Needs the range: one cheap min/max pass."""
    targets = {e: m[1] for e in exprs if (m := _DISTINCT.match(e))}
    if not targets or engine.dialect != "duckdb":  # bitstring_agg is DuckDB's own
        return {}
    try:
        types = {ident(name): typ.upper() for name, typ in engine.columns(relation)}
    except Exception:
        return {}
    ints = {e: col for e, col in targets.items() if types.get(col) in _INTEGERS}
    if not ints:
        return {}
    cols = sorted(set(ints.values()))
    ranges = ", ".join(f"min({c}), max({c})" for c in cols)
    try:
        row = engine.fetch_rows(f"SELECT {ranges} FROM {qualified(relation)}")[0]
    except Exception:
        return {}
    bounds = {c: (row[2 * i], row[2 * i + 1]) for i, c in enumerate(cols)}
    rewrites = {}
    for expr, col in ints.items():
        low, high = bounds[col]
        if low is not None and high - low <= MAX_BITMAP_SPAN:
            rewrites[expr] = f"bit_count(bitstring_agg({col}, {int(low)}, {int(high)}))"
    return rewrites


def run_fused(engine: Engine, relation: str, exprs: Sequence[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Measure every aggregate: ``(values, errors)``, both keyed by the aggregate's SQL text."""
    rewrites = _bitmap_rewrites(engine, relation, exprs)
    if rewrites:
        values, errors = _run_fused([rewrites.get(e, e) for e in exprs], qualified(relation), engine)
        back = {v: k for k, v in rewrites.items()}
        return {back.get(k, k): v for k, v in values.items()}, {back.get(k, k): v for k, v in errors.items()}
    return _run_fused(list(exprs), qualified(relation), engine)


def _run_fused(exprs: Sequence[str], source: str, engine: Engine) -> tuple[dict[str, Any], dict[str, str]]:
    values = _attempt(engine, exprs, source)
    if isinstance(values, dict):
        return values, {}
    one_row = f"(SELECT * FROM {source} LIMIT 1)"
    errors = {e: r for e in exprs if isinstance(r := _attempt(engine, [e], one_row), str)}
    rest = [e for e in exprs if e not in errors]
    values = _attempt(engine, rest, source) if rest else {}
    if isinstance(values, dict):
        return values, errors
    # The failure shows only on the whole data: measure each aggregate alone.
    values = {}
    for expr in rest:
        alone = _attempt(engine, [expr], source)
        if isinstance(alone, str):
            errors[expr] = alone
        else:
            values.update(alone)
    return values, errors
