"""ODCS -> dbt properties YAML: the contract as a dbt model with an enforced contract, and as a source to read.

Each schema object becomes a model (``config.contract.enforced: true``, columns with ``data_type`` in the
dialect asked for, ``not_null``/``primary_key``/``unique`` constraints) and a table of a source named after the
contract's domain. Quality rules dbt has a generic test for become ``data_tests``: nullValues = 0 -> not_null,
duplicateValues = 0 -> unique, invalidValues with validValues = 0 -> accepted_values, a relationship ->
relationships. Other rules, and value constraints such as patterns, are reported as dropped.
"""

from __future__ import annotations

from typing import Any

from tessera.interop.model import Exported, ExportOptions
from tessera.interop.odcs import dump_yaml, snake
from tessera.interop.types import sql_type
from tessera.interop.walk import objects, path_text, properties, rule_fields

__all__ = ["export_dbt"]


def export_dbt(document: dict[str, Any], options: ExportOptions) -> Exported:
    dropped: list[str] = []
    models, tables = [], []
    for index, obj in objects(document):
        name = str(obj.get("physicalName") or obj.get("name"))
        columns, tests_only = [], []
        for pindex, prop in properties(obj):
            column, tests = _column(prop, ("schema", index, "properties", pindex), options.dialect, dropped)
            columns.append(column)
            tests_only.append(
                {k: v for k, v in column.items() if k not in {"constraints", "data_type"}} | tests
            )
            if tests.get("data_tests"):
                column["data_tests"] = tests["data_tests"]
        model: dict[str, Any] = {"name": name}
        if obj.get("description"):
            model["description"] = obj["description"]
        if columns:  # dbt refuses to enforce a contract without columns
            model["config"] = {"contract": {"enforced": True}}
        model["columns"] = columns
        models.append(model)
        table: dict[str, Any] = {"name": name}
        if obj.get("description"):
            table["description"] = obj["description"]
        table["columns"] = tests_only
        tables.append(table)
        if obj.get("quality"):
            dropped.append(path_text(("schema", index, "quality")))
    source: dict[str, Any] = {"name": snake(str(document.get("domain") or document.get("id") or "tessera"))}
    description = document.get("description")
    if isinstance(description, dict) and description.get("purpose"):
        source["description"] = description["purpose"]
    source["tables"] = tables
    out = {"version": 2, "sources": [source], "models": models}
    return Exported(dump_yaml(out), tuple(dropped))


def _column(
    prop: dict[str, Any], path: tuple[str | int, ...], dialect: str, dropped: list[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    column: dict[str, Any] = {"name": str(prop.get("physicalName") or prop.get("name"))}
    if prop.get("description"):
        column["description"] = prop["description"]
    column["data_type"] = sql_type(prop, dialect)
    constraints: list[dict[str, Any]] = []
    tests: list[Any] = []
    if prop.get("required") is True or prop.get("primaryKey") is True:
        constraints.append({"type": "not_null"})
        tests.append("not_null")
    if prop.get("primaryKey") is True:
        constraints.append({"type": "primary_key"})
    if prop.get("unique") is True:
        constraints.append({"type": "unique"})
        tests.append("unique")
    for qindex, rule in enumerate(prop.get("quality") or []):
        test = _test(rule)
        if test is None:
            dropped.append(path_text((*path, "quality", qindex)))
        elif test not in tests:
            tests.append(test)
    for relationship in prop.get("relationships") or []:
        target = str(relationship.get("to") or "") if isinstance(relationship, dict) else ""
        if target.count(".") == 1:
            table, field = target.split(".")
            tests.append({"relationships": {"to": f"ref('{table}')", "field": field}})
    if constraints:
        column["constraints"] = constraints
    dropped.extend(rule_fields(prop, path, frozenset({"quality", "unique"})))
    return column, ({"data_tests": tests} if tests else {})


def _test(rule: Any) -> Any:
    if not isinstance(rule, dict) or rule.get("mustBe") != 0 or rule.get("type", "library") != "library":
        return None
    metric = rule.get("metric", rule.get("rule"))
    if metric == "nullValues" and not rule.get("arguments"):
        return "not_null"
    if metric == "duplicateValues" and not rule.get("arguments"):
        return "unique"
    values = (rule.get("arguments") or {}).get("validValues")
    if metric == "invalidValues" and isinstance(values, list) and set(rule["arguments"]) == {"validValues"}:
        return {"accepted_values": {"values": values}}
    return None
