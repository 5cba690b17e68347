"""Contract → planned checks: the column constraints and the ODCS library metrics.

Column constraints (``required``, ``unique``/``primaryKey``, a composite primary key, ``pattern``, ``enum``,
ranges, lengths) count violating rows and must count none. Library metrics (``nullValues``, ``missingValues``,
``invalidValues``, ``duplicateValues``, ``rowCount``) are judged by the rule's threshold, in rows or percent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tessera.model.contract import Column, Contract, QualityRule, Threshold
from tessera.quality.plan import (
    NO_VIOLATIONS,
    ROWS,
    Aggregates,
    PlannedCheck,
    count,
    duplicates,
    failed_plan,
)
from tessera.quality.sql import as_text, column_violations, in_list, literal, not_in_list, quote_ident

__all__ = ["distinct_key", "null_key", "plan_columns", "plan_library_rule"]

_NO_ROWS_NEEDED = Threshold("mustBeGreaterOrEqualTo", 0)


def null_key(column: str) -> str:
    return f"count_if({quote_ident(column)} IS NULL)"


def distinct_key(columns: tuple[str, ...]) -> str:
    """``count(DISTINCT a)`` (nulls not counted) or ``count(DISTINCT (a, b))`` (a tuple with nulls counts)."""
    refs = ", ".join(quote_ident(c) for c in columns)
    return f"count(DISTINCT {refs})" if len(columns) == 1 else f"count(DISTINCT ({refs}))"


def _missing(column: str) -> str:
    return f"column {column!r} is not in the data"


def _constraint(name: str, metric: str, column: str, label: str, predicate: str, aggs: Aggregates) -> PlannedCheck:
    key = aggs.add(f"count_if({predicate})")
    return PlannedCheck(
        name, metric, column, label, NO_VIOLATIONS, "error", needs=(key,), measure=count(key), violation=predicate
    )


def _duplicates_plan(name: str, metric: str, column: str | None, label: str, keys: tuple[str, ...],
                     aggs: Aggregates, rule: QualityRule | None = None) -> PlannedCheck:  # fmt: skip
    distinct = aggs.add(distinct_key(keys))
    nulls = aggs.add(null_key(keys[0])) if len(keys) == 1 else None
    unit = rule.unit if rule else "rows"
    return PlannedCheck(
        name, metric, column, label,
        (rule.threshold or NO_VIOLATIONS) if rule else NO_VIOLATIONS,
        rule.severity if rule else "error",
        unit=unit,
        needs=(distinct, nulls) if nulls else (distinct,),
        measure=duplicates(distinct, nulls, unit),
        duplicate_keys=tuple(quote_ident(k) for k in keys),
    )  # fmt: skip


def plan_columns(contract: Contract, types: Mapping[str, str], aggs: Aggregates) -> list[PlannedCheck]:
    """The checks implied by each column's own constraints, then the composite primary key."""
    out: list[PlannedCheck] = []
    key = contract.primary_key
    for column in contract.columns:
        out.extend(_column_checks(column, len(key) == 1 and key[0] == column.name, types, aggs))
    if len(key) > 1:
        label = f"primaryKey on ({', '.join(key)})"
        absent = [k for k in key if k not in types]
        if absent:
            out.append(failed_plan("table.primaryKey", "primaryKey", None, label, "error", _missing(absent[0])))
        else:
            out.append(_duplicates_plan("table.primaryKey", "primaryKey", None, label, key, aggs))
    return out


def _column_checks(column: Column, single_key: bool, types: Mapping[str, str], aggs: Aggregates) -> list[PlannedCheck]:
    name = column.name
    sql_type = types.get(name)
    kinds: list[str] = []
    if column.required:
        kinds.append("required")
    if single_key or column.unique:
        kinds.append("primaryKey" if single_key else "unique")
    kinds.extend(column_violations(column, sql_type or "VARCHAR"))
    if sql_type is None:
        return [failed_plan(f"{name}.{k}", k, name, f"{k} on {name}", "error", _missing(name)) for k in kinds]
    out: list[PlannedCheck] = []
    violations = column_violations(column, sql_type)
    for kind in kinds:
        label = f"{kind} on {name}"
        if kind == "required":
            out.append(_constraint(f"{name}.required", kind, name, label, f"{quote_ident(name)} IS NULL", aggs))
        elif kind in ("primaryKey", "unique"):
            out.append(_duplicates_plan(f"{name}.{kind}", kind, name, label, (name,), aggs))
        else:
            out.append(_constraint(f"{name}.{kind}", kind, name, label, violations[kind], aggs))  # type: ignore[index]
    return out


def plan_library_rule(
    rule: QualityRule, contract: Contract, types: Mapping[str, str], aggs: Aggregates
) -> PlannedCheck:
    """One ``type: library`` rule, on a column or on the table."""
    metric = rule.metric or "library"
    column = rule.column
    scope = column or "table"
    name, label = f"{scope}.{metric}", f"{metric} on {column or contract.table}"
    threshold = rule.threshold or (_NO_ROWS_NEEDED if metric == "rowCount" else NO_VIOLATIONS)

    def fail(error: str) -> PlannedCheck:
        return failed_plan(name, metric, column, label, rule.severity, error)

    if metric == "rowCount":
        return PlannedCheck(name, metric, column, label, threshold, rule.severity, needs=(ROWS,), measure=count(ROWS))
    if metric == "duplicateValues":
        keys = (column,) if column else tuple(str(p) for p in rule.arguments.get("properties") or ())
        if not keys:
            return fail("duplicateValues on the table needs arguments.properties (the key columns)")
        absent = [k for k in keys if k not in types]
        if absent:
            return fail(_missing(absent[0]))
        return _duplicates_plan(name, metric, column, label, keys, aggs, rule)
    if metric not in ("nullValues", "missingValues", "invalidValues"):
        return fail(f"unknown library metric {metric!r}")
    if column is None:
        return fail(f"{metric} needs a column: put the rule under the property's quality")
    if column not in types:
        return fail(_missing(column))
    predicate = _predicate(metric, rule.arguments, contract.column(column), column, types[column])
    if predicate is None:
        return fail("invalidValues needs arguments.validValues or arguments.pattern (or an enum or pattern on the column)")
    key = aggs.add(f"count_if({predicate})")
    return PlannedCheck(
        name, metric, column, label, threshold, rule.severity,
        unit=rule.unit, needs=(key,), measure=count(key, rule.unit), violation=predicate,
    )  # fmt: skip


def _predicate(
    metric: str, arguments: Mapping[str, Any], declared: Column | None, column: str, sql_type: str
) -> str | None:
    ref = quote_ident(column)
    if metric == "nullValues":
        return f"{ref} IS NULL"
    if metric == "missingValues":
        member = in_list(ref, arguments.get("missingValues") or (), sql_type)
        return f"({ref} IS NULL OR {member})" if member else f"{ref} IS NULL"
    valid = arguments.get("validValues")
    pattern = arguments.get("pattern")
    if valid is None and pattern is None and declared is not None:
        valid, pattern = declared.enum, declared.pattern
    parts = []
    if valid is not None:
        parts.append(not_in_list(ref, valid, sql_type))
    if pattern is not None:
        parts.append(f"NOT regexp_full_match({as_text(ref, sql_type)}, {literal(str(pattern))})")
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"
