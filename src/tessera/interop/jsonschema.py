"""JSON Schema <-> ODCS: an object schema is a table, its properties the columns.

Import follows ``$ref`` into ``definitions``/``$defs``, merges ``allOf``, reads ``["T", "null"]`` as an optional
column, ``format`` date-time/date/time as temporal types, string and number constraints as
``logicalTypeOptions`` and ``enum`` as an ``invalidValues`` rule with ``validValues``. Export writes draft
2020-12: what a row must look like. Rules across rows (uniqueness, row counts, SQL rules) have no place in it
and are reported as dropped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tessera.errors import FormatError
from tessera.interop.model import Exported, ExportOptions, Imported, ImportOptions
from tessera.interop.odcs import contract_document, property_document, snake
from tessera.interop.walk import mapping, objects, path_text, properties, read_json

__all__ = ["export_jsonschema", "import_jsonschema"]

_OPTIONS = ("minLength", "maxLength", "pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
            "minItems", "maxItems", "uniqueItems", "multipleOf")  # fmt: skip
_FORMATS = {"date-time": "timestamp", "date": "date", "time": "time"}
_DRAFT = "https://json-schema.org/draft/2020-12/schema"


def import_jsonschema(source: str, options: ImportOptions) -> list[Imported]:
    root = read_json(source)
    if not isinstance(root, dict):
        raise FormatError(f"{source}: a JSON Schema is a JSON object")
    schema = _resolve(root, root, set())
    if not isinstance(schema.get("properties"), dict):
        raise FormatError(f"{source}: the schema describes no object with properties (a table's columns)")
    name = options.name or str(root.get("title") or Path(source).stem.split(".")[0])
    props = _properties(schema, root)
    doc = contract_document(
        name, props, table=name, description=_text(root.get("description")),
        table_description=_text(root.get("description")),
    )  # fmt: skip
    return [Imported(contract=doc, name=snake(name))]


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _resolve(node: dict[str, Any], root: dict[str, Any], seen: set[str]) -> dict[str, Any]:
    """``node`` with its ``$ref`` followed and its ``allOf`` merged into one object schema."""
    ref = node.get("$ref")
    if isinstance(ref, str):
        if not ref.startswith("#/") or ref in seen:
            raise FormatError(f"$ref {ref!r}: only references inside the file, without cycles, are read")
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part) if isinstance(target, dict) else None
        if not isinstance(target, dict):
            raise FormatError(f"$ref {ref!r} names nothing in the file")
        node = {**_resolve(target, root, seen | {ref}), **{k: v for k, v in node.items() if k != "$ref"}}
    parts = node.get("allOf")
    if isinstance(parts, list):
        merged: dict[str, Any] = {k: v for k, v in node.items() if k != "allOf"}
        merged.setdefault("properties", {})
        required = list(merged.get("required") or [])
        for part in parts:
            if isinstance(part, dict):
                sub = _resolve(part, root, seen)
                merged["properties"] = {**merged["properties"], **(sub.get("properties") or {})}
                required += [r for r in sub.get("required") or [] if r not in required]
        merged["required"] = required
        return merged
    return node


def _types(node: dict[str, Any]) -> tuple[str | None, bool]:
    kind = node.get("type")
    if isinstance(kind, list):
        rest = [k for k in kind if k != "null"]
        return (rest[0] if rest else None), "null" in kind
    for key in ("anyOf", "oneOf"):
        if isinstance(node.get(key), list):
            kinds = [o.get("type") for o in node[key] if isinstance(o, dict)]
            rest = [k for k in kinds if k != "null" and isinstance(k, str)]
            return (rest[0] if rest else None), "null" in kinds
    return (kind if isinstance(kind, str) else None), False


def _properties(schema: dict[str, Any], root: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(schema.get("required") or [])
    return [
        _property(name, _resolve(node, root, set()) if isinstance(node, dict) else {}, name in required, root)
        for name, node in schema["properties"].items()
    ]


def _property(name: str, node: dict[str, Any], required: bool, root: dict[str, Any]) -> dict[str, Any]:
    kind, nullable = _types(node)
    logical = _logical(kind, node)
    options = {key: node[key] for key in _OPTIONS if key in node}
    if isinstance(node.get("format"), str) and node["format"] not in _FORMATS:
        options["format"] = node["format"]
    fields: dict[str, Any] = {
        "businessName": _text(node.get("title")),
        "description": _text(node.get("description")),
        "required": True if required and not nullable else None,
        "logicalTypeOptions": options,
        "examples": node.get("examples") if isinstance(node.get("examples"), list) else None,
    }
    if isinstance(node.get("enum"), list):
        values = [v for v in node["enum"] if v is not None]
        fields["quality"] = [{"metric": "invalidValues", "arguments": {"validValues": values}, "mustBe": 0}]
    if logical == "object" and isinstance(node.get("properties"), dict):
        fields["properties"] = _properties(node, root)
    if logical == "array" and isinstance(node.get("items"), dict):
        item = _resolve(node["items"], root, set())
        fields["items"] = _property("item", item, True, root)
    return property_document(name, logical, **fields)


def _logical(kind: str | None, node: dict[str, Any]) -> str:
    if kind == "string":
        return _FORMATS.get(str(node.get("format")), "string")
    if kind in {"integer", "number", "boolean", "array", "object"}:
        return kind
    return "object" if "properties" in node else "string"


def export_jsonschema(document: dict[str, Any], options: ExportOptions) -> Exported:
    dropped: list[str] = []
    tables = []
    for index, obj in objects(document):
        schema: dict[str, Any] = {"type": "object", "title": obj.get("physicalName") or obj.get("name")}
        if isinstance(obj.get("description"), str):
            schema["description"] = obj["description"]
        schema.update(_object_schema(obj, ("schema", index), dropped))
        if obj.get("quality"):
            dropped.append(path_text(("schema", index, "quality")))
        tables.append(schema)
    if not tables:
        raise FormatError("the contract has no schema object to describe")
    root: dict[str, Any] = {"$schema": _DRAFT}
    if len(tables) == 1:
        root.update(tables[0])
    else:
        root["$defs"] = {str(t["title"]): t for t in tables}
        root["anyOf"] = [{"$ref": f"#/$defs/{t['title']}"} for t in tables]
    return Exported(json.dumps(root, indent=2, ensure_ascii=False, default=str) + "\n", tuple(dropped))


def _object_schema(obj: dict[str, Any], path: tuple[str | int, ...], dropped: list[str]) -> dict[str, Any]:
    props, required = {}, []
    for index, prop in properties(obj):
        name = str(prop.get("physicalName") or prop.get("name"))
        props[name] = _schema(prop, (*path, "properties", index), dropped)
        if prop.get("required") is True or prop.get("primaryKey") is True:
            required.append(name)
    return {"properties": props, "required": required}


def _schema(prop: dict[str, Any], path: tuple[str | int, ...], dropped: list[str]) -> dict[str, Any]:
    logical = str(prop.get("logicalType") or "")
    out: dict[str, Any] = {}
    if prop.get("businessName"):
        out["title"] = prop["businessName"]
    if isinstance(prop.get("description"), str):
        out["description"] = prop["description"]
    kind = {"timestamp": "string", "date": "string", "time": "string", "map": "object", "vector": "array"}
    json_type = kind.get(logical, logical or None)
    if logical in _FORMATS.values():
        out["format"] = {v: k for k, v in _FORMATS.items()}[logical]
    options = mapping(prop.get("logicalTypeOptions"))
    for key in _OPTIONS:
        if key in options:
            out[key] = options[key]
    if logical == "string" and isinstance(options.get("format"), str):  # a date's format is how it is shown
        out["format"] = options["format"]
    if logical == "object" and prop.get("properties"):
        out.update(_object_schema(prop, path, dropped))
    if logical == "array" and isinstance(prop.get("items"), dict):
        out["items"] = _schema(prop["items"], (*path, "items"), dropped)
    optional = not (prop.get("required") is True or prop.get("primaryKey") is True)
    if json_type:
        out["type"] = [json_type, "null"] if optional else json_type
    for qindex, rule in enumerate(prop.get("quality") or []):
        values = (rule.get("arguments") or {}).get("validValues") if isinstance(rule, dict) else None
        if rule.get("metric") == "invalidValues" and isinstance(values, list) and rule.get("mustBe") == 0:
            out["enum"] = [*values, None] if optional else values
        else:
            dropped.append(path_text((*path, "quality", qindex)))
    if prop.get("unique") is True:
        dropped.append(path_text((*path, "unique")))
    examples = prop.get("examples")
    if isinstance(examples, list):
        out["examples"] = examples
    return out
