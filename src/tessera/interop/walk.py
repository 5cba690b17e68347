"""Walking an ODCS document's tables and columns with their key paths, for exporters' lists of what they drop."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["mapping", "objects", "path_text", "properties", "read_json", "rule_fields"]

#: Property keys that constrain values; a target that cannot say them drops them.
RULE_KEYS = ("quality",)
_OPTION_RULES = ("pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength",
                 "maxLength", "minItems", "maxItems", "uniqueItems", "format")  # fmt: skip


def path_text(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def objects(doc: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    schema = doc.get("schema")
    for index, obj in enumerate(schema if isinstance(schema, list) else ()):
        if isinstance(obj, dict):
            yield index, obj


def properties(obj: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    props = obj.get("properties")
    for index, prop in enumerate(props if isinstance(props, list) else ()):
        if isinstance(prop, dict):
            yield index, prop


def rule_fields(prop: dict[str, Any], path: tuple[str | int, ...], carried: frozenset[str]) -> list[str]:
    """The value rules of one property (quality rules, ``logicalTypeOptions`` constraints, uniqueness) that
    are not in ``carried``, as key paths."""
    dropped = []
    if prop.get("quality") and "quality" not in carried:
        dropped.append(path_text((*path, "quality")))
    options = prop.get("logicalTypeOptions")
    if isinstance(options, dict):
        for key in _OPTION_RULES:
            if key in options and key not in carried:
                dropped.append(path_text((*path, "logicalTypeOptions", key)))
    if prop.get("unique") is True and "unique" not in carried:
        dropped.append(path_text((*path, "unique")))
    return dropped


def read_json(source: str) -> Any:
    """A JSON file's content; a ``FormatError`` naming the file and the place for text that is not JSON."""
    import json
    from pathlib import Path

    from tessera.errors import FormatError

    try:
        return json.loads(Path(source).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FormatError(f"{source}: not JSON ({exc})") from None


def mapping(value: Any) -> dict[str, Any]:
    """``value`` when it is a mapping, else an empty one: for reading documents others wrote."""
    return value if isinstance(value, dict) else {}
