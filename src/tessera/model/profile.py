"""Column profiles: what a published version's columns hold, measured once at publish in the gate's pass
(``tessera.quality.profiles``) and stored with the version (``tessera.catalog.profiles``).

A sensitive column's profile carries counts only (``masked``): never a value of it, not even its minimum."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

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

    def as_dict(self) -> dict[str, Any]:
        """JSON for the REST API (``GET /products/{domain}/{product}/profiles``)."""
        return {
            "address": self.address,
            "major": self.major,
            "delta_version": self.delta_version,
            "profiled_at": self.profiled_at.isoformat() if self.profiled_at else None,
            "withheld": self.withheld,
            "distinct_counts": "approximate",
            "columns": [
                {
                    "column": c.column,
                    "row_count": c.row_count,
                    "null_count": c.null_count,
                    "distinct_count": c.distinct_count,
                    "min_value": c.min_value,
                    "max_value": c.max_value,
                    "top_values": [[v, n] for v, n in c.top_values],
                    "masked": c.masked,
                }
                for c in self.columns
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VersionProfile:
        """The remote SDK's reading of ``as_dict``."""
        at = data.get("profiled_at")
        return cls(
            address=data["address"],
            major=int(data["major"]),
            delta_version=int(data["delta_version"]),
            profiled_at=datetime.fromisoformat(at) if at else None,
            withheld=data.get("withheld"),
            columns=tuple(
                ColumnProfile(
                    column=c["column"],
                    row_count=int(c["row_count"]),
                    null_count=int(c["null_count"]),
                    distinct_count=c.get("distinct_count"),
                    min_value=c.get("min_value"),
                    max_value=c.get("max_value"),
                    top_values=tuple((str(v), int(n)) for v, n in c.get("top_values") or ()),
                    masked=bool(c.get("masked")),
                )
                for c in data.get("columns") or ()
            ),
        )
