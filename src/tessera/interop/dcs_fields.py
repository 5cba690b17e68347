"""The parts of a DCS file, one by one, to their ODCS counterparts and back (see ``dcs.py``)."""

from __future__ import annotations

import re
from typing import Any

from tessera.interop.odcs import property_document
from tessera.interop.walk import mapping, path_text

__all__ = [
    "fit_servers",
    "model_to_object",
    "object_to_model",
    "server_to_dcs",
    "server_to_odcs",
    "servicelevels_to_sla",
    "sla_to_servicelevels",
]

_TYPES = {
    "string": "string", "text": "string", "varchar": "string", "bytes": "string", "null": "string",
    "number": "number", "decimal": "number", "numeric": "number", "float": "number", "double": "number",
    "int": "integer", "integer": "integer", "long": "integer", "bigint": "integer",
    "boolean": "boolean", "timestamp": "timestamp", "timestamp_tz": "timestamp", "timestamp_ntz": "timestamp",
    "date": "date", "time": "time", "array": "array", "object": "object", "record": "object",
    "struct": "object", "map": "map",
}  # fmt: skip
_OPTIONS = ("minLength", "maxLength", "pattern", "format", "minimum", "maximum", "exclusiveMinimum",
            "exclusiveMaximum", "minItems", "maxItems", "uniqueItems")  # fmt: skip
_FIELD_DIRECT = {"title": "businessName", "description": "description", "required": "required",
                 "unique": "unique", "classification": "classification", "tags": "tags", "examples": "examples",
                 "quality": "quality"}  # fmt: skip
#: DCS types whose ODCS physical type is spelt differently (``bytes`` is no SQL type; ``binary`` is).
_PHYSICAL = {"bytes": "binary"}
#: The keys of an ODCS v3 quality rule (DataQuality and its library/sql/custom branches).
_RULE_KEYS = {"id", "name", "description", "type", "dimension", "method", "schedule", "scheduler", "severity",
              "businessImpact", "unit", "tags", "authoritativeDefinitions", "customProperties", "metric", "rule",
              "arguments", "query", "engine", "implementation", "mustBe", "mustNotBe", "mustBeGreaterThan",
              "mustBeGreaterOrEqualTo", "mustBeLessThan", "mustBeLessOrEqualTo", "mustBeBetween",
              "mustNotBeBetween"}  # fmt: skip
_HANDLED = {*_FIELD_DIRECT, *_OPTIONS, "type", "enum", "fields", "items", "values", "keys", "precision",
            "scale", "primaryKey", "primary", "$ref", "lineage"}  # fmt: skip


def model_to_object(
    name: str, model: Any, definitions: dict[str, Any], notes: list[str] | None = None
) -> dict[str, Any]:
    """A DCS model as an ODCS schema object, its name as written (``config.<server>Table`` names the table
    it is stored as: ``physicalName``). Quality rule keys ODCS has no room for are noted in ``notes``."""
    model = model if isinstance(model, dict) else {}
    notes = notes if notes is not None else []
    obj: dict[str, Any] = {"name": name}
    config = dict(mapping(model.get("config")))
    tables = {k: v for k, v in config.items() if k.endswith("Table") and isinstance(v, str) and v}
    if len(set(tables.values())) == 1:
        obj["physicalName"] = next(iter(tables.values()))
        config = {k: v for k, v in config.items() if k not in tables}
    obj["physicalType"] = str(model.get("type") or "table")
    if model.get("title"):
        obj["businessName"] = model["title"]
    if model.get("description"):
        obj["description"] = model["description"]
    if isinstance(model.get("quality"), list):
        obj["quality"] = [_quality(q, f"models.{name}", notes) for q in model["quality"]]
    keys = model.get("primaryKey") if isinstance(model.get("primaryKey"), list) else []
    fields = mapping(model.get("fields"))
    obj["properties"] = [_field(n, f, definitions, keys, f"models.{name}", notes) for n, f in fields.items()]
    custom = {k: v for k, v in model.items() if k not in {"type", "title", "description", "quality", "fields",
                                                          "primaryKey", "config"}}  # fmt: skip
    if config:
        custom["config"] = config
    if custom:
        obj["customProperties"] = [{"property": k, "value": v} for k, v in custom.items()]
    return obj


def _resolve(field: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    ref = field.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/definitions/"):
        target = definitions.get(ref.removeprefix("#/definitions/"))
        if isinstance(target, dict):
            merged = {k: v for k, v in target.items() if k != "name"}
            merged.update(field)
            return merged
    return field


def _field(
    name: str, field: Any, definitions: dict[str, Any], keys: list[str], where: str, notes: list[str]
) -> dict[str, Any]:
    """A DCS field as an ODCS property named as written; a field without ``type`` gets no logical type (only
    its presence is checked), ``bytes`` is stored as ``binary``."""
    field = _resolve(field if isinstance(field, dict) else {}, definitions)
    where = f"{where}.{name}"
    kind = str(field.get("type") or "").lower()
    logical = _TYPES.get(kind, "string") if kind else None
    out: dict[str, Any] = {_FIELD_DIRECT[k]: v for k, v in field.items() if k in _FIELD_DIRECT}
    out["physicalType"] = _PHYSICAL.get(kind, kind) or None
    if kind in {"decimal", "numeric"} and "precision" in field:
        out["physicalType"] = f"decimal({field['precision']},{field.get('scale', 0)})"
    options = {k: field[k] for k in _OPTIONS if k in field}
    if options:
        out["logicalTypeOptions"] = options
    if field.get("primaryKey") or field.get("primary") or name in keys:
        out["primaryKey"] = True
        out["primaryKeyPosition"] = keys.index(name) + 1 if name in keys else 1
    quality = [_quality(q, where, notes) for q in out.pop("quality", None) or []]
    if isinstance(field.get("enum"), list):
        quality.append({"metric": "invalidValues", "arguments": {"validValues": field["enum"]}, "mustBe": 0})
    if quality:
        out["quality"] = quality
    if logical == "object" and isinstance(field.get("fields"), dict):
        out["properties"] = [_field(n, f, definitions, [], where, notes) for n, f in field["fields"].items()]
    if logical == "array" and isinstance(field.get("items"), dict):
        out["items"] = _field("item", field["items"], definitions, [], where, notes)
    if logical == "map" and isinstance(field.get("values"), dict):
        key = _field("key", field.get("keys") or {"type": "string"}, definitions, [], where, notes)
        out["map"] = {"key": key, "value": _field("value", field["values"], definitions, [], where, notes)}
    custom = [{"property": k, "value": v} for k, v in field.items() if k not in _HANDLED]
    if isinstance(field.get("$ref"), str):
        out["authoritativeDefinitions"] = [{"type": "definition", "url": field["$ref"]}]
    if field.get("lineage"):
        custom.append({"property": "lineage", "value": field["lineage"]})
    if custom:
        out["customProperties"] = custom
    return property_document(name, logical, exact=True, **out)


def _quality(rule: Any, where: str, notes: list[str]) -> Any:
    """A DCS quality rule as ODCS's: a key ODCS's rule has no room for (``dialect``) moves into the rule's
    ``customProperties`` with a note, so the rule itself still loads and runs."""
    if not isinstance(rule, dict):
        return rule
    kind = rule.get("type")
    if kind in {None, "sql", "text", "library", "custom"}:
        kept = {k: v for k, v in rule.items() if k in _RULE_KEYS}
        extra = [{"property": k, "value": v} for k, v in rule.items() if k not in _RULE_KEYS]
        if extra:
            kept["customProperties"] = [*(kept.get("customProperties") or []), *extra]
            keys = ", ".join(str(e["property"]) for e in extra)
            notes.append(
                f"{where}.quality: kept {keys} as the rule's customProperties (ODCS has no such key)"
            )
        return kept
    rest = {k: v for k, v in rule.items() if k not in {"type", "description"}}
    out: dict[str, Any] = {"type": "custom", "engine": str(kind), "implementation": rest}
    if rule.get("description"):
        out["description"] = rule["description"]
    return out


def server_to_odcs(name: str, server: Any) -> dict[str, Any]:
    server = server if isinstance(server, dict) else {}
    out: dict[str, Any] = {"server": name, "type": str(server.get("type") or "custom")}
    out.update({k: v for k, v in server.items() if k != "type"})
    if isinstance(out.get("roles"), list):
        out["roles"] = [_rename(r, "name", "role") for r in out["roles"]]
    return out


def _rename(item: Any, old: str, new: str) -> Any:
    if isinstance(item, dict) and old in item and new not in item:
        return {(new if k == old else k): v for k, v in item.items()}
    return item


def fit_servers(doc: dict[str, Any]) -> dict[str, Any]:
    """Move each server key the ODCS schema does not allow into that server's ``customProperties``."""
    from tessera.spec.schemas import schema_errors

    servers = doc.get("servers")
    if not isinstance(servers, list):
        return doc
    for _ in range(5):  # a key at a time per server: a few passes settle it
        moved = False
        for path, message in schema_errors("odcs", doc):
            if len(path) == 2 and path[0] == "servers" and isinstance(path[1], int):
                key = _unknown_key(message)
                server = servers[path[1]]
                if key and key in server:
                    server.setdefault("customProperties", []).append(
                        {"property": key, "value": server.pop(key)}
                    )
                    moved = True
            elif len(path) == 3 and path[0] == "servers" and isinstance(path[1], int):
                server, key = servers[path[1]], str(path[2])
                if key in server and key not in {"server", "type", "customProperties"}:
                    server.setdefault("customProperties", []).append(
                        {"property": key, "value": server.pop(key)}
                    )
                    moved = True
        if not moved:
            break
    return doc


def _unknown_key(message: str) -> str | None:
    match = re.search(r"'([^']+)'", message)
    return (
        match[1]
        if match and ("unknown" in message or "not allowed" in message or "unexpected" in message)
        else None
    )


def servicelevels_to_sla(levels: Any) -> list[dict[str, Any]]:
    if not isinstance(levels, dict):
        return []
    out: list[dict[str, Any]] = []
    for name, given in levels.items():
        level = given if isinstance(given, dict) else {}
        item: dict[str, Any] = {"property": str(name)}
        duration = level.get("threshold") or level.get("period") or level.get("interval")
        value, unit = _duration(duration) if isinstance(duration, str) else (None, None)
        if name == "availability" and level.get("percentage"):
            item["value"] = level["percentage"]
        elif value is not None:
            item["value"], item["unit"] = value, unit
        elif duration is not None:
            item["value"] = duration
        else:
            item["value"] = level.get("description") or True
        element = level.get("timestampField") or level.get("field")
        if element:
            item["element"] = str(element)
        if level.get("description"):
            item["description"] = level["description"]
        out.append(item)
    return out


_DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


def _duration(text: str) -> tuple[int | None, str | None]:
    match = _DURATION.match(text.strip().upper())
    if not match:
        return None, None
    units = ("y", "month", "d", "h", "m", "s")
    given = [(int(v), u) for v, u in zip(match.groups(), units, strict=True) if v]
    return given[0] if len(given) == 1 else (None, None)


def server_to_dcs(server: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in server.items() if k not in {"server", "customProperties"}}
    if isinstance(out.get("roles"), list):
        out["roles"] = [_rename(r, "role", "name") for r in out["roles"]]
    for item in server.get("customProperties") or []:
        if isinstance(item, dict) and isinstance(item.get("property"), str):
            out[item["property"]] = item.get("value")
    return out


def object_to_model(obj: dict[str, Any], path: tuple[str | int, ...], dropped: list[str]) -> dict[str, Any]:
    model: dict[str, Any] = {"type": obj.get("physicalType") or "table"}
    if obj.get("businessName"):
        model["title"] = obj["businessName"]
    if obj.get("description"):
        model["description"] = obj["description"]
    for item in obj.get("customProperties") or []:
        if isinstance(item, dict) and isinstance(item.get("property"), str):
            model[item["property"]] = item.get("value")
    keys = sorted(
        (int(p.get("primaryKeyPosition") or 0), str(p.get("physicalName") or p.get("name")))
        for p in obj.get("properties") or []
        if isinstance(p, dict) and p.get("primaryKey")
    )
    if len(keys) > 1:
        model["primaryKey"] = [name for _, name in keys]
    model["fields"] = {
        str(p.get("physicalName") or p.get("name")): _to_field(
            p, (*path, "properties", i), dropped, len(keys) == 1
        )
        for i, p in enumerate(obj.get("properties") or [])
        if isinstance(p, dict)
    }
    if obj.get("quality"):
        model["quality"] = obj["quality"]
    for key in ("authoritativeDefinitions", "tags", "dataGranularityDescription"):
        if obj.get(key):
            dropped.append(path_text((*path, key)))
    return model


_DCS_TYPE = {"string": "string", "integer": "integer", "number": "number", "boolean": "boolean",
             "timestamp": "timestamp", "date": "date", "time": "string", "array": "array", "object": "object",
             "map": "map", "vector": "array"}  # fmt: skip


def _to_field(
    prop: dict[str, Any], path: tuple[str | int, ...], dropped: list[str], single_key: bool
) -> dict[str, Any]:
    logical = str(prop.get("logicalType") or "string")
    physical = str(prop.get("physicalType") or "")
    field: dict[str, Any] = {}
    if prop.get("logicalType") or physical:  # neither: a field of any type, as DCS allows
        field["type"] = _dcs_type(logical, physical)
    match = re.match(r"^(?:decimal|numeric)\s*\(\s*(\d+)\s*(?:,\s*(\d+))?\s*\)$", physical.lower())
    if match:
        field["type"], field["precision"], field["scale"] = "decimal", int(match[1]), int(match[2] or 0)
    for odcs_key, dcs_key in {v: k for k, v in _FIELD_DIRECT.items()}.items():
        if odcs_key in prop and odcs_key != "quality":
            field[dcs_key] = prop[odcs_key]
    if prop.get("primaryKey") and single_key:
        field["primaryKey"] = True
    options = mapping(prop.get("logicalTypeOptions"))
    field.update({k: v for k, v in options.items() if k in _OPTIONS})
    for key in options:
        if key not in _OPTIONS:
            dropped.append(path_text((*path, "logicalTypeOptions", key)))
    rules = []
    for rule in prop.get("quality") or []:
        values = (rule.get("arguments") or {}).get("validValues") if isinstance(rule, dict) else None
        if (
            isinstance(rule, dict)
            and rule.get("metric") == "invalidValues"
            and isinstance(values, list)
            and set(rule) <= {"metric", "arguments", "mustBe"}
        ):
            field["enum"] = values
        else:
            rules.append(rule)
    if rules:
        field["quality"] = rules
    if isinstance(prop.get("properties"), list):
        field["fields"] = {
            str(p.get("physicalName") or p.get("name")): _to_field(
                p, (*path, "properties", i), dropped, False
            )
            for i, p in enumerate(prop["properties"])
            if isinstance(p, dict)
        }
    if isinstance(prop.get("items"), dict):
        field["items"] = _to_field(prop["items"], (*path, "items"), dropped, False)
    for part in ("key", "value"):
        inner = mapping(prop.get("map")).get(part)
        if isinstance(inner, dict):
            field[f"{part}s"] = _to_field(inner, (*path, "map", part), dropped, False)
    for item in prop.get("customProperties") or []:
        if isinstance(item, dict) and isinstance(item.get("property"), str):
            field[item["property"]] = item.get("value")
    for key in ("authoritativeDefinitions", "criticalDataElement", "partitioned", "transformLogic",
                "transformSourceObjects", "encryptedName", "relationships"):  # fmt: skip
        if prop.get(key):
            dropped.append(path_text((*path, key)))
    return field


def _dcs_type(logical: str, physical: str) -> str:
    if physical.lower() in {"binary", "varbinary", "blob", "bytea", "bytes"}:
        return "bytes"
    if physical.lower() in _TYPES and _TYPES[physical.lower()] == logical:
        return physical.lower()
    return _DCS_TYPE.get(logical, "string")


def sla_to_servicelevels(items: Any, dropped: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for index, item in enumerate(items if isinstance(items, list) else []):
        if not isinstance(item, dict) or not isinstance(item.get("property"), str):
            continue
        level: dict[str, Any] = {}
        if item.get("description"):
            level["description"] = item["description"]
        value, unit = item.get("value"), item.get("unit")
        name = item["property"]
        if name == "availability":
            level["percentage"] = value
        elif isinstance(value, int) and isinstance(unit, str):
            level["threshold" if name in {"freshness", "latency"} else "period"] = _iso(value, unit)
        elif value is not None and value is not True:
            level["threshold"] = value
        if item.get("element"):
            level["timestampField"] = item["element"]
        if name in out:
            dropped.append(path_text(("slaProperties", index)))
            continue
        out[name] = level
    return out


def _iso(value: int, unit: str) -> str:
    unit = unit.lower()
    if unit in {"y", "yr", "year", "years"}:
        return f"P{value}Y"
    if unit in {"month", "months"}:
        return f"P{value}M"
    if unit in {"d", "day", "days"}:
        return f"P{value}D"
    letter = {"h": "H", "hr": "H", "hour": "H", "hours": "H", "m": "M", "min": "M", "minute": "M",
              "minutes": "M"}.get(unit, "S")  # fmt: skip
    return f"PT{value}{letter}"
