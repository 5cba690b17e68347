"""ODCS v3 contracts: validate against the standard's JSON Schema, then read into a model ``Contract``.

Two levels. The standard alone (``strict_tessera=False``) accepts every valid ODCS 3.0–3.2 document, with any
number of schema objects (the first one becomes the table). Tessera's publishing rules
(``strict_tessera=True``, and always inside a mesh) add: exactly one schema object with columns, a semantic
version, publishable logical types, decimal precision, valid ``tessera.*`` properties, known severities and
units, and SLA elements that name a column.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from tessera.errors import AddressError, Problem, SpecError
from tessera.model.address import parse_semver
from tessera.model.contract import Column, Contract
from tessera.spec.columns import parse_column, parse_quality, parse_sla
from tessera.spec.custom import read_custom
from tessera.spec.schemas import schema_errors
from tessera.spec.tolerated import as_the_standard_means
from tessera.spec.yaml_lines import LineMap, Report, read_yaml

__all__ = [
    "STATUSES",
    "check_contract",
    "closed_set_problems",
    "document_hash",
    "load_contract",
    "odcs_problems",
    "parse_contract",
]

_V3 = re.compile(r"^v?3\.[0-2]\.\d+$")
_V2 = re.compile(r"^v?2(\.|$)")


def load_contract(path: str | Path, *, strict_tessera: bool = False, strict: bool = False) -> Contract:
    """Read one ODCS file (also outside any mesh); raises ``SpecError`` with every problem found. Warnings
    (keys others' tools write that the standard refuses) are on ``Contract.warnings``; ``strict`` makes them
    errors."""
    file = str(path)
    doc, lines, problems = read_yaml(Path(path), file)
    if problems:
        raise SpecError(problems)
    return parse_contract(doc, path=file, lines=lines, strict_tessera=strict_tessera, strict=strict)


def parse_contract(
    doc: Any,
    *,
    path: str,
    lines: LineMap | None = None,
    strict_tessera: bool = False,
    strict: bool = False,
) -> Contract:
    """An already parsed ODCS document → ``Contract``; raises ``SpecError`` with every error found (and every
    warning too when ``strict``); otherwise the warnings are on ``Contract.warnings``."""
    contract, problems = check_contract(doc, path=path, lines=lines, strict_tessera=strict_tessera)
    if strict:
        problems = [replace(p, severity="error") for p in problems]
    if any(p.is_error for p in problems) or contract is None:
        raise SpecError(problems)
    return replace(contract, warnings=tuple(problems))


def check_contract(
    doc: Any, *, path: str, lines: LineMap | None = None, strict_tessera: bool = False
) -> tuple[Contract | None, list[Problem]]:
    """Validate and read without raising: the contract (best effort; ``None`` when the document is not a
    mapping or names an unsupported ODCS version) and the problems, warnings included (``Problem.severity``).
    ``status`` defaults to ``active``."""
    problems = odcs_problems(doc, path, lines)
    if not isinstance(doc, dict) or any(p.key == "apiVersion" and p.is_error for p in problems):
        return None, problems
    tessera = Report(path, lines)
    contract = _build(doc, path, tessera)
    if strict_tessera:
        closed_set_problems(doc, tessera)
        problems.extend(tessera.problems)
    return contract, _ordered(problems)


STATUSES = ("proposed", "draft", "active", "deprecated", "retired")
_DESCRIPTION_KEYS = ("purpose", "limitations", "usage", "authoritativeDefinitions", "customProperties")


def closed_set_problems(doc: dict[str, Any], report: Report) -> None:
    """What the standards leave open and Tessera closes: the status, and the keys of ``description`` (ODCS
    lets unknown keys through there, so a misspelt ``usage`` would vanish silently)."""
    import difflib

    status = doc.get("status")
    if isinstance(status, str) and status not in STATUSES:
        report.add(("status",), f"status {status!r} is not one of {', '.join(STATUSES)}")
    description = doc.get("description")
    if isinstance(description, dict):
        for key in description:
            if key not in _DESCRIPTION_KEYS:
                close = difflib.get_close_matches(str(key), _DESCRIPTION_KEYS, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                report.add(("description", key), f"unknown key {key!r}{hint}")


def odcs_problems(doc: Any, path: str, lines: LineMap | None = None) -> list[Problem]:
    """What the ODCS standard says is wrong with ``doc`` (apiVersion v3.0.x–v3.2.x), one problem per error."""
    report = Report(path, lines)
    if not isinstance(doc, dict):
        report.add((), "a data contract must be a YAML mapping (apiVersion, kind, id, version, ...)")
        return report.problems
    api = doc.get("apiVersion")
    if isinstance(api, str) and _V2.match(api):
        report.add(("apiVersion",), f"{api} is ODCS v2; Tessera reads ODCS v3 (v3.0.x–v3.2.x): upgrade it")
        return report.problems
    if isinstance(api, str) and not _V3.match(api):
        report.add(("apiVersion",), f"{api!r} is not supported: Tessera reads ODCS v3 (v3.0.x–v3.2.x)")
        return report.problems
    doc = as_the_standard_means(doc, report)
    for key, message in schema_errors("odcs", doc):  # a property without logicalType is fine (schemas.py)
        report.add(key, message)
    return _ordered(report.problems)


def document_hash(doc: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON of a document (sorted keys, no whitespace)."""
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _build(doc: dict[str, Any], path: str, report: Report) -> Contract:
    schema = doc.get("schema")
    objects = [o for o in schema if isinstance(o, dict)] if isinstance(schema, list) else []
    if len(objects) != 1:
        report.add(
            ("schema",), f"a Tessera contract has exactly one schema object (the table); found {len(objects)}"
        )
    table = objects[0] if objects else {}
    columns = _columns(table.get("properties"), report if objects else Report(path))
    names = frozenset(c.name for c in columns)
    quality = parse_quality(table.get("quality"), ("schema", 0, "quality"), None, report)
    for index, rule in enumerate(quality):
        listed = rule.arguments.get("properties")
        for name in listed if isinstance(listed, list) else ():
            if name not in names:
                where = ("schema", 0, "quality", index, "arguments", "properties")
                report.add(where, f"{name!r} is not a column of this contract")
    version = doc.get("version")
    try:
        parse_semver(version if isinstance(version, str) else "")
    except AddressError:
        report.add(("version",), f"{version!r} is not a semantic version (MAJOR.MINOR.PATCH)")
    custom = read_custom(doc.get("customProperties"), ("customProperties",), "contract", report)
    read_custom(table.get("customProperties"), ("schema", 0, "customProperties"), "contract", report)
    description = doc.get("description")
    servers = doc.get("servers")
    return Contract(
        id=_text(doc.get("id")),
        version=_text(version),
        status=_text(doc.get("status")) or "active",
        table=_text(table.get("name")),
        columns=columns,
        name=doc.get("name") if isinstance(doc.get("name"), str) else None,
        domain=doc.get("domain") if isinstance(doc.get("domain"), str) else None,
        data_product=doc.get("dataProduct") if isinstance(doc.get("dataProduct"), str) else None,
        description=description.get("purpose") if isinstance(description, dict) else None,
        table_description=_text(table.get("description")) or None,
        quality=quality,
        sla=parse_sla(doc.get("slaProperties"), names, report),
        tags=tuple(t for t in _list(doc.get("tags")) if isinstance(t, str)),
        servers=tuple(s for s in servers if isinstance(s, dict)) if isinstance(servers, list) else (),
        custom=custom,
        document=doc,
        hash=document_hash(doc),
        path=path,
    )


def _columns(props: Any, report: Report) -> tuple[Column, ...]:
    if not isinstance(props, list) or not props:
        report.add(("schema", 0, "properties"), "the table has no columns (schema[0].properties)")
        return ()
    columns: list[Column] = []
    seen: set[str] = set()
    for index, prop in enumerate(props):
        if not isinstance(prop, dict):
            continue
        column = parse_column(prop, ("schema", 0, "properties", index), report)
        if column.name in seen:
            report.add(("schema", 0, "properties", index, "name"), f"column {column.name!r} is given twice")
        seen.add(column.name)
        columns.append(column)
    return tuple(columns)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _ordered(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.file, p.line or 0))


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
