"""The one fused pass: every aggregate of the plan in a single SELECT over the relation (one scan).

When that statement fails, the failure is pinned on the aggregates that cause it, so one bad rule (an invalid
regular expression, a bound that does not cast) errors alone and the others are still measured: each
aggregate is first tried on one row (cheap; catches what does not bind or cast), the rest run fused again, and
only if that still fails does each run on its own."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tessera.engine import Engine, quote_name

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


def run_fused(engine: Engine, relation: str, exprs: Sequence[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Measure every aggregate: ``(values, errors)``, both keyed by the aggregate's SQL text."""
    source = quote_name(relation)
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
