"""Contract SLA properties → planned checks, computed in the same fused pass as the column checks.

``completeness``, ``uniqueness`` and ``accuracy`` are ratios 0–1 of the rows (a value above 1 is read as a
percentage) and block when missed. ``freshness``/``latency`` measure the age of the newest value of the
``element`` column in the SLA's unit and only warn. Other SLA properties are recorded elsewhere, not
judged."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from tessera.model.contract import UNIT_SECONDS, Contract, SlaProperty, Threshold
from tessera.quality.checks import distinct_key
from tessera.quality.plan import Aggregates, PlannedCheck, Values, failed_plan, share
from tessera.quality.sql import column_violations, is_temporal, quote_ident

__all__ = ["UNIT_SECONDS", "plan_sla"]


def plan_sla(
    contract: Contract, types: Mapping[str, str], aggs: Aggregates, now: datetime
) -> list[PlannedCheck]:
    out: list[PlannedCheck] = []
    for sla in contract.sla:
        kind = sla.property.strip().lower()
        if kind in ("completeness", "uniqueness", "accuracy"):
            out.append(_ratio(kind, sla, contract, types, aggs))
        elif kind in ("freshness", "latency"):
            out.append(_freshness(kind, sla, contract, types, aggs, now=now))
    return out


def _ratio_value(value: Any) -> float:
    text = str(value).strip()
    number = float(text.rstrip("%"))
    return number / 100.0 if text.endswith("%") or number > 1 else number


def _ratio(
    kind: str, sla: SlaProperty, contract: Contract, types: Mapping[str, str], aggs: Aggregates
) -> PlannedCheck:
    name, label = f"sla.{kind}", f"{kind} of {contract.table}"
    try:
        threshold = Threshold("mustBeGreaterOrEqualTo", _ratio_value(sla.value))
    except (TypeError, ValueError):
        return failed_plan(
            name, kind, None, label, severity="error", error=f"SLA value {sla.value!r} is not a ratio 0–1"
        )
    present = [c for c in contract.columns if c.name in types]

    def judged(
        needs: tuple[str, ...], bad: str | None = None, good: str | None = None, **samples: Any
    ) -> PlannedCheck:
        return PlannedCheck(
            name, kind, None, label, threshold, "error", "ratio", needs, share(bad, good), **samples
        )

    if not present:
        return judged(())
    if kind == "completeness":
        predicate = " OR ".join(f"{quote_ident(c.name)} IS NULL" for c in present)
        bad = aggs.add(f"count_if({predicate})")
        return judged((bad,), bad=bad, violation=predicate)
    if kind == "uniqueness":
        keys = contract.primary_key or tuple(c.name for c in present)
        absent = [k for k in keys if k not in types]
        if absent:
            return failed_plan(
                name, kind, None, label, severity="error", error=f"column {absent[0]!r} is not in the data"
            )
        good = aggs.add(distinct_key(keys))
        return judged((good,), good=good, duplicate_keys=tuple(quote_ident(k) for k in keys))
    violations = [p for c in present for p in column_violations(c, types[c.name]).values()]
    if not violations:
        return judged(())
    predicate = " OR ".join(violations)
    bad = aggs.add(f"count_if({predicate})")
    return judged((bad,), bad=bad, violation=predicate)


def _element(element: str | None, table: str, types: Mapping[str, str]) -> str | None:
    if not element:
        return None
    first = element.split(",")[0].strip()
    if first in types:
        return first
    return first.removeprefix(f"{table}.") if first.startswith(f"{table}.") else first.rsplit(".", 1)[-1]


def _freshness(
    kind: str,
    sla: SlaProperty,
    contract: Contract,
    types: Mapping[str, str],
    aggs: Aggregates,
    *,
    now: datetime,
) -> PlannedCheck:
    column = _element(sla.element, contract.table, types)
    name, label = f"sla.{kind}", f"{kind} on {column or contract.table}"

    def fail(error: str) -> PlannedCheck:
        return failed_plan(name, kind, column, label, severity="warning", error=error)

    unit = (sla.unit or "").strip().lower()
    if unit not in UNIT_SECONDS:
        return fail(f"unit {sla.unit!r} is not one of m, min, minutes, h, hours, d, days")
    try:
        limit = float(sla.value)
    except (TypeError, ValueError):
        return fail(f"SLA value {sla.value!r} is not a number")
    if column is None:
        return fail(f"{kind} needs element: <table>.<column> naming the time column")
    if column not in types:
        return fail(f"column {column!r} is not in the data")
    if not is_temporal(types[column]):
        return fail(f"column {column!r} is {types[column]}, not a date or timestamp")
    newest = aggs.add(f"epoch(max({quote_ident(column)}))")
    seconds, reference = UNIT_SECONDS[unit], now.timestamp()

    def age(v: Values) -> float | None:
        value = v[newest]
        return None if value is None else (reference - float(value)) / seconds

    threshold = Threshold("mustBeLessOrEqualTo", int(limit) if limit.is_integer() else limit)
    return PlannedCheck(name, kind, column, label, threshold, "warning", unit, (newest,), age)
