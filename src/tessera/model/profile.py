"""Column profiles: what a published version's columns hold, measured once at publish in the gate's pass
(``tessera.quality.profiles``) and stored with the version (``tessera.catalog.profiles``).

A sensitive column's profile carries counts only (``masked``): never a value of it, not even its minimum."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

__all__ = ["ColumnProfile", "VersionProfile"]


@dataclass(frozen=True, slots=True)
class ColumnProfile:
    """One column of one version. ``distinct_count`` is approximate (HyperLogLog: within a few percent);
    ``top_values`` are the most frequent non-null values, most frequent first, with their exact counts (empty
    when every value is distinct or there are too many distinct values to count them cheaply)."""

    column: str
    row_count: int
    null_count: int
    distinct_count: int | None = None
    min_value: str | None = None
    max_value: str | None = None
    top_values: tuple[tuple[str, int], ...] = ()
    masked: bool = False

    @property
    def null_percent(self) -> float:
        return 100.0 * self.null_count / self.row_count if self.row_count else 0.0

    def counts_only(self) -> ColumnProfile:
        """The profile without any value of the column: what a reader who may not see values is shown."""
        return replace(self, min_value=None, max_value=None, top_values=())


@dataclass(frozen=True, slots=True)
class VersionProfile:
    """The profiles of every column of one published version (``address@major``, Delta version)."""

    address: str
    major: int
    delta_version: int
    profiled_at: datetime | None
    columns: tuple[ColumnProfile, ...]
    #: Why values (min, max, top values) are not shown to this reader, when they are not.
    withheld: str | None = None

    def column(self, name: str) -> ColumnProfile | None:
        return next((c for c in self.columns if c.column == name), None)
