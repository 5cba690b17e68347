"""A change between two contract versions: the value ``diff_contracts`` lists (see ``compat``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Change", "ChangeKind", "ChangeWhat", "breaking", "compare", "fine", "short", "values"]

ChangeKind = Literal["breaking", "non-breaking"]
ChangeWhat = Literal[
    "contract-id-changed", "table-renamed", "status-changed", "description-changed", "tags-changed",
    "column-removed", "column-added", "column-renamed", "columns-reordered", "primary-key-changed",
    "type-changed", "type-narrowed", "type-widened", "became-required", "became-optional",
    "enum-value-removed", "enum-value-added", "constraint-tightened", "constraint-loosened",
    "unique-added", "unique-removed", "classification-changed", "masking-changed", "business-name-changed",
    "quality-rule-added", "quality-rule-removed", "quality-rule-tightened", "quality-rule-loosened",
    "quality-rule-changed", "sla-added", "sla-removed", "sla-changed",
]  # fmt: skip
_Bound = tuple[Any, bool]  # (value, exclusive)
_Interval = tuple[Any, bool, Any, bool]  # (low, low inclusive, high, high inclusive)


@dataclass(frozen=True, slots=True)
class Change:
    """One difference between two contracts; ``column`` is None for table-level changes."""

    kind: ChangeKind
    column: str | None
    what: ChangeWhat
    message: str

    def __str__(self) -> str:
        return self.message

    def as_dict(self) -> dict[str, str | None]:
        return {"kind": self.kind, "column": self.column, "what": self.what, "message": self.message}


def breaking(column: str | None, what: ChangeWhat, message: str) -> Change:
    return Change("breaking", column, what, message)


def fine(column: str | None, what: ChangeWhat, message: str) -> Change:
    return Change("non-breaking", column, what, message)


def compare(a: Any, b: Any) -> int | None:
    """-1, 0 or 1 as ``a`` is below, equal to or above ``b``; None when they do not compare."""
    try:
        return -1 if a < b else (1 if a > b else 0)
    except TypeError:
        return None


def values(values: Iterable[Any]) -> str:
    return ", ".join(repr(v) for v in values)


def short(text: str | None) -> str:
    if not text:
        return "none"
    text = " ".join(text.split())
    return repr(text if len(text) <= 40 else text[:39] + "…")
