"""``customProperties`` lists (ODCS and ODPS) read into a mapping, with the ``tessera.*`` namespace checked.

Properties outside ``tessera.*`` pass through untouched. Each ``tessera.*`` property is validated against the
scope's schema (``tessera-product``, ``tessera-contract``, ``tessera-column``): an unknown name is reported at
its ``property`` line, a value of the wrong type at its ``value`` line. Invalid ``tessera.*`` values are left
out of the mapping, so code reading it can trust their types.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from tessera.spec.schemas import load_schema, schema_errors
from tessera.spec.yaml_lines import KeyPath, Report

__all__ = ["PREFIX", "Scope", "read_custom"]

PREFIX = "tessera."
Scope = Literal["product", "contract", "column"]


def read_custom(items: Any, base: Sequence[str | int], scope: Scope, report: Report) -> dict[str, Any]:
    """``[{property, value}, ...]`` at key path ``base`` → ``{property: value}``; problems to ``report``."""
    custom: dict[str, Any] = {}
    if not isinstance(items, list):
        return custom
    ours: dict[str, Any] = {}
    where: dict[str, int] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("property"), str):
            continue
        name: str = item["property"]
        if name.startswith(PREFIX):
            if name in ours:
                report.add((*base, index, "property"), f"{name} is given twice (first as item {where[name]})")
            ours[name] = item.get("value")
            where[name] = index
        custom[name] = item.get("value")
    if not ours:
        return custom
    known = load_schema(f"tessera-{scope}")["properties"]
    for path, message in schema_errors(f"tessera-{scope}", ours):
        name = str(path[0])
        custom.pop(name, None)
        if name not in known:
            allowed = ", ".join(known) or "none"
            text = message.replace("unknown key", "unknown Tessera property", 1)
            report.add((*base, where[name], "property"), f"{text}; {scope} properties: {allowed}")
        else:
            report.add(_value_path(base, where[name], path), message)
    return custom


def _value_path(base: Sequence[str | int], index: int, path: KeyPath) -> KeyPath:
    return (*base, index, "value", *path[1:])
