"""ODCS schema properties, quality rules and SLA properties → ``Column``, ``QualityRule``, ``SlaProperty``.

Parsing is defensive (a document that failed schema validation still yields a best-effort value) and
collects Tessera's own rules in a ``Report``: publishable logical types, decimal precision and scale,
``tessera.*`` column properties, severities, units and where each library metric may stand.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, cast

from tessera.model.address import NAME_PATTERN
from tessera.model.contract import (
    OPERATORS,
    Column,
    LibraryMetric,
    LogicalType,
    QualityRule,
    RuleKind,
    Severity,
    SlaProperty,
    Threshold,
    Unit,
)
from tessera.spec.custom import read_custom
from tessera.spec.yaml_lines import KeyPath, Report

__all__ = ["PUBLISHABLE_TYPES", "parse_column", "parse_quality", "parse_sla"]

PUBLISHABLE_TYPES: tuple[LogicalType, ...] = (
    "string", "integer", "number", "boolean", "date", "timestamp", "object", "array", "map",
)  # fmt: skip
_LOGICAL_TYPES = frozenset(PUBLISHABLE_TYPES) | {"time", "vector"}
_TYPE_HINTS = {
    "time": "store a time of day as string (with logicalTypeOptions.pattern) or as a timestamp",
    "vector": "store an embedding as an array of number",
}
_METRICS = frozenset({"nullValues", "missingValues", "invalidValues", "duplicateValues", "rowCount"})
_KINDS = frozenset({"library", "sql", "text", "custom"})
_SEVERITIES = ("info", "warning", "error")
_UNITS = ("rows", "percent")
_DECIMAL = re.compile(r"^\s*(?:decimal|numeric|dec|number)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?\s*$", re.I)
_SNAKE = re.compile(rf"^{NAME_PATTERN}$")
_OPTIONS = {
    "pattern": "pattern",
    "min_length": "minLength",
    "max_length": "maxLength",
    "minimum": "minimum",
    "maximum": "maximum",
    "exclusive_minimum": "exclusiveMinimum",
    "exclusive_maximum": "exclusiveMaximum",
}


def parse_column(prop: Mapping[str, Any], path: KeyPath, report: Report) -> Column:
    """One ``schema[0].properties[i]`` entry; ``report`` receives Tessera's rules for publishable columns."""
    name = _text(prop.get("name")) or ""
    if name and not _SNAKE.match(name):
        report.add((*path, "name"), f"column name {name!r} is not snake_case ([a-z][a-z0-9_]*)")
    logical = _logical_type(prop, path, report)
    custom = read_custom(prop.get("customProperties"), (*path, "customProperties"), "column", report)
    precision, scale = _decimal(prop, logical, custom, path, report)
    options = prop.get("logicalTypeOptions")
    options = options if isinstance(options, dict) else {}
    enum = prop.get("enum")
    position = prop.get("primaryKeyPosition")
    return Column(
        name=name,
        logical_type=logical,
        physical_type=_text(prop.get("physicalType")),
        description=_text(prop.get("description")),
        business_name=_text(prop.get("businessName")),
        required=prop.get("required") is True,
        unique=prop.get("unique") is True,
        primary_key=prop.get("primaryKey") is True,
        primary_key_position=position if isinstance(position, int) and position >= 0 else None,
        classification=_text(prop.get("classification")),
        tags=tuple(t for t in _list(prop.get("tags")) if isinstance(t, str)),
        enum=tuple(e["value"] for e in enum if isinstance(e, dict) and "value" in e) if enum else None,
        precision=precision,
        scale=scale,
        masking=_text(custom.get("tessera.masking")),
        subject_key=_text(custom.get("tessera.subjectKey")),
        quality=parse_quality(prop.get("quality"), (*path, "quality"), name or None, report),
        typed=prop.get("logicalType") is not None or bool(_text(prop.get("physicalType"))),
        **{field: options.get(key) for field, key in _OPTIONS.items()},
    )


def parse_quality(rules: Any, path: KeyPath, column: str | None, report: Report) -> tuple[QualityRule, ...]:
    """A ``quality`` list at ``path``: column rules when ``column`` is given, table rules otherwise."""
    out: list[QualityRule] = []
    for index, rule in enumerate(_list(rules)):
        if isinstance(rule, dict):
            out.append(_rule(rule, (*path, index), column, report))
    return tuple(out)


def parse_sla(items: Any, columns: frozenset[str], report: Report) -> tuple[SlaProperty, ...]:
    """``slaProperties``: ratios lie in 0–1; freshness, latency and retention name a contract column."""
    out: list[SlaProperty] = []
    for index, item in enumerate(_list(items)):
        if not isinstance(item, dict) or not isinstance(item.get("property"), str):
            continue
        where: KeyPath = ("slaProperties", index)
        sla = SlaProperty(
            property=item["property"],
            value=item.get("value"),
            unit=_text(item.get("unit")),
            element=_text(item.get("element")),
            description=_text(item.get("description")),
        )
        value = sla.value
        if sla.property in ("completeness", "uniqueness", "accuracy") and not (
            isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1
        ):
            report.add((*where, "value"), f"{sla.property} is a share of rows: a number from 0 to 1")
        if sla.property in ("freshness", "latency", "retention"):
            column = (sla.element or "").rsplit(".", 1)[-1]
            if not sla.element:
                report.add(where, f"{sla.property} needs element: <table>.<column> (the time column)")
            elif column not in columns:
                report.add((*where, "element"), f"{sla.element!r} does not name a column of this contract")
        out.append(sla)
    return tuple(out)


def _rule(rule: Mapping[str, Any], path: KeyPath, column: str | None, report: Report) -> QualityRule:
    metric = rule.get("metric", rule.get("rule"))
    declared = rule.get("type")
    kind = declared if declared in _KINDS else ("library" if metric is not None else "text")
    operators = [op for op in OPERATORS if op in rule]
    if len(operators) > 1:
        report.add(path, f"give only one of: {', '.join(operators)}")
    threshold = None
    if len(operators) == 1:
        value = rule[operators[0]]
        threshold = Threshold(operators[0], tuple(value) if isinstance(value, list) else value)
    if kind == "library":
        _check_metric(metric, rule, path, column, report)
    severity = rule.get("severity", "error")
    if severity not in _SEVERITIES:
        report.add(
            (*path, "severity"), f"{severity!r} is not allowed; expected one of: {', '.join(_SEVERITIES)}"
        )
        severity = "error"
    unit = rule.get("unit", "rows")
    if unit not in _UNITS:
        report.add((*path, "unit"), f"{unit!r} is not allowed; expected one of: {', '.join(_UNITS)}")
        unit = "rows"
    arguments = rule.get("arguments")
    return QualityRule(
        kind=cast(RuleKind, kind),
        metric=cast(LibraryMetric, metric) if metric in _METRICS else None,
        threshold=threshold,
        unit=cast(Unit, unit),
        arguments=arguments if isinstance(arguments, dict) else {},
        query=_text(rule.get("query")),
        column=column,
        name=_text(rule.get("name")),
        description=_text(rule.get("description")),
        dimension=_text(rule.get("dimension")),
        severity=cast(Severity, severity),
        id=_text(rule.get("id")),
        tags=tuple(str(t) for t in _list(rule.get("tags")) if isinstance(t, str | int)),
    )


def _check_metric(
    metric: Any, rule: Mapping[str, Any], path: KeyPath, column: str | None, report: Report
) -> None:
    key = (*path, "metric" if "metric" in rule else "rule")
    if metric not in _METRICS:
        report.add(key, f"{metric!r} is not a library metric; expected one of: {', '.join(sorted(_METRICS))}")
    elif metric == "rowCount" and column is not None:
        report.add(key, "rowCount is a table-level metric: put it under schema[0].quality")
    elif metric in ("nullValues", "missingValues", "invalidValues") and column is None:
        report.add(key, f"{metric} is a column metric: put it under the property's quality")
    elif metric == "duplicateValues" and column is None:
        arguments = rule.get("arguments")
        names = arguments.get("properties") if isinstance(arguments, dict) else None
        if not (isinstance(names, list) and names and all(isinstance(n, str) for n in names)):
            report.add(path, "a table-level duplicateValues rule needs arguments.properties: [column, ...]")


def _logical_type(prop: Mapping[str, Any], path: KeyPath, report: Report) -> LogicalType:
    logical = prop.get("logicalType")
    if logical is None:
        return _derived_type(prop, path, report)
    if logical not in _LOGICAL_TYPES:
        return "string"  # unknown: the standard's schema reports it
    if logical in _TYPE_HINTS:
        report.add(
            (*path, "logicalType"), f"logicalType {logical} cannot be published: {_TYPE_HINTS[logical]}"
        )
    return cast(LogicalType, logical)


def _derived_type(prop: Mapping[str, Any], path: KeyPath, report: Report) -> LogicalType:
    """ODCS requires only a property's ``name``: without ``logicalType`` the type comes from ``physicalType``
    (``bigint`` → integer, ``timestamptz`` → timestamp), else the column is read as string. A contract Tessera
    publishes states its types, so ``report`` (Tessera's rules) gets a problem when neither says one."""
    physical = prop.get("physicalType")
    if isinstance(physical, str) and physical.strip():
        from tessera.storage.schema import physical_arrow_type

        found = physical_arrow_type(physical)
        if found is not None:
            return _logical_of(found)
    report.add(
        path,
        "missing logicalType (and no physicalType Tessera reads): give logicalType: string, integer, number, "
        "boolean, date or timestamp, so the published table's column type is declared",
    )
    return "string"


def _logical_of(arrow: Any) -> LogicalType:
    from tessera.storage.schema import arrow_family

    family = arrow_family(arrow)
    return (
        cast(LogicalType, family)
        if family in {"integer", "number", "boolean", "date", "timestamp"}
        else "string"
    )


def _decimal(
    prop: Mapping[str, Any], logical: str, custom: Mapping[str, Any], path: KeyPath, report: Report
) -> tuple[int | None, int | None]:
    physical = _text(prop.get("physicalType")) or ""
    match = _DECIMAL.match(physical) if physical else None
    extra_p, extra_s = custom.get("tessera.precision"), custom.get("tessera.scale")
    where = (*path, "customProperties")
    precision: int | None
    scale: int | None
    if match and match[1]:
        precision, scale = int(match[1]), int(match[2] or 0)
        if extra_p not in (None, precision) or extra_s not in (None, scale):
            report.add(where, f"tessera.precision/scale conflict with physicalType {physical!r}")
    else:
        precision, scale = extra_p, extra_s
        if precision is None and scale is not None:
            report.add(where, "tessera.scale needs tessera.precision")
        elif precision is not None and scale is None:
            scale = 0
    if (precision is not None or match) and logical != "number":
        report.add((*path, "logicalType"), "a decimal column (precision/scale) needs logicalType number")
    if match and precision is None:
        report.add(
            (*path, "physicalType"), f"{physical!r} needs a precision: decimal(10,2), or tessera.precision"
        )
    if precision is not None and scale is not None and scale > precision:
        report.add(where, f"scale {scale} is larger than precision {precision}")
    return precision, scale


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
