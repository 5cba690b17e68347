"""Contract → planned checks: the column constraints and the ODCS library metrics.

Column constraints (``required``, ``unique``/``primaryKey``, a composite primary key, ``pattern``, ``enum``,
ranges, lengths) count violating rows and must count none. Library metrics (``nullValues``, ``missingValues``,
``invalidValues``, ``duplicateValues``, ``rowCount``) are judged by the rule's threshold, in rows or
percent."""

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


def _rule_text(column: Column, metric: str) -> str:
    """The constraint in the contract's own words, for messages: ``range on amount (minimum 0)``."""
    parts: list[str] = []
    if metric == "range":
        for key, value in (
            ("minimum", column.minimum),
            ("exclusiveMinimum", column.exclusive_minimum),
            ("maximum", column.maximum),
            ("exclusiveMaximum", column.exclusive_maximum),
        ):
            if value is not None:
                parts.append(f"{key} {value}")
    elif metric == "length":
        parts = [
            f"{k} {v}"
            for k, v in (("minLength", column.min_length), ("maxLength", column.max_length))
            if v is not None
        ]
    elif metric == "pattern" and column.pattern:
        parts = [column.pattern]
    elif metric == "enum" and column.enum:
        shown = ", ".join(str(v) for v in column.enum[:8])
        parts = [shown + (", …" if len(column.enum) > 8 else "")]
    elif metric == "required":
        parts = ["no nulls"]
    return f"{metric} on {column.name}" + (f" ({'; '.join(parts)})" if parts else "")


def _constraint(metric: str, column: Column, predicate: str, aggs: Aggregates) -> PlannedCheck:
    key = aggs.add(f"count_if({predicate})")
    return PlannedCheck(
        f"{column.name}.{metric}",
        metric,
        column.name,
        _rule_text(column, metric),
        NO_VIOLATIONS,
        "error",
        needs=(key,),
        measure=count(key),
        violation=predicate,
    )


def _duplicates_plan(
    name: str,
    metric: str,
    column: str | None,
    label: str,
    *,
    keys: tuple[str, ...],
    aggs: Aggregates,
    rule: QualityRule | None = None,
) -> PlannedCheck:
    distinct = aggs.add(distinct_key(keys))
    nulls = aggs.add(null_key(keys[0])) if len(keys) == 1 else None
    unit = rule.unit if rule else "rows"
    return PlannedCheck(
        name,
        metric,
        column,
        label,
        (rule.threshold or NO_VIOLATIONS) if rule else NO_VIOLATIONS,
        rule.severity if rule else "error",
        unit=unit,
        needs=(distinct, nulls) if nulls else (distinct,),
        measure=duplicates(distinct, nulls, unit),
        duplicate_keys=tuple(quote_ident(k) for k in keys),
    )


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
            out.append(
                failed_plan(
                    "table.primaryKey", "primaryKey", None, label, severity="error", error=_missing(absent[0])
                )
            )
        else:
            out.append(_duplicates_plan("table.primaryKey", "primaryKey", None, label, keys=key, aggs=aggs))
    return out


def _column_checks(
    column: Column, single_key: bool, types: Mapping[str, str], aggs: Aggregates
) -> list[PlannedCheck]:
    name = column.name
    sql_type = types.get(name)
    key_kind = "primaryKey" if single_key else "unique" if column.unique else None
    if sql_type is None:
        kinds = ["required"] if column.required else []
        kinds += [key_kind] if key_kind else []
        kinds += list(column_violations(column, "VARCHAR"))
        return [
            failed_plan(f"{name}.{k}", k, name, f"{k} on {name}", severity="error", error=_missing(name))
            for k in kinds
        ]
    out: list[PlannedCheck] = []
    if column.required:
        out.append(_constraint("required", column, f"{quote_ident(name)} IS NULL", aggs))
    if key_kind:
        label = f"{key_kind} on {name}"
        out.append(_duplicates_plan(f"{name}.{key_kind}", key_kind, name, label, keys=(name,), aggs=aggs))
    out.extend(_constraint(k, column, p, aggs) for k, p in column_violations(column, sql_type).items())
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
        return failed_plan(name, metric, column, label, severity=rule.severity, error=error)

    if metric == "rowCount":
        return PlannedCheck(
            name, metric, column, label, threshold, rule.severity, needs=(ROWS,), measure=count(ROWS)
        )
    if metric == "duplicateValues":
        keys = (column,) if column else tuple(str(p) for p in rule.arguments.get("properties") or ())
        if not keys:
            return fail("duplicateValues on the table needs arguments.properties (the key columns)")
        absent = [k for k in keys if k not in types]
        if absent:
            return fail(_missing(absent[0]))
        return _duplicates_plan(name, metric, column, label, keys=keys, aggs=aggs, rule=rule)
    if metric not in ("nullValues", "missingValues", "invalidValues"):
        return fail(f"unknown library metric {metric!r}")
    if column is None:
        return fail(f"{metric} needs a column: put the rule under the property's quality")
    if column not in types:
        return fail(_missing(column))
    predicate = _predicate(metric, rule.arguments, contract.column(column), column, types[column])
    if predicate is None:
        return fail(
            "nothing to judge: invalidValues needs arguments.validValues or arguments.pattern, or the "
            "column must declare an enum, pattern, minimum/maximum or minLength/maxLength"
        )
    key = aggs.add(f"count_if({predicate})")
    return PlannedCheck(
        name,
        metric,
        column,
        label,
        threshold,
        rule.severity,
        unit=rule.unit,
        needs=(key,),
        measure=count(key, rule.unit),
        violation=predicate,
    )


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
    if valid is None and pattern is None:
        # no arguments: the column's declared constraints say what is valid (mesh-format.md, "Two decisions")
        declared_rules = list(column_violations(declared, sql_type).values()) if declared else []
        if not declared_rules:
            return None
        return declared_rules[0] if len(declared_rules) == 1 else "(" + " OR ".join(declared_rules) + ")"
    parts = []
    if valid is not None:
        parts.append(not_in_list(ref, valid, sql_type))
    if pattern is not None:
        parts.append(f"NOT regexp_matches({as_text(ref, sql_type)}, {literal(str(pattern))})")
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"
