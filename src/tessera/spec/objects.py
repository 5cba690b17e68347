"""A bare ODCS contract's schema objects, each read as a one-table ``Contract`` (``tessera test``).

The model ``Contract`` holds one table; a standard contract may declare several schema objects, each with its
own data. The whole document is validated once (problems carry the original file:line), then each object is
read from a copy of the document holding only that object. An SLA property goes to the object its
``element`` names (``orders.ordered_at``, or a bare column of that object); one without an element applies to
every object, and one whose element names no object goes to the first (where it errors, saying why)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tessera.errors import Problem, SpecError
from tessera.model.contract import Contract
from tessera.spec.contract import check_contract
from tessera.spec.yaml_lines import Report, read_yaml

__all__ = ["SchemaObject", "load_objects"]


@dataclass(frozen=True, slots=True)
class SchemaObject:
    """One schema object: its name, the table or file stem it lives under, and its one-table contract."""

    name: str
    physical_name: str
    contract: Contract


def load_objects(
    path: str | Path, *, strict: bool = False, warn: Callable[[Problem], None] | None = None
) -> tuple[SchemaObject, ...]:
    """Every schema object of the contract at ``path``; a SpecError with every problem when it is refused.
    Warnings (keys others' tools write that the standard refuses) go to ``warn``; ``strict`` makes them
    errors."""
    file = str(path)
    doc, lines, problems = read_yaml(Path(path), file)
    if problems:
        raise SpecError(problems)
    _, problems = check_contract(doc, path=file, lines=lines, strict_tessera=False)
    if strict:
        problems = [replace(p, severity="error") for p in problems]
    if any(p.is_error for p in problems):
        raise SpecError(problems)
    if warn is not None:
        for problem in problems:
            warn(problem)
    schema = doc.get("schema")
    objects = [o for o in schema if isinstance(o, dict)] if isinstance(schema, list) else []
    if not objects:
        report = Report(file, lines)
        report.add(("schema",), "the contract declares no schema object: nothing to test")
        raise SpecError(report.problems)
    slas = _sla_by_object(doc.get("slaProperties"), objects)
    out: list[SchemaObject] = []
    for index, obj in enumerate(objects):
        one = {**doc, "schema": [obj], "slaProperties": slas[index]}
        if not one["slaProperties"]:
            del one["slaProperties"]
        contract, _ = check_contract(one, path=file, strict_tessera=False)
        if contract is None:  # the whole validated; a part cannot fail, but say so if it does
            raise SpecError([Problem(file, None, f"schema[{index}]", "cannot be read")])
        name = contract.table or f"object{index + 1}"
        physical = obj.get("physicalName")
        out.append(SchemaObject(name, physical if isinstance(physical, str) and physical else name, contract))
    return tuple(out)


def _object_of(element: str, objects: list[dict[str, Any]]) -> int | None:
    first = element.split(",", maxsplit=1)[0].strip()
    for index, obj in enumerate(objects):
        names = {obj.get("name"), obj.get("physicalName")} - {None}
        if "." in first:
            if first.rsplit(".", 1)[0] in names:
                return index
            continue
        props = obj.get("properties")
        if isinstance(props, list) and any(isinstance(p, dict) and p.get("name") == first for p in props):
            return index
    return None


def _sla_by_object(items: Any, objects: list[dict[str, Any]]) -> list[list[Any]]:
    out: list[list[Any]] = [[] for _ in objects]
    for item in items if isinstance(items, list) else ():
        element = item.get("element") if isinstance(item, dict) else None
        if not isinstance(element, str) or not element.strip():
            for mine in out:
                mine.append(item)
            continue
        index = _object_of(element, objects)
        out[index if index is not None else 0].append(item)
    return out
