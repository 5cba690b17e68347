"""``customProperties`` lists (ODCS and ODPS) read into a mapping, with the ``tessera.*`` namespace checked.

Properties outside ``tessera.*`` pass through untouched. Each ``tessera.*`` property is validated against the
scope's schema (``tessera-product``, ``tessera-contract``, ``tessera-column``): an unknown name is reported at
its ``property`` line, a value of the wrong type at its ``value`` line. Invalid ``tessera.*`` values are left
out of the mapping, so code reading it can trust their types.

``tessera.lineage`` (the column lineage a ``transform.py`` declares) is read into ``DeclaredLineage`` values
that remember their lines in the file, so the checks against the contract and the input ports
(``tessera.spec.transforms``) can point at the entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from tessera.spec.schemas import load_schema, schema_errors
from tessera.spec.yaml_lines import KeyPath, Report, key_path

__all__ = ["PREFIX", "DeclaredLineage", "LineageKind", "Scope", "read_custom", "split_column"]

PREFIX = "tessera."
Scope = Literal["product", "contract", "column", "input"]
LineageKind = Literal["identity", "transformation", "aggregation", "filter", "join"]


@dataclass(frozen=True, slots=True)
class DeclaredLineage:
    """One ``tessera.lineage`` entry: output ``column`` (None for ``filter``/``join``, which decide which rows
    exist) comes from ``sources`` (``<input address>.<column>``) by ``kind``; ``key``/``line`` place the entry
    and ``source_lines`` each source in product.odps.yaml."""

    column: str | None
    sources: tuple[str, ...]
    kind: LineageKind
    key: str = ""
    line: int | None = None
    source_lines: tuple[int | None, ...] = ()


def split_column(text: str) -> tuple[str, str] | None:
    """``sales.orders.amount`` → (``sales.orders``, ``amount``); ``source.pos.orders.*`` → (``source.pos.orders``,
    ``*``); None when ``text`` names no column of an address."""
    parts = text.split(".")
    size = 3 if parts[0] == "source" else 2
    if len(parts) <= size or not all(parts):
        return None
    return ".".join(parts[:size]), ".".join(parts[size:])


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
    if scope == "product" and isinstance(ours.get("tessera.lineage"), list):
        value_base = (*base, where["tessera.lineage"], "value")
        declared = _declared_lineage(ours["tessera.lineage"], value_base, report)
        if "tessera.lineage" in custom:  # schema-valid
            custom["tessera.lineage"] = declared
    return custom


def _value_path(base: Sequence[str | int], index: int, path: KeyPath) -> KeyPath:
    return (*base, index, "value", *path[1:])


def _declared_lineage(items: list[Any], base: KeyPath, report: Report) -> tuple[DeclaredLineage, ...]:
    """``tessera.lineage`` items → ``DeclaredLineage``; sources that name no column and columns given to
    ``filter``/``join`` entries are reported, and those entries left out. Items of the wrong shape were
    reported by the schema and are skipped."""
    out: list[DeclaredLineage] = []
    for index, item in enumerate(items):
        at = (*base, index)
        if not isinstance(item, dict) or not isinstance(item.get("from"), list):
            continue
        kind = cast(LineageKind, item.get("kind"))
        column: str | None = item.get("column")
        good = True
        if column is not None and kind in ("filter", "join"):
            report.add(
                (*at, "column"),
                f"a {kind} entry names the input columns that decide which rows exist, not an output "
                "column: leave out column",
            )
            good = False
        for number, source in enumerate(item["from"]):
            if isinstance(source, str) and source and split_column(source) is None:
                report.add(
                    (*at, "from", number),
                    f"{source!r} names no input column: write <input address>.<column>, e.g. "
                    "sales.orders.amount or source.pos.orders.amount (<input>.* for its rows)",
                )
                good = False
        if good:
            out.append(
                DeclaredLineage(
                    column=column,
                    sources=tuple(item["from"]),
                    kind=kind,
                    key=key_path(at),
                    line=report.lines.line(at),
                    source_lines=tuple(report.lines.line((*at, "from", n)) for n in range(len(item["from"]))),
                )
            )
    return tuple(out)
