"""Building, normalising and writing ODCS v3 documents; the ``odcs`` import and export.

``export odcs`` is the round trip of a loaded contract: ``load_contract`` keeps the document as written
(``Contract.document``, which is also what the catalog stores), and the export writes that document back with
keys in the standard's order. Normalisation changes only the order of keys and the YAML layout (and, since the
catalog keeps JSON, a YAML date becomes its ISO string); no field is added or dropped (docs/interop.md).
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from tessera.interop.model import Exported, ExportOptions, Imported, ImportOptions

__all__ = [
    "contract_document",
    "dump_yaml",
    "export_odcs",
    "import_odcs",
    "mesh_names",
    "normalise",
    "property_document",
    "snake",
]

API_VERSION = "v3.1.0"
_TOP = (
    "apiVersion", "kind", "id", "name", "version", "status", "domain", "dataProduct", "tenant",
    "description", "tags", "schema", "quality", "servers", "support", "team", "roles", "price",
    "slaDefaultElement", "slaProperties", "authoritativeDefinitions", "customProperties", "contractCreatedTs",
)  # fmt: skip
_OBJECT = (
    "name", "physicalName", "logicalType", "physicalType", "businessName", "description", "dataGranularityDescription",
    "tags", "quality", "properties", "authoritativeDefinitions", "customProperties",
)  # fmt: skip
_PROPERTY = (
    "name", "physicalName", "logicalType", "physicalType", "logicalTypeOptions", "businessName", "description",
    "required", "unique", "primaryKey", "primaryKeyPosition", "partitioned", "partitionKeyPosition",
    "classification", "criticalDataElement", "encryptedName", "transformSourceObjects", "transformLogic",
    "transformDescription", "examples", "tags", "items", "properties", "quality", "relationships",
    "authoritativeDefinitions", "customProperties",
)  # fmt: skip
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake(name: str) -> str:
    """``OrderID`` -> ``order_id``, ``first-name`` -> ``first_name``: a lower snake_case name for Tessera's
    strict level (the source name stays in ``physicalName``)."""
    text = _CAMEL.sub("_", name.strip())
    text = re.sub(r"[^0-9A-Za-z]+", "_", text).strip("_").lower()
    text = re.sub(r"_+", "_", text)
    if not text:
        return "column"
    return text if text[0].isalpha() else f"c_{text}"


def property_document(
    name: str, logical: str | None, *, exact: bool = False, **fields: Any
) -> dict[str, Any]:
    """One ODCS property: a snake_case ``name`` (the original in ``physicalName`` when it differs; the name as
    given when ``exact``), the logical type (left out when None) and the fields given, leaving out those that
    are None or empty."""
    prop: dict[str, Any] = {"name": name if exact else snake(name)}
    if prop["name"] != name:
        prop["physicalName"] = name
    if logical is not None:
        prop["logicalType"] = logical
    prop.update({key: value for key, value in fields.items() if value not in (None, [], {}, "")})
    return _ordered(prop, _PROPERTY)


def contract_document(
    name: str,
    properties: list[dict[str, Any]],
    *,
    table: str | None = None,
    version: str = "1.0.0",
    description: str | None = None,
    table_description: str | None = None,
    quality: list[dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A standard ODCS v3 contract with one schema object (the table) holding ``properties``."""
    table_name = table or name
    obj: dict[str, Any] = {"name": snake(table_name)}
    if obj["name"] != table_name:
        obj["physicalName"] = table_name
    obj["physicalType"] = "table"
    if table_description:
        obj["description"] = table_description
    if quality:
        obj["quality"] = quality
    obj["properties"] = properties
    doc: dict[str, Any] = {
        "apiVersion": API_VERSION,
        "kind": "DataContract",
        "id": snake(name).replace("_", "-"),
        "name": snake(name),
        "version": version,
        "status": "active",
    }
    if description:
        doc["description"] = {"purpose": description}
    doc["schema"] = [obj]
    doc.update(extra or {})
    return normalise(doc)


def _ordered(mapping: dict[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    first = {key: mapping[key] for key in order if key in mapping}
    return {**first, **{key: value for key, value in mapping.items() if key not in first}}


def mesh_names(doc: dict[str, Any]) -> dict[str, Any]:
    """The contract with every schema object and property named in snake_case, as a mesh's strict level
    wants (docs/architecture.md); a name that changes keeps the source's spelling in ``physicalName``."""
    out = dict(doc)
    if isinstance(out.get("schema"), list):
        out["schema"] = [_snake_named(o) if isinstance(o, dict) else o for o in out["schema"]]
    return out


def _snake_named(node: dict[str, Any]) -> dict[str, Any]:
    out = dict(node)
    name = out.get("name")
    if isinstance(name, str) and snake(name) != name:
        out.setdefault("physicalName", name)
        out["name"] = snake(name)
    if isinstance(out.get("properties"), list):
        out["properties"] = [_snake_named(p) if isinstance(p, dict) else p for p in out["properties"]]
    if isinstance(out.get("items"), dict):
        out["items"] = _snake_named(out["items"])
    return _ordered(out, ("name", "physicalName"))


def normalise(doc: dict[str, Any]) -> dict[str, Any]:
    """The same document with keys in the standard's order (top level, schema objects, properties at any
    depth); values untouched."""
    out = _ordered(doc, _TOP)
    if isinstance(out.get("schema"), list):
        out["schema"] = [_object(o) if isinstance(o, dict) else o for o in out["schema"]]
    return out


def _object(obj: dict[str, Any]) -> dict[str, Any]:
    out = _ordered(obj, _OBJECT)
    if isinstance(out.get("properties"), list):
        out["properties"] = [_property(p) if isinstance(p, dict) else p for p in out["properties"]]
    return out


def _property(prop: dict[str, Any]) -> dict[str, Any]:
    out = _ordered(prop, _PROPERTY)
    if isinstance(out.get("properties"), list):
        out["properties"] = [_property(p) if isinstance(p, dict) else p for p in out["properties"]]
    if isinstance(out.get("items"), dict):
        out["items"] = _property(out["items"])
    return out


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)  # list items indented under their key


def _text(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _text)


def dump_yaml(doc: Any) -> str:
    """YAML as people write it: keys in the given order, block style, multi-line text as ``|`` blocks."""
    text: str = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110)
    return text


def import_odcs(source: str, options: ImportOptions) -> list[Imported]:
    """An ODCS file read at the standard's level (``load_contract``); its document comes back normalised."""
    from tessera.spec.contract import load_contract

    contract = load_contract(source)
    return [Imported(contract=normalise(dict(contract.document)), name=contract.name or contract.table)]


def export_odcs(document: dict[str, Any], options: ExportOptions) -> Exported:
    return Exported(dump_yaml(normalise(document)))
