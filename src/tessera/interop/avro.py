"""Avro schemas <-> ODCS: a record is a table, its fields the columns (Avro schemas are JSON: no Avro library).

Import: ``["null", T]`` is an optional column, Avro logical types map to ODCS ones (decimal keeps precision and
scale in ``physicalType``), the Avro type name is kept as ``physicalType``, an enum becomes a string with an
``invalidValues``/``validValues`` rule, a nested record an object, ``doc`` the description, a default and a
namespace custom properties. A type ODCS has no word for (a union of several types, ``fixed``) is kept whole in
the ``avroType`` custom property, so it comes back unchanged. Export writes the reverse; row rules, patterns and
ranges have no place in Avro and are reported as dropped.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tessera.errors import FormatError
from tessera.interop.model import Exported, ExportOptions, Imported, ImportOptions
from tessera.interop.odcs import contract_document, property_document, snake
from tessera.interop.walk import mapping, objects, path_text, properties, read_json, rule_fields

__all__ = ["export_avro", "import_avro"]

_PRIMITIVE = {"string": "string", "int": "integer", "long": "integer", "float": "number", "double": "number",
              "boolean": "boolean", "bytes": "string"}  # fmt: skip
_LOGICAL = {"date": "date", "time-millis": "time", "time-micros": "time", "timestamp-millis": "timestamp",
            "timestamp-micros": "timestamp", "timestamp-nanos": "timestamp", "local-timestamp-millis": "timestamp",
            "local-timestamp-micros": "timestamp", "local-timestamp-nanos": "timestamp", "uuid": "string",
            "decimal": "number"}  # fmt: skip
_BASE = {"date": "int", "time-millis": "int", "time-micros": "long", "uuid": "string"}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def import_avro(source: str, options: ImportOptions) -> list[Imported]:
    schema = read_json(source)
    records = schema if isinstance(schema, list) else [schema]
    records = [r for r in records if isinstance(r, dict) and r.get("type") == "record"]
    if not records:
        raise FormatError(f'{source}: an Avro schema of a table is a record ("type": "record" with fields)')
    if options.table:
        records = [r for r in records if r.get("name") == options.table]
        if not records:
            raise FormatError(f"{source}: no record named {options.table!r}")
    objs = [_object(r) for r in records]
    name = options.name or str(records[0].get("name") or Path(source).stem)
    doc = contract_document(name, objs[0]["properties"], table=str(records[0].get("name") or name))
    doc["schema"] = objs
    return [Imported(contract=doc, name=snake(name))]


def _object(record: dict[str, Any]) -> dict[str, Any]:
    name = str(record.get("name") or "record")
    obj: dict[str, Any] = {"name": snake(name)}
    if obj["name"] != name:
        obj["physicalName"] = name
    obj["physicalType"] = "record"
    if isinstance(record.get("doc"), str):
        obj["description"] = record["doc"]
    obj["properties"] = [_field(f) for f in record.get("fields") or [] if isinstance(f, dict)]
    if record.get("namespace"):
        obj["customProperties"] = [{"property": "avroNamespace", "value": record["namespace"]}]
    return obj


def _field(field: dict[str, Any]) -> dict[str, Any]:
    kind = field.get("type")
    if isinstance(kind, str) and isinstance(
        field.get("logicalType"), str
    ):  # written on the field, not the type
        kind = {
            "type": kind,
            **{k: v for k, v in field.items() if k in {"logicalType", "precision", "scale"}},
        }
    prop = _typed(str(field.get("name")), kind)
    if isinstance(field.get("doc"), str):
        prop["description"] = field["doc"]
    implied = field.get("default", 0) is None and isinstance(kind, list) and kind[:1] == ["null"]
    if "default" in field and not implied:  # null for a ["null", T] union is what export writes anyway
        prop.setdefault("customProperties", []).append({"property": "avroDefault", "value": field["default"]})
    return prop


def _typed(name: str, kind: Any) -> dict[str, Any]:
    optional = False
    if isinstance(kind, list):
        rest = [k for k in kind if k != "null"]
        optional = len(rest) < len(kind)
        if len(rest) != 1:
            prop = property_document(
                name, "string", physicalType="union", required=None if optional else True
            )
            prop["customProperties"] = [{"property": "avroType", "value": kind}]
            return prop
        kind = rest[0]
    fields: dict[str, Any] = {"required": None if optional else True}
    if isinstance(kind, str):
        kind = {"type": kind}
    if not isinstance(kind, dict):
        raise FormatError(f"field {name!r}: {kind!r} is not an Avro type")
    avro_type, logical_name = kind.get("type"), kind.get("logicalType")
    if isinstance(logical_name, str) and logical_name in _LOGICAL:
        logical = _LOGICAL[logical_name]
        fields["physicalType"] = logical_name
        if logical_name == "decimal" and "precision" in kind:
            fields["physicalType"] = f"decimal({kind['precision']},{kind.get('scale', 0)})"
        if logical == "timestamp" and not logical_name.startswith("local"):
            fields["logicalTypeOptions"] = {"timezone": True}
    elif avro_type in _PRIMITIVE:
        logical, fields["physicalType"] = _PRIMITIVE[str(avro_type)], avro_type
    elif avro_type == "enum":
        logical, fields["physicalType"] = "string", "enum"
        rule = {
            "metric": "invalidValues",
            "arguments": {"validValues": kind.get("symbols") or []},
            "mustBe": 0,
        }
        fields["quality"] = [rule]
    elif avro_type == "record":
        logical, fields["physicalType"] = "object", "record"
        fields["properties"] = [_field(f) for f in kind.get("fields") or [] if isinstance(f, dict)]
    elif avro_type == "array":
        logical, fields["physicalType"] = "array", "array"
        fields["items"] = _typed("item", kind.get("items"))
    elif avro_type == "map":
        logical, fields["physicalType"] = "map", "map"
        fields["map"] = {"key": {"logicalType": "string"}, "value": _typed("value", kind.get("values"))}
    else:
        prop = property_document(name, "string", physicalType=str(avro_type), **fields)
        prop["customProperties"] = [{"property": "avroType", "value": kind}]
        return prop
    prop = property_document(name, logical, **fields)
    if avro_type in {"record", "enum"} and kind.get("name") not in {None, name}:
        prop["customProperties"] = [{"property": "avroTypeName", "value": kind["name"]}]
    return prop


def export_avro(document: dict[str, Any], options: ExportOptions) -> Exported:
    dropped: list[str] = []
    records = [_record(obj, ("schema", index), dropped) for index, obj in objects(document)]
    if not records:
        raise FormatError("the contract has no schema object to write as an Avro record")
    schema: Any = records[0] if len(records) == 1 else records
    return Exported(json.dumps(schema, indent=2, ensure_ascii=False, default=str) + "\n", tuple(dropped))


def _avro_name(prop: dict[str, Any]) -> str:
    for candidate in (prop.get("physicalName"), prop.get("name")):
        if isinstance(candidate, str) and _NAME.match(candidate):
            return candidate
    return snake(str(prop.get("name") or "field"))


def _custom(prop: dict[str, Any], key: str) -> Any:
    for item in prop.get("customProperties") or []:
        if isinstance(item, dict) and item.get("property") == key:
            return item.get("value")
    return None


def _record(obj: dict[str, Any], path: tuple[str | int, ...], dropped: list[str]) -> dict[str, Any]:
    record: dict[str, Any] = {"type": "record", "name": _custom(obj, "avroTypeName") or _avro_name(obj)}
    namespace = _custom(obj, "avroNamespace")
    if namespace:
        record["namespace"] = namespace
    if isinstance(obj.get("description"), str):
        record["doc"] = obj["description"]
    record["fields"] = [_out_field(p, (*path, "properties", i), dropped) for i, p in properties(obj)]
    if obj.get("quality"):
        dropped.append(path_text((*path, "quality")))
    return record


def _out_field(prop: dict[str, Any], path: tuple[str | int, ...], dropped: list[str]) -> dict[str, Any]:
    field: dict[str, Any] = {"name": _avro_name(prop)}
    if isinstance(prop.get("description"), str):
        field["doc"] = prop["description"]
    field["type"] = _out_type(prop, path, dropped)
    default = _custom(prop, "avroDefault")
    if default is not None or any(
        isinstance(c, dict) and c.get("property") == "avroDefault" for c in prop.get("customProperties") or []
    ):
        field["default"] = default
    elif isinstance(field["type"], list) and field["type"][0] == "null":
        field["default"] = None
    return field


def _out_type(prop: dict[str, Any], path: tuple[str | int, ...], dropped: list[str]) -> Any:
    kept = _custom(prop, "avroType")
    if kept is not None:
        return kept
    optional = not (prop.get("required") is True or prop.get("primaryKey") is True)
    kind = _base_type(prop, path, dropped)
    return ["null", kind] if optional else kind


def _base_type(prop: dict[str, Any], path: tuple[str | int, ...], dropped: list[str]) -> Any:
    logical = str(prop.get("logicalType") or "string")
    physical = str(prop.get("physicalType") or "").lower()
    carried: frozenset[str] = frozenset()
    rules = [r for r in prop.get("quality") or [] if isinstance(r, dict)]
    symbols = next(
        ((r.get("arguments") or {}).get("validValues") for r in rules if r.get("metric") == "invalidValues"),
        None,
    )
    result: Any
    if logical == "string" and physical == "enum" and isinstance(symbols, list) and len(rules) == 1:
        name = _custom(prop, "avroTypeName") or _avro_name(prop)
        result = {"type": "enum", "name": name, "symbols": [str(s) for s in symbols]}
        carried = frozenset({"quality"})
    elif logical == "object" and prop.get("properties"):
        result = _record(prop, path, dropped)
    elif logical == "array" and isinstance(prop.get("items"), dict):
        result = {"type": "array", "items": _out_type(prop["items"], (*path, "items"), dropped)}
    elif logical == "map" and isinstance(mapping(prop.get("map")).get("value"), dict):
        result = {"type": "map", "values": _out_type(prop["map"]["value"], (*path, "map", "value"), dropped)}
    else:
        result = _scalar(logical, physical, prop)
    dropped.extend(rule_fields(prop, path, carried))
    return result


def _scalar(logical: str, physical: str, prop: dict[str, Any]) -> Any:
    if physical in _LOGICAL and _LOGICAL[physical] == logical:
        base = _BASE.get(physical, "long") if physical != "decimal" else "bytes"
        return {"type": base, "logicalType": physical}
    match = re.match(r"^(?:decimal|numeric)\s*\(\s*(\d+)\s*(?:,\s*(\d+))?\s*\)$", physical)
    if logical == "number" and match:
        return {
            "type": "bytes",
            "logicalType": "decimal",
            "precision": int(match[1]),
            "scale": int(match[2] or 0),
        }
    if physical in _PRIMITIVE and _PRIMITIVE[physical] == logical:
        return physical
    if logical == "timestamp":
        options = prop.get("logicalTypeOptions") or {}
        tz = isinstance(options, dict) and options.get("timezone") is not False
        return {"type": "long", "logicalType": "timestamp-micros" if tz else "local-timestamp-micros"}
    if logical == "date":
        return {"type": "int", "logicalType": "date"}
    if logical == "time":
        return {"type": "long", "logicalType": "time-micros"}
    return {"integer": "long", "number": "double", "boolean": "boolean"}.get(logical, "string")
