"""Retention: which rows of a product have outlived the ``retention`` its contract declares.

A contract says ``{property: retention, value: 7, unit: y, element: orders.ordered_at}``: rows whose time
column is older than now − 7 years are deleted by ``tessera govern --fix``. Units: ``d`` (days), ``w``
(weeks), ``m`` (months, counted as 30 days) and ``y`` (years, counted as 365 days), or their spelled-out
forms. A row whose time column is null has no age and is kept. Pure: ``tessera.platform.remediation.remediate`` reads
the tables and applies what this module decides."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from tessera.model.contract import Contract
from tessera.model.sqltext import ident

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["RETENTION_DAYS", "RetentionRule", "TimeKind", "retention_rule", "time_kind"]

#: Days in each unit a retention may use (a month is 30 days, a year 365: retention is a legal minimum
#: horizon, so rounding a calendar month or a leap year down to a shorter count only keeps rows a day longer).
RETENTION_DAYS: dict[str, int] = {
    "d": 1, "day": 1, "days": 1,
    "w": 7, "week": 7, "weeks": 7,
    "m": 30, "mo": 30, "month": 30, "months": 30,
    "y": 365, "yr": 365, "year": 365, "years": 365,
}  # fmt: skip

#: How a time column is stored: with a time zone (compared in UTC), without one (taken as UTC), or a date.
TimeKind = Literal["timestamp", "timestamp_ntz", "date"]


def time_kind(arrow_type: pa.DataType) -> TimeKind | None:
    """The kind of a time column's Arrow type; None when it is not a date or a timestamp."""
    import pyarrow as pa

    if pa.types.is_timestamp(arrow_type):
        return "timestamp" if arrow_type.tz else "timestamp_ntz"
    if pa.types.is_date(arrow_type):
        return "date"
    return None


@dataclass(frozen=True, slots=True)
class RetentionRule:
    """A product's retention: rows whose ``column`` is older than ``days`` are expired."""

    column: str
    value: float
    unit: str
    days: float

    def __str__(self) -> str:
        return f"{self.value:g} {self.unit} on {self.column}"

    def cutoff(self, now: datetime) -> datetime:
        return now.astimezone(UTC) - timedelta(days=self.days)

    def predicate(self, kind: TimeKind, cutoff: datetime) -> str:
        """The delete predicate (DataFusion SQL): the column strictly older than the cutoff. It holds only the
        cutoff, which is no one's data, so it may be kept in the Delta log."""
        column = ident(self.column)
        return f"{column} < '{_literal(kind, cutoff)}'"

    def bound(self, kind: TimeKind, cutoff: datetime) -> datetime | date:
        """The cutoff as a value to compare the column with in the query engine."""
        if kind == "date":
            return cutoff.date()
        return cutoff if kind == "timestamp" else cutoff.replace(tzinfo=None)


def _literal(kind: TimeKind, cutoff: datetime) -> str:
    if kind == "date":
        return cutoff.date().isoformat()
    text = cutoff.replace(tzinfo=None).isoformat(timespec="microseconds")
    return f"{text}Z" if kind == "timestamp" else text


def retention_rule(contract: Contract) -> RetentionRule | str:
    """The retention the contract declares, or why there is none that can be applied."""
    sla = contract.sla_property("retention")
    if sla is None:
        return "declares no retention"
    column = (sla.element or "").rsplit(".", 1)[-1]
    if not column:
        return "the retention names no time column (element: <table>.<column>)"
    if contract.column(column) is None:
        return f"the retention's element {sla.element!r} is not a column of the contract"
    unit = (sla.unit or "").strip().lower()
    if unit not in RETENTION_DAYS:
        return f"the retention's unit {sla.unit!r} is not one of d, w, m, y"
    value = sla.value
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return f"the retention's value {value!r} is not a positive number"
    return RetentionRule(
        column=column, value=float(value), unit=unit, days=float(value) * RETENTION_DAYS[unit]
    )
