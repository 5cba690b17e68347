"""Product status against its SLA (freshness, quality, availability) and the incidents that follow from it.

``product_status`` judges one product from facts the caller measured; ``diff_incidents`` compares statuses
with the incidents already open and says which to open and which to resolve, so a breach that persists is
not opened twice. Both are pure: recording incidents and sending webhooks is the caller's part.

States: ``no-data`` (nothing published yet), ``breach`` (any of freshness, quality, availability breached),
``warning`` (quality passed with warnings, data older than ``warn_at`` of the freshness limit, or an SLA that
cannot be judged), else ``ok``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from tessera.model.contract import UNIT_SECONDS
from tessera.model.product import Product

__all__ = [
    "INCIDENT_KINDS",
    "UNIT_SECONDS",
    "IncidentChanges",
    "IncidentKind",
    "IncidentToOpen",
    "IncidentToResolve",
    "ProductStatus",
    "State",
    "diff_incidents",
    "freshness_limit",
    "product_status",
]

State = Literal["ok", "warning", "breach", "no-data"]
IncidentKind = Literal["freshness", "quality", "availability"]
INCIDENT_KINDS: tuple[IncidentKind, ...] = ("freshness", "quality", "availability")
_FAILED_QUALITY = frozenset({"failed", "error"})


@dataclass(frozen=True, slots=True)
class ProductStatus:
    """One product judged at ``checked_at``; ``breaches`` maps each breached kind to a sentence."""

    address: str
    state: State
    checked_at: datetime
    newest_data_at: datetime | None
    freshness_age: timedelta | None
    freshness_limit: timedelta | None
    freshness_unit: str | None
    latest_quality: str | None
    available: bool
    breaches: Mapping[IncidentKind, str]
    notes: tuple[str, ...] = ()

    @property
    def freshness_breached(self) -> bool:
        return "freshness" in self.breaches

    @property
    def quality_breached(self) -> bool:
        return "quality" in self.breaches

    @property
    def availability_breached(self) -> bool:
        return "availability" in self.breaches

    def as_dict(self) -> dict[str, Any]:
        def seconds(d: timedelta | None) -> float | None:
            return None if d is None else d.total_seconds()

        return {
            "product": self.address,
            "state": self.state,
            "checked_at": self.checked_at.isoformat(),
            "newest_data_at": None if self.newest_data_at is None else self.newest_data_at.isoformat(),
            "freshness_age_seconds": seconds(self.freshness_age),
            "freshness_limit_seconds": seconds(self.freshness_limit),
            "latest_quality": self.latest_quality,
            "available": self.available,
            "breaches": dict(self.breaches),
            "notes": list(self.notes),
        }


#: The longest freshness limit judged: past it a limit is a typo (and timedelta overflows near 2.7 million years).
_LONGEST_LIMIT = timedelta(days=36525)


def freshness_limit(product: Product) -> tuple[timedelta | None, str | None, str | None]:
    """The contract's freshness (or latency) limit: ``(limit, unit, problem)``; all None when there is none."""
    sla = product.contract.sla_property("freshness", "latency")
    if sla is None:
        return None, None, None
    unit = (sla.unit or "").strip().lower()
    if unit not in UNIT_SECONDS:
        return (
            None,
            None,
            f"{sla.property} SLA unit {sla.unit!r} is not one of m, min, minutes, h, hours, d, days",
        )
    try:
        value = float(sla.value)
    except (TypeError, ValueError):
        return None, None, f"{sla.property} SLA value {sla.value!r} is not a number"
    seconds = value * UNIT_SECONDS[unit]
    if not 0 < seconds <= _LONGEST_LIMIT.total_seconds():  # NaN and infinity too: timedelta would raise
        return (
            None,
            None,
            f"{sla.property} SLA value {sla.value!r} {sla.unit} is not above 0 and at most 100 years",
        )
    return timedelta(seconds=seconds), unit, None


def product_status(
    product: Product,
    *,
    newest_data_at: datetime | None,
    latest_quality: str | None,
    available: bool,
    now: datetime,
    warn_at: float = 0.8,
) -> ProductStatus:
    """Judge one product: the age of its newest data against the contract's limit, its latest quality
    outcome (``passed``/``warning``/``failed``/``error``) and whether its data can be read now."""
    now, newest = _utc(now), None if newest_data_at is None else _utc(newest_data_at)
    limit, unit, problem = freshness_limit(product)
    notes = [problem] if problem else []
    age = None if newest is None else now - newest
    breaches: dict[IncidentKind, str] = {}
    warned = bool(notes) or latest_quality == "warning"
    if newest is None and latest_quality is None:
        return ProductStatus(
            product.address, "no-data", now, None, None, limit, unit, None, available, {}, tuple(notes)
        )
    if limit is not None and unit is not None:
        if age is None:
            notes.append("freshness cannot be measured: no timestamp for the newest data")
            warned = True
        elif age > limit:
            breaches["freshness"] = (
                f"newest data is {_amount(age, unit)} old; the contract allows {_amount(limit, unit)}"
            )
        elif age > limit * warn_at:
            warned = True
            notes.append(f"newest data is {_amount(age, unit)} old, near the {_amount(limit, unit)} limit")
    if latest_quality in _FAILED_QUALITY:
        breaches["quality"] = (
            f"the latest quality run {'failed' if latest_quality == 'failed' else 'errored'}"
        )
    if not available:
        breaches["availability"] = "the product's data cannot be read"
    state: State = "breach" if breaches else "warning" if warned else "ok"
    return ProductStatus(
        product.address,
        state,
        now,
        newest,
        age,
        limit,
        unit,
        latest_quality,
        available,
        breaches,
        tuple(notes),
    )


@dataclass(frozen=True, slots=True)
class IncidentToOpen:
    product: str
    kind: IncidentKind
    detail: str


@dataclass(frozen=True, slots=True)
class IncidentToResolve:
    product: str
    kind: str
    incident: Any  # whatever the caller keyed by (product, kind): an id, a row


@dataclass(frozen=True, slots=True)
class IncidentChanges:
    open: tuple[IncidentToOpen, ...] = ()
    resolve: tuple[IncidentToResolve, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.open and not self.resolve


def diff_incidents(
    open_incidents: Mapping[tuple[str, str], Any], statuses: Sequence[ProductStatus]
) -> IncidentChanges:
    """Open an incident per new breach, resolve each open one whose breach is over, leave the rest alone.

    Only products present in ``statuses`` are judged: an open incident of a product not checked this round
    stays open."""
    to_open: list[IncidentToOpen] = []
    to_resolve: list[IncidentToResolve] = []
    for status in statuses:
        for kind, detail in status.breaches.items():
            if (status.address, kind) not in open_incidents:
                to_open.append(IncidentToOpen(status.address, kind, detail))
    checked = {s.address: s for s in statuses}
    for (address, open_kind), incident in open_incidents.items():
        judged = checked.get(address)
        if judged is not None and open_kind not in judged.breaches:
            to_resolve.append(IncidentToResolve(address, open_kind, incident))
    return IncidentChanges(tuple(to_open), tuple(to_resolve))


def _utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _amount(span: timedelta, unit: str) -> str:
    value = span.total_seconds() / UNIT_SECONDS[unit]
    text = f"{value:.1f}".removesuffix(".0")
    return f"{text} {unit}"
