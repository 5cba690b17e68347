"""dbt ``manifest.json`` -> products: each model becomes an ODCS contract, its compiled SQL a transform and
its dependencies input ports.

A model's columns and ``data_type``s become properties (``physicalType`` as dbt wrote it, the logical type
through sqlglot in the adapter's dialect); a model contract (``config.contract.enforced``) is kept as the
schema object's ``dbtContractEnforced`` property and its constraints (not_null, unique, primary_key) as
``required``/``unique``/``primaryKey``. The generic tests become quality rules: not_null -> ``nullValues``,
unique -> ``duplicateValues``, accepted_values -> ``invalidValues`` with ``validValues``, relationships -> a
property ``relationships`` foreign key. Compiled SQL is rewritten with sqlglot so that each relation a model
reads is named by its Tessera address (``domain.model``, ``source.system.table``), and written in DuckDB's
dialect. Manifest versions v7-v12 (dbt 1.3 and later) are read; others are refused.
"""

from __future__ import annotations

import re
from typing import Any

from tessera.errors import FormatError
from tessera.interop.dbt_sql import address_of, transform_sql
from tessera.interop.model import Imported, ImportOptions
from tessera.interop.odcs import contract_document, property_document, snake
from tessera.interop.types import logical_from_sql
from tessera.interop.walk import mapping, read_json

__all__ = ["SUPPORTED_VERSIONS", "import_dbt", "manifest_version"]

#: manifest schema versions read: v7 (dbt 1.3) to v12 (dbt 1.8 and later)
SUPPORTED_VERSIONS = range(7, 13)
_VERSION = re.compile(r"/manifest/v(\d+)\.json$")
_DIALECTS = {"postgres": "postgres", "redshift": "redshift", "snowflake": "snowflake", "bigquery": "bigquery",
             "databricks": "databricks", "spark": "spark", "duckdb": "duckdb", "trino": "trino",
             "sqlserver": "tsql", "fabric": "tsql", "clickhouse": "clickhouse", "athena": "athena"}  # fmt: skip
_SEVERITY = {"warn": "warning", "error": "error"}


def manifest_version(manifest: dict[str, Any], source: str) -> int:
    """The manifest's schema version; a clear refusal for one that is missing or not supported."""
    metadata = mapping(manifest.get("metadata"))
    text = metadata.get("dbt_schema_version")
    match = _VERSION.search(text) if isinstance(text, str) else None
    if not match:
        raise FormatError(f"{source}: metadata.dbt_schema_version is missing or not a manifest schema URL")
    version = int(match[1])
    if version not in SUPPORTED_VERSIONS:
        dbt = metadata.get("dbt_version", "?")
        raise FormatError(
            f"{source}: dbt manifest v{version} (dbt {dbt}) is not supported: Tessera reads manifest "
            f"v{SUPPORTED_VERSIONS[0]}-v{SUPPORTED_VERSIONS[-1]} (dbt 1.3 and later); regenerate it with a newer "
            "dbt (`dbt parse`)"
        )
    return version


def import_dbt(source: str, options: ImportOptions) -> list[Imported]:
    manifest = read_json(source)
    if not isinstance(manifest, dict):
        raise FormatError(f"{source}: a dbt manifest is a JSON object")
    manifest_version(manifest, source)
    metadata = manifest["metadata"]
    dialect = options.dialect or _DIALECTS.get(str(metadata.get("adapter_type")))
    domain = options.domain or snake(str(metadata.get("project_name") or "dbt"))
    nodes = mapping(manifest.get("nodes"))
    models = {k: n for k, n in nodes.items() if isinstance(n, dict) and n.get("resource_type") == "model"}
    names = {k: _product_name(n) for k, n in models.items()}
    if options.model:
        models = {k: n for k, n in models.items() if options.model in {n.get("name"), names[k]}}
        if not models:
            raise FormatError(
                f"{source}: no model named {options.model!r} (models: {', '.join(sorted(names.values()))})"
            )
    if not models:
        raise FormatError(f"{source}: the manifest has no models")
    tests = [n for n in nodes.values() if isinstance(n, dict) and n.get("resource_type") == "test"]
    sources = mapping(manifest.get("sources"))
    relations = {**{k: n for k, n in nodes.items() if isinstance(n, dict)}, **sources}
    return [
        _model(key, node, names, tests, relations, domain, dialect)
        for key, node in sorted(models.items(), key=lambda kv: names[kv[0]])
    ]


def _product_name(node: dict[str, Any]) -> str:
    name = snake(str(node.get("name") or "model"))
    version = node.get("version")
    return f"{name}_v{re.sub(r'[^0-9a-z]+', '_', str(version).lower())}" if version is not None else name


def _model(
    key: str,
    node: dict[str, Any],
    names: dict[str, str],
    tests: list[dict[str, Any]],
    relations: dict[str, Any],
    domain: str,
    dialect: str | None,
) -> Imported:
    name = names[key]
    notes: list[str] = []
    config = mapping(node.get("config"))
    enforced = (
        bool((config.get("contract") or {}).get("enforced"))
        if isinstance(config.get("contract"), dict)
        else False
    )
    columns = mapping(node.get("columns"))
    keys = _model_keys(node)
    props = [_column(c, keys, dialect) for c in columns.values() if isinstance(c, dict)]
    untyped = [p["name"] for p in props if "physicalType" not in p]
    if untyped:
        notes.append(
            f"model {name}: {len(untyped)} column(s) without data_type, typed string: {', '.join(untyped)}"
        )
    if not props:
        notes.append(f"model {name}: dbt documents no columns; add them to the contract before publishing")
    skipped = _apply_tests(key, props, tests)
    if skipped:
        notes.append(
            f"model {name}: dbt tests without an ODCS rule, not carried: {', '.join(sorted(skipped))}"
        )
    description = node.get("description") or None
    doc = contract_document(
        name, props, table=str(node.get("alias") or node.get("name")), description=description,
        table_description=description,
    )  # fmt: skip
    doc["id"] = f"{domain}-{name}"
    doc["domain"] = domain
    doc["dataProduct"] = name
    obj = doc["schema"][0]
    obj["name"] = name
    custom = [
        {"property": "dbtUniqueId", "value": key},
        {"property": "dbtContractEnforced", "value": enforced},
    ]
    obj["customProperties"] = custom
    if node.get("tags"):
        doc["tags"] = [str(t) for t in node["tags"]]
    depends = (node.get("depends_on") or {}).get("nodes") or []
    inputs = tuple(dict.fromkeys(a for d in depends if (a := address_of(d, relations, domain, names))))
    sql, note = transform_sql(node, relations, domain, names, dialect)
    if note:
        notes.append(f"model {name}: {note}")
    return Imported(
        contract=doc, name=name, transform=sql, inputs=inputs, description=description, notes=tuple(notes)
    )


def _model_keys(node: dict[str, Any]) -> list[str]:
    keys: list[str] = []
    for constraint in node.get("constraints") or []:
        if isinstance(constraint, dict) and constraint.get("type") == "primary_key":
            keys += [str(c) for c in constraint.get("columns") or []]
    return keys


def _column(column: dict[str, Any], keys: list[str], dialect: str | None) -> dict[str, Any]:
    name = str(column.get("name"))
    kinds = {c.get("type") for c in column.get("constraints") or [] if isinstance(c, dict)}
    primary = "primary_key" in kinds or name in keys
    data_type = column.get("data_type")
    fields: dict[str, Any] = {
        "physicalType": data_type if isinstance(data_type, str) and data_type else None,
        "description": column.get("description") or None,
        "required": True if primary or "not_null" in kinds else None,
        "unique": True if "unique" in kinds else None,
        "primaryKey": True if primary else None,
        "primaryKeyPosition": (keys.index(name) + 1 if name in keys else 1) if primary else None,
        "tags": [str(t) for t in column.get("tags") or []] or None,
    }
    logical = logical_from_sql(str(data_type), dialect) if fields["physicalType"] else "string"
    return property_document(name, logical, **fields)


def _apply_tests(key: str, props: list[dict[str, Any]], tests: list[dict[str, Any]]) -> list[str]:
    """Put the model's generic tests on their columns as rules; the names of the tests left out."""
    by_name = {str(p.get("physicalName") or p["name"]): p for p in props}
    skipped: list[str] = []
    for test in tests:
        meta = mapping(test.get("test_metadata"))
        kwargs = mapping(meta.get("kwargs"))
        if not _tests_model(test, kwargs, key):
            continue
        column = by_name.get(str(test.get("column_name") or kwargs.get("column_name")))
        rule = _rule(str(meta.get("name")), kwargs, column) if column is not None else None
        if rule is None or column is None:
            skipped.append(str(test.get("name")))
            continue
        severity = str(mapping(test.get("config")).get("severity", "error")).lower()
        if rule:
            rule = {"name": str(test.get("name")), **rule, "severity": _SEVERITY.get(severity, "error")}
            column.setdefault("quality", []).append(rule)
    return skipped


def _tests_model(test: dict[str, Any], kwargs: dict[str, Any], key: str) -> bool:
    """Whether ``test`` is defined on model ``key``: its ``attached_node`` (dbt 1.5+; None for a test on a
    source), else the ``ref()`` of its ``model`` argument."""
    if "attached_node" in test:
        return bool(test["attached_node"] == key)
    target = re.search(r"ref\(\s*['\"]([^'\"]+)['\"]", str(kwargs.get("model")))
    return bool(target) and key.split(".")[2:3] == [target[1]] if target else False


def _rule(test: str, kwargs: dict[str, Any], column: dict[str, Any]) -> dict[str, Any] | None:
    if test == "not_null":
        column["required"] = True
        return {"metric": "nullValues", "mustBe": 0}
    if test == "unique":
        column["unique"] = True
        return {"metric": "duplicateValues", "mustBe": 0}
    if test == "accepted_values" and isinstance(kwargs.get("values"), list):
        return {"metric": "invalidValues", "arguments": {"validValues": kwargs["values"]}, "mustBe": 0}
    if test == "relationships":
        target = re.search(r"ref\(\s*['\"]([^'\"]+)['\"]", str(kwargs.get("to")))
        field = kwargs.get("field")
        if target and isinstance(field, str):
            relationship = {"type": "foreignKey", "to": f"{snake(target[1])}.{snake(field)}"}
            column.setdefault("relationships", []).append(relationship)
        return {}
    return None
