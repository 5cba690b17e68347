"""What SLOs are judged from, read for many products in a few whole-table queries (never one query per
product): publish times, gated publish attempts, availability incidents, and the burn alerts already
announced (docs/architecture.md, "SLOs and error budgets")."""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from tessera.catalog import tables as t
from tessera.catalog.store import Catalog, utc
from tessera.model.contract import UNIT_SECONDS

__all__ = ["SLO_ALERT_ACTION", "SloRecords", "announced_alerts", "slo_records"]

#: The audit action recording that a burn alert was announced (its key in the details).
SLO_ALERT_ACTION = "slo.burn"


@dataclass(slots=True)
class SloRecords:
    """One product's history since a moment (ascending): ``publishes`` starts with the newest one before it."""

    first_publish: datetime | None = None
    #: (published at, when its newest data is from: the gate's measured freshness age, else None)
    publishes: list[tuple[datetime, datetime | None]] = field(default_factory=list)
    #: (when the gate started, whether it let the publish through)
    attempts: list[tuple[datetime, bool]] = field(default_factory=list)
    #: (opened, resolved or None) of availability incidents still open at or after the moment
    outages: list[tuple[datetime, datetime | None]] = field(default_factory=list)


#: The gate's checks that measure the age of the newest data (``quality/sla.py``), in the SLA's unit.
_AGE_CHECKS = ("sla.freshness", "sla.latency")


def _when(value: Any) -> datetime:
    found = utc(value)
    assert found is not None
    return found


def _data_at(published: datetime, measured: Any, unit: Any) -> datetime | None:
    """When the newest data was from: the publish time less the age the gate measured."""
    seconds = UNIT_SECONDS.get(str(unit or "").strip().lower())
    if measured is None or seconds is None or not math.isfinite(float(measured)):
        return None
    return published - timedelta(seconds=float(measured) * seconds)


def slo_records(
    catalog: Catalog, since: datetime, addresses: Collection[str] | None = None
) -> dict[str, SloRecords]:
    """Every product's records from ``since`` on (all products, or ``addresses``)."""
    v, q, i, c = t.versions, t.quality_runs, t.incidents, t.quality_checks
    out: dict[str, SloRecords] = {}

    def of(address: str) -> SloRecords:
        return out.setdefault(address, SloRecords())

    def only(column: Any, query: Any) -> Any:
        return query if addresses is None else query.where(column.in_(sorted(addresses)))

    # the gate's measured age of the newest data, looked up per version by the checks' primary key
    age = (c.c.run_id == v.c.run_id) & c.c.name.in_(_AGE_CHECKS)
    bounds = only(
        v.c.address,
        select(
            v.c.address,
            func.min(v.c.published_at).label("first"),
            func.max(v.c.published_at).label("last"),
        )
        .where(v.c.published_at < since)
        .group_by(v.c.address),
    ).subquery()
    with catalog.engine.connect() as conn:
        before = (
            select(bounds.c.address, bounds.c.first, v.c.id, v.c.published_at, c.c.measured, c.c.unit)
            .join(v, (v.c.address == bounds.c.address) & (v.c.published_at == bounds.c.last))
            .outerjoin(c, age)
            .order_by(bounds.c.address, v.c.id)
        )
        for address, first, _, at, measured, unit in _oldest_age(conn.execute(before)):
            records = of(address)
            published = _when(at)
            records.first_publish = _when(first)
            records.publishes = [(published, _data_at(published, measured, unit))]
        recent = only(
            v.c.address,
            select(v.c.address, v.c.id, v.c.published_at, c.c.measured, c.c.unit)
            .outerjoin(c, age)
            .where(v.c.published_at >= since)
            .order_by(v.c.published_at, v.c.id),
        )
        for address, _, at, measured, unit in _oldest_age(conn.execute(recent), offset=0):
            records = of(address)
            published = _when(at)
            records.publishes.append((published, _data_at(published, measured, unit)))
            if records.first_publish is None:
                records.first_publish = published
        runs = only(
            q.c.address,
            select(q.c.address, q.c.started_at, q.c.outcome)
            .where(q.c.started_at >= since)
            .order_by(q.c.started_at),
        )
        for address, at, outcome in conn.execute(runs):
            of(address).attempts.append((_when(at), outcome not in _REFUSED))
        outages = only(
            i.c.address,
            select(i.c.address, i.c.opened_at, i.c.resolved_at)
            .where(i.c.kind == "availability")
            .where(i.c.resolved_at.is_(None) | (i.c.resolved_at >= since))
            .order_by(i.c.opened_at),
        )
        for address, opened, resolved in conn.execute(outages):
            of(address).outages.append((_when(opened), utc(resolved)))
    return out


def _oldest_age(rows: Iterable[Any], offset: int = 1) -> Iterator[tuple[Any, ...]]:
    """One row per version (``row[offset + 1]`` its id) where a freshness and a latency check both matched:
    the one with the larger age, so the older data decides."""
    kept: tuple[Any, ...] | None = None
    for row in rows:
        values = tuple(row)
        if kept is not None and kept[offset + 1] == values[offset + 1]:
            if (values[-2] or float("-inf")) > (kept[-2] or float("-inf")):
                kept = values
            continue
        if kept is not None:
            yield kept
        kept = values
    if kept is not None:
        yield kept


#: Quality outcomes of an attempt the gate refused (or could not judge).
_REFUSED = frozenset({"failed", "error"})


def announced_alerts(catalog: Catalog, addresses: Collection[str] | None = None) -> set[str]:
    """The keys of the burn alerts announced so far (of ``addresses`` only, when given)."""
    a = t.audit_events
    query = select(a.c.details).where(a.c.action == SLO_ALERT_ACTION)
    if addresses is not None:
        query = query.where(a.c.subject.in_(sorted(addresses)))
    with catalog.engine.connect() as conn:
        return {
            str(details["key"])
            for (details,) in conn.execute(query)
            if isinstance(details, dict) and "key" in details
        }
