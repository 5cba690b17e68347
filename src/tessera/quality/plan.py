"""The plan of a quality pass: the aggregates of the one fused SELECT, and the checks judged from them.

Checks name the aggregates they need by their SQL text; an aggregate needed by several checks (the null count
of a column, a distinct count) is computed once. ``count(*)`` is always the first."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from tessera.model.contract import Severity, Threshold, Unit

__all__ = [
    "DIMENSIONS",
    "NO_VIOLATIONS",
    "ROWS",
    "Aggregates",
    "Measure",
    "PlannedCheck",
    "Values",
    "count",
    "duplicates",
    "failed_plan",
    "share",
]

ROWS = "count(*)"

#: The ODCS data-quality dimension of each built-in metric, when the contract names none (a rule's own
#: ``dimension`` wins): ``tessera test --dimension`` selects by it.
DIMENSIONS: dict[str, str] = {
    "required": "completeness",
    "nullValues": "completeness",
    "missingValues": "completeness",
    "completeness": "completeness",
    "unique": "uniqueness",
    "primaryKey": "uniqueness",
    "duplicateValues": "uniqueness",
    "uniqueness": "uniqueness",
    "pattern": "conformity",
    "enum": "conformity",
    "range": "conformity",
    "length": "conformity",
    "invalidValues": "conformity",
    "present": "conformity",
    "type": "conformity",
    "accuracy": "accuracy",
    "rowCount": "completeness",
    "freshness": "timeliness",
    "latency": "timeliness",
}
NO_VIOLATIONS = Threshold("mustBe", 0)

Values = Mapping[str, Any]
Measure = Callable[[Values], float | None]


class Aggregates:
    """The select list of the fused query, each distinct expression once, in first-use order."""

    def __init__(self) -> None:
        self._exprs: dict[str, None] = {ROWS: None}

    def add(self, expr: str) -> str:
        self._exprs.setdefault(expr, None)
        return expr

    def __iter__(self) -> Iterator[str]:
        return iter(self._exprs)

    def __len__(self) -> int:
        return len(self._exprs)


@dataclass(frozen=True, slots=True)
class PlannedCheck:
    """One check before it runs: where its measure comes from and how to sample its failing rows.

    ``violation`` is a row predicate selecting failing rows; ``duplicate_keys`` (quoted columns) asks instead
    for rows whose key is duplicated. ``error`` is set when the check cannot run at all (a missing column)."""

    name: str
    metric: str
    column: str | None
    label: str
    threshold: Threshold | None
    severity: Severity
    unit: str = "rows"
    needs: tuple[str, ...] = ()
    measure: Measure | None = None
    violation: str | None = None
    duplicate_keys: tuple[str, ...] = ()
    error: str | None = None
    check_id: str | None = None
    dimension: str | None = None


def failed_plan(
    name: str, metric: str, column: str | None, label: str, *, severity: Severity, error: str
) -> PlannedCheck:
    """A check that cannot run: it comes out with outcome ``error`` and this message."""
    return PlannedCheck(name, metric, column, label, None, severity, error=error)


def _number(value: Any) -> float:
    return float(value) if value is not None else 0.0


def _scaled(n: float, rows: float, unit: Unit) -> float:
    if unit == "percent":
        return 100.0 * n / rows if rows else 0.0
    return n


def count(key: str, unit: Unit = "rows") -> Measure:
    """The value of one counting aggregate, as rows or as a percentage of all rows."""
    return lambda v: _scaled(_number(v[key]), _number(v[ROWS]), unit)


def duplicates(distinct: str, nulls: str | None = None, unit: Unit = "rows") -> Measure:
    """Rows beyond the first of each value: rows - nulls - distinct values."""

    def measure(v: Values) -> float:
        rows = _number(v[ROWS])
        extra = rows - (_number(v[nulls]) if nulls else 0.0) - _number(v[distinct])
        return _scaled(extra, rows, unit)

    return measure


def share(bad: str | None = None, good: str | None = None) -> Measure:
    """A ratio 0–1 of the rows: good / rows, or (rows - bad) / rows. An empty table scores 1."""

    def measure(v: Values) -> float:
        rows = _number(v[ROWS])
        if not rows:
            return 1.0
        ok = _number(v[good]) if good else rows - _number(v[bad] if bad else 0)
        return ok / rows

    return measure
