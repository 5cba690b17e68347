"""Consumers' expectations (``tessera.expectations`` on an input port, or a registered consumer's file): an
ODCS fragment → ``ProductExpectations``.

The fragment holds ``properties`` (ODCS schema properties: the columns the consumer reads) and ``quality``
(ODCS table-level rules). Both are validated by the ODCS standard's own schema and read by the contract's
parsers (``parse_column``, ``parse_quality``), so a rule means here what it means in a contract, and every
problem carries the file, line and key where it stands. A property may name no type: the consumer then
expects the column to be there, of any type.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from tessera.errors import Problem, SpecError
from tessera.model.contract import Column
from tessera.model.expectations import ProductExpectations
from tessera.model.product import Product
from tessera.spec.columns import parse_column, parse_quality
from tessera.spec.schemas import schema_errors
from tessera.spec.yaml_lines import KeyPath, Report, key_path, read_yaml

__all__ = ["KEYS", "load_expectations", "read_expectations", "unmet_problems"]

KEYS = ("properties", "quality", "description")
_PREFIX: KeyPath = ("schema", 0)


def read_expectations(value: Any, base: KeyPath, report: Report) -> ProductExpectations:
    """The fragment at key path ``base`` of ``report``'s file; problems go to ``report``."""
    if not isinstance(value, dict):
        report.add(base, "expectations must be a mapping: properties (the columns read) and quality (rules)")
        return ProductExpectations()
    for key in value:
        if key not in KEYS:
            close = difflib.get_close_matches(str(key), KEYS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            report.add((*base, key), f"unknown key {key!r}{hint}; expectations have: {', '.join(KEYS)}")
    props, rules = value.get("properties"), value.get("quality")
    if props is None and rules is None:
        report.add(base, "expectations name nothing: give properties (the columns read) and/or quality")
    for key, thing in (("properties", props), ("quality", rules)):
        if thing is not None and not isinstance(thing, list):
            report.add((*base, key), f"{key} must be a list")
    _standard(props, rules, base, report)
    columns: list[Column] = []
    places: list[tuple[str, int | None, str]] = []
    seen: set[str] = set()
    for index, prop in enumerate(props if isinstance(props, list) else ()):
        if not isinstance(prop, dict) or not isinstance(prop.get("name"), str):
            continue
        where = (*base, "properties", index)
        typed = prop.get("logicalType") is not None or bool(prop.get("physicalType"))
        # a property without a type expects presence alone: read as string, marked untyped
        column = parse_column(prop if typed else {**prop, "logicalType": "string"}, where, report)
        if column.name in seen:
            report.add((*where, "name"), f"column {column.name!r} is given twice")
        seen.add(column.name)
        columns.append(column if typed else replace(column, typed=False))
        places.append((report.file, report.lines.line(where), key_path(where)))
    quality = parse_quality(rules, (*base, "quality"), None, report)
    return ProductExpectations(tuple(columns), quality, value, tuple(places))


def unmet_problems(product: Product, products: Mapping[str, Product]) -> list[Problem]:
    """Warnings where ``product`` expects of an input (found in ``products``, on the major it reads) what
    the input's contract in the mesh folder cannot give: a column it lacks, a type the consumer cannot read.
    The input's publishes would be refused until one of the two changes."""
    from tessera.model.expectations import Expectations, ExpectedColumn

    problems: list[Problem] = []
    for port in product.input_ports:
        declared, upstream = port.expectations, products.get(port.address)
        if declared is None or upstream is None or _major(port.version) != upstream.contract.major:
            continue
        for column, (file, line, key) in zip(declared.columns, declared.places, strict=True):
            one = Expectations(
                product.address, "product", None, port.address, None, (ExpectedColumn(column),)
            )
            for unmet in one.unmet_by(upstream.contract):
                message = (
                    f"{port.address} ({upstream.contract.version}): {unmet}; its publishes will be refused "
                    "until its contract gives it or this expectation is relaxed"
                )
                problems.append(Problem(file, line, key, message, "warning"))
    return problems


def _major(version: str | None) -> int | None:
    head = (version or "").strip().removeprefix("v").split(".", 1)[0]
    return int(head) if head.isdigit() else None


def load_expectations(path: str | Path) -> ProductExpectations:
    """A registered consumer's expectations file; raises ``SpecError`` with every problem (file:line)."""
    file = str(path)
    doc, lines, problems = read_yaml(Path(path), file)
    if problems:
        raise SpecError(problems)
    report = Report(file, lines)
    expectations = read_expectations(doc, (), report)
    if any(p.is_error for p in report.problems):
        raise SpecError(report.problems)
    return expectations


def _standard(props: Any, rules: Any, base: KeyPath, report: Report) -> None:
    """What the ODCS standard says of the fragment, checked as the one schema object of a contract."""
    table: dict[str, Any] = {"name": "expected"}
    if isinstance(props, list):
        table["properties"] = props
    if isinstance(rules, list):
        table["quality"] = rules
    doc = {
        "apiVersion": "v3.1.0",
        "kind": "DataContract",
        "id": "expectations",
        "version": "1.0.0",
        "status": "active",
        "schema": [table],
    }
    for path, message in schema_errors("odcs", doc):
        if tuple(path[:2]) == _PREFIX and len(path) > 2:
            report.add((*base, *path[2:]), message)
