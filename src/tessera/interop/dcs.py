"""Data Contract Specification (DCS, datacontract-cli's format) <-> ODCS.

Import maps ``info`` to the contract's identity and description, ``terms`` to ``description`` usage and
limitations, ``servers`` (a mapping) to the ``servers`` list, each model to a schema object and each field to a
property, both named as written (``$ref`` to ``definitions`` is followed; ``config.<server>Table`` becomes the
object's ``physicalName``; ``import --product`` snake_cases the names for the mesh), field constraints to
``logicalTypeOptions``, ``enum`` to an ``invalidValues`` rule, quality as it is (DCS 1.1+ writes ODCS's shape;
a rule key ODCS lacks, such as ``dialect``, goes to the rule's ``customProperties``) and ``servicelevels`` to
``slaProperties``. What ODCS has no key for (owner, contact, billing, a server key its schema does not allow)
goes into ``customProperties`` under its DCS name, so nothing is lost. Export writes DCS 1.2.1 the reverse way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tessera.errors import FormatError, SpecError
from tessera.interop import dcs_fields
from tessera.interop.model import Exported, ExportOptions, Imported, ImportOptions
from tessera.interop.odcs import API_VERSION, normalise, snake
from tessera.interop.walk import mapping, path_text

__all__ = ["export_dcs", "import_dcs"]

_INFO_KEYS = ("title", "version", "status", "description")
_TERMS_KEYS = ("usage", "limitations")


def import_dcs(source: str, options: ImportOptions) -> list[Imported]:
    from tessera.spec.yaml_lines import read_yaml

    doc, _, problems = read_yaml(Path(source), source)
    if problems:
        raise SpecError(problems)
    if not isinstance(doc, dict) or "dataContractSpecification" not in doc:
        raise FormatError(
            f"{source}: not a Data Contract Specification file (no dataContractSpecification key)"
        )
    info = mapping(doc.get("info"))
    terms = mapping(doc.get("terms"))
    odcs: dict[str, Any] = {
        "apiVersion": API_VERSION,
        "kind": "DataContract",
        "id": str(doc.get("id") or snake(str(info.get("title") or Path(source).stem))),
        "name": options.name or str(info.get("title") or doc.get("id") or ""),
        "version": str(info.get("version") or "1.0.0"),
        "status": str(info.get("status") or "active"),
    }
    description = {"purpose": info.get("description"), **{k: terms.get(k) for k in _TERMS_KEYS}}
    description = {k: str(v) for k, v in description.items() if v}
    if description:
        odcs["description"] = description
    if isinstance(doc.get("tags"), list):
        odcs["tags"] = [str(t) for t in doc["tags"]]
    definitions = mapping(doc.get("definitions"))
    models = mapping(doc.get("models"))
    if options.table:
        models = {k: v for k, v in models.items() if k == options.table}
    if not models:
        raise FormatError(f"{source}: no models{' named ' + repr(options.table) if options.table else ''}")
    notes: list[str] = []
    odcs["schema"] = [dcs_fields.model_to_object(name, m, definitions, notes) for name, m in models.items()]
    if isinstance(doc.get("servers"), dict):
        odcs["servers"] = [dcs_fields.server_to_odcs(name, s) for name, s in doc["servers"].items()]
    sla = dcs_fields.servicelevels_to_sla(doc.get("servicelevels"))
    if sla:
        odcs["slaProperties"] = sla
    custom = [{"property": k, "value": v} for k, v in info.items() if k not in _INFO_KEYS]
    custom += [{"property": k, "value": v} for k, v in terms.items() if k not in _TERMS_KEYS]
    for key in ("links", "examples", "x-extra"):
        if key in doc:
            custom.append({"property": key, "value": doc[key]})
    if custom:
        odcs["customProperties"] = custom
    odcs = dcs_fields.fit_servers(normalise(odcs))
    return [Imported(contract=odcs, name=snake(str(odcs["name"]) or odcs["id"]), notes=tuple(notes))]


def export_dcs(document: dict[str, Any], options: ExportOptions) -> Exported:
    dropped: list[str] = []
    custom: dict[str, Any] = {
        str(c.get("property")): c.get("value")
        for c in document.get("customProperties") or []
        if isinstance(c, dict) and isinstance(c.get("property"), str)
    }
    description = mapping(document.get("description"))
    info: dict[str, Any] = {
        "title": document.get("name") or document.get("id"),
        "version": document.get("version"),
    }
    if document.get("status"):
        info["status"] = document["status"]
    if description.get("purpose"):
        info["description"] = description["purpose"]
    terms = {k: description[k] for k in _TERMS_KEYS if description.get(k)}
    for key, value in custom.items():
        if key in {"billing", "noticePeriod"}:
            terms[key] = value
        elif key not in {"links", "examples"}:
            info[key] = value
    out: dict[str, Any] = {"dataContractSpecification": "1.2.1", "id": document.get("id"), "info": info}
    if terms:
        out["terms"] = terms
    if isinstance(document.get("servers"), list):
        out["servers"] = {
            str(s.get("server") or f"server{i}"): dcs_fields.server_to_dcs(s)
            for i, s in enumerate(document["servers"])
            if isinstance(s, dict)
        }
    out["models"] = {}
    for index, obj in enumerate(document.get("schema") or []):
        if isinstance(obj, dict):
            name = str(obj.get("physicalName") or obj.get("name"))
            out["models"][name] = dcs_fields.object_to_model(obj, ("schema", index), dropped)
    if document.get("slaProperties"):
        out["servicelevels"] = dcs_fields.sla_to_servicelevels(document["slaProperties"], dropped)
    if document.get("tags"):
        out["tags"] = document["tags"]
    for key in ("links", "examples"):
        if key in custom:
            out[key] = custom[key]
    for key in ("team", "roles", "support", "price", "authoritativeDefinitions", "quality", "dataProduct",
                "domain", "tenant", "slaDefaultElement"):  # fmt: skip
        if document.get(key):
            dropped.append(path_text((key,)))
    from tessera.interop.odcs import dump_yaml

    return Exported(dump_yaml(out), tuple(dropped))
