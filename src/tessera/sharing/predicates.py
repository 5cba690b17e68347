"""The protocol's ``jsonPredicateHints``: skip the files whose partition values and column statistics prove no
row can match. Best effort, never wrong: a file is dropped only when the hint is certainly false (or null) for
every row in it; a hint that does not parse, names an unknown op or a type that cannot be compared keeps every
file. The client applies the predicate to the rows itself.

Each node is judged over one file as two booleans: may some row make it true, may some row make it false
(null is neither). ``and``/``or``/``not`` combine them; leaves compare a column's [min, max] (exact for a
partition column) with a literal."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from tessera.sharing.files import DataFile

__all__ = ["parse_hints", "prune"]

Judgement = tuple[bool, bool]  # (may be true, may be false)
UNKNOWN: Judgement = (True, True)
_COMPARISONS = ("equal", "lessThan", "lessThanOrEqual", "greaterThan", "greaterThanOrEqual")
_FLIPPED = {
    "equal": "equal",
    "lessThan": "greaterThan",
    "lessThanOrEqual": "greaterThanOrEqual",
    "greaterThan": "lessThan",
    "greaterThanOrEqual": "lessThanOrEqual",
}


class _Unusable(Exception):
    """The hint cannot be used: keep every file."""


def parse_hints(text: str | None) -> dict[str, Any] | None:
    """The hint's tree, or None when there is none or it is not usable JSON (then every file is kept)."""
    if not text:
        return None
    try:
        tree = json.loads(text)
    except ValueError:
        return None
    return tree if isinstance(tree, dict) else None


def _value(raw: Any, value_type: str) -> Any:
    """A literal or a statistic as a comparable Python value of ``value_type``."""
    if raw is None:
        return None
    try:
        if value_type in ("int", "long"):
            return int(raw)
        if value_type in ("float", "double"):
            return float(raw)
        if value_type == "bool":
            return raw if isinstance(raw, bool) else str(raw).lower() == "true"
        if value_type == "string":
            return raw if isinstance(raw, str) else None
        if value_type == "date":
            if isinstance(raw, datetime):
                return raw.date()
            return raw if isinstance(raw, date) else date.fromisoformat(str(raw)[:10])
        if value_type == "timestamp":
            when = (
                raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
            )
            return when if when.tzinfo else when.replace(tzinfo=UTC)
    except (ValueError, TypeError, InvalidOperation):
        raise _Unusable from None
    raise _Unusable


def _range(item: DataFile, name: str, value_type: str) -> tuple[Any, Any, bool | None] | None:
    """(min, max, any non-null value?) of a column in a file; None when unknown."""
    if name in item.partition_values:
        value = _value(item.partition_values[name], value_type)
        return value, value, value is not None
    if item.min_values.get(name) is None or item.max_values.get(name) is None:
        nulls, rows = item.null_count.get(name), item.num_records
        if nulls is not None and rows is not None and nulls == rows:
            return None, None, False
        return None
    low, high = _value(item.min_values[name], value_type), _value(item.max_values[name], value_type)
    if isinstance(item.min_values[name], Decimal) and value_type not in ("float", "double"):
        return None
    if value_type == "string" and isinstance(high, str) and len(high) >= 32:
        return None  # the log may hold a truncated maximum
    if value_type == "timestamp" and isinstance(high, datetime):
        high += timedelta(milliseconds=1)  # statistics keep milliseconds
    return low, high, True


def _compare(op: str, low: Any, high: Any, literal: Any) -> Judgement:
    if op == "equal":
        return low <= literal <= high, not (low == high == literal)
    if op == "lessThan":
        return low < literal, high >= literal
    if op == "lessThanOrEqual":
        return low <= literal, high > literal
    if op == "greaterThan":
        return high > literal, low <= literal
    return high >= literal, low < literal  # greaterThanOrEqual


def _leaf(node: dict[str, Any]) -> tuple[str, Any, str]:
    kind = node.get("op")
    value_type = str(node.get("valueType", ""))
    if kind == "column" and isinstance(node.get("name"), str):
        return "column", node["name"], value_type
    if kind == "literal" and "value" in node:
        return "literal", node["value"], value_type
    raise _Unusable


def _children(node: dict[str, Any], count: int | None = None) -> list[dict[str, Any]]:
    children = node.get("children")
    if not isinstance(children, list) or not all(isinstance(c, dict) for c in children):
        raise _Unusable
    if count is not None and len(children) != count:
        raise _Unusable
    if count is None and len(children) < 1:
        raise _Unusable
    return children


def _judge(node: dict[str, Any], item: DataFile) -> Judgement:
    op = node.get("op")
    if op == "and":
        parts = [_judge(c, item) for c in _children(node)]
        return all(t for t, _ in parts), any(f for _, f in parts)
    if op == "or":
        parts = [_judge(c, item) for c in _children(node)]
        return any(t for t, _ in parts), all(f for _, f in parts)
    if op == "not":
        may_true, may_false = _judge(_children(node, 1)[0], item)
        return may_false, may_true
    if op == "isNull":
        kind, name, _ = _leaf(_children(node, 1)[0])
        if kind != "column":
            raise _Unusable
        if name in item.partition_values:
            null = item.partition_values[name] is None
            return null, not null
        nulls, rows = item.null_count.get(name), item.num_records
        if nulls is None or rows is None:
            return UNKNOWN
        return nulls > 0, nulls < rows
    if op in _COMPARISONS:
        left, right = (_leaf(c) for c in _children(node, 2))
        if left[0] == "literal" and right[0] == "column":
            left, right, op = right, left, _FLIPPED[str(op)]
        if left[0] != "column" or right[0] != "literal":
            return UNKNOWN
        found = _range(item, left[1], left[2] or right[2])
        if found is None:
            return UNKNOWN
        low, high, any_value = found
        if not any_value:
            return False, False  # every value is null: the comparison is null on every row
        literal = _value(right[1], right[2] or left[2])
        if literal is None:
            return False, False
        try:
            return _compare(str(op), low, high, literal)
        except TypeError:
            return UNKNOWN
    raise _Unusable


def prune(files: Sequence[DataFile], tree: dict[str, Any] | None) -> list[DataFile]:
    """The files in which some row may satisfy the hint (all of them when the hint cannot be used)."""
    if tree is None:
        return list(files)
    keep: Callable[[DataFile], bool] = lambda item: _judge(tree, item)[0]  # noqa: E731
    try:
        return [f for f in files if keep(f)]
    except (_Unusable, RecursionError):
        return list(files)
