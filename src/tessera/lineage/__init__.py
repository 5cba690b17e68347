"""Lineage: which input columns each product column comes from.

The names below load on first use (PEP 562), so importing ``tessera.lineage`` does not pull in sqlglot."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tessera.lineage.columns import ROWS, ColumnEdge, EdgeKind, LineageResult, column_lineage

__all__ = ["ROWS", "ColumnEdge", "EdgeKind", "LineageResult", "column_lineage"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from tessera.lineage import columns

        return getattr(columns, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
