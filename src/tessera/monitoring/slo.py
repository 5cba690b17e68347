"""SLOs over a rolling window, from a product's history: how much of the window it met its contract, how much
error budget is left, how fast it burns (docs/architecture.md, "SLOs and error budgets"). Pure: the caller
reads the history from the catalog.

- **freshness** (time-based): the share of the window during which the published data was at most the
  contract's freshness (or latency) limit old. Exact from the publish history: a version published at ``p``
  whose newest value of the ``element`` column was ``n`` (the gate measured its age) is stale from
  ``max(p, n + limit)`` until the next publish; without a measured age, ``n`` is ``p``.
- **availability** (time-based): the share of the window outside availability incidents (opened and resolved
  by the SLA monitor, so as exact as its checks are frequent).
- **quality** (event-based): the share of gated publish attempts in the window the quality gate let through.

Time before a product's first publish is not measured. The objective is the contract's where it gives one
(``availability: 99.5%``), else mesh.yaml's ``slo.objectives``, else the default (``tessera.model.slo``).
The error budget is ``(1 - objective) x measured`` (seconds or attempts); the burn rate over a window is its
error rate divided by ``1 - objective`` (1: the budget lasts exactly the window)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from tessera.model.product import Product
from tessera.model.slo import SloName, SloSettings, format_window, parse_objective
from tessera.monitoring.status import freshness_limit

__all__ = [
    "Attempt",
    "Basis",
    "DayPoint",
    "History",
    "Objective",
    "Publish",
    "SloReport",
    "Span",
    "bad_spans",
    "counts",
    "daily",
    "evaluate",
    "objectives_for",
]

Basis = Literal["time", "events"]
_RATIO_PROPERTIES = ("completeness", "uniqueness", "accuracy")
#: The windows burn rates are reported over (the alert rules' windows, ``tessera.monitoring.burn``).
BURN_WINDOWS: tuple[timedelta, ...] = (
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=6),
    timedelta(days=3),
)


@dataclass(frozen=True, slots=True)
class Objective:
    """One SLO of a product: its target and where the target comes from (contract, mesh.yaml, default)."""

    slo: SloName
    target: float
    source: Literal["contract", "mesh.yaml", "default"]
    limit: timedelta | None = None
    note: str | None = None

    @property
    def basis(self) -> Basis:
        return "events" if self.slo == "quality" else "time"


def objectives_for(product: Product, settings: SloSettings) -> tuple[Objective, ...]:
    """The SLOs a product's contract declares: freshness (a freshness or latency limit), availability (an
    ``availability`` property), quality (quality rules, or completeness/uniqueness/accuracy properties)."""
    contract = product.contract
    out: list[Objective] = []

    def mesh(name: SloName) -> tuple[float, Literal["mesh.yaml", "default"]]:
        return settings.objectives[name], "mesh.yaml" if name in settings.configured else "default"

    limit, _, problem = freshness_limit(product)
    if limit is not None:
        out.append(Objective("freshness", *mesh("freshness"), limit=limit))
    elif problem is not None:
        out.append(Objective("freshness", *mesh("freshness"), note=f"not judged: {problem}"))
    availability = contract.sla_property("availability")
    if availability is not None:
        try:
            out.append(Objective("availability", parse_objective(_percent(availability.value)), "contract"))
        except ValueError as exc:
            target, source = mesh("availability")
            out.append(Objective("availability", target, source, note=f"contract availability: {exc}"))
    rules = contract.quality or any(c.quality for c in contract.columns)
    if rules or contract.sla_property(*_RATIO_PROPERTIES) is not None:
        out.append(Objective("quality", *mesh("quality")))
    return tuple(out)


def _percent(value: Any) -> Any:
    """ODCS writes availability as ``99.5``, ``"99.5%"`` or a ratio ``0.995`` (with or without ``unit``)."""
    return value.strip() if isinstance(value, str) else value


@dataclass(frozen=True, slots=True)
class Attempt:
    """A gated publish attempt: let through by the quality gate (``good``) or refused."""

    at: datetime
    good: bool


@dataclass(frozen=True, slots=True)
class Publish:
    """A version published at ``at`` whose newest data is from ``data_at`` (None: not measured)."""

    at: datetime
    data_at: datetime | None = None

    @property
    def fresh_from(self) -> datetime:
        return self.at if self.data_at is None else min(self.data_at, self.at)


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch of bad time; ``end`` None: still going."""

    start: datetime
    end: datetime | None = None


@dataclass(frozen=True, slots=True)
class History:
    """What a product did, as far back as the window reaches. ``publishes`` (ascending) holds the newest
    publish before the window too, so freshness at the window's start is known."""

    address: str
    first_publish: datetime | None
    publishes: tuple[Publish, ...] = ()
    attempts: tuple[Attempt, ...] = ()
    outages: tuple[Span, ...] = ()


def bad_spans(history: History, objective: Objective, now: datetime) -> list[Span]:
    """The stretches a time-based SLO was not met, up to ``now`` (ascending, not overlapping)."""
    if objective.slo == "availability":
        raw = [s for s in history.outages if s.start < now]
    elif objective.slo == "freshness" and objective.limit is not None:
        limit = objective.limit
        published = [p for p in history.publishes if p.at <= now]
        raw = [
            Span(max(p.at, p.fresh_from + limit), q.at)
            for p, q in itertools.pairwise(published)
            if q.at > max(p.at, p.fresh_from + limit)
        ]
        if published:
            newest = published[-1]
            raw.append(Span(max(newest.at, newest.fresh_from + limit), None))
    else:
        return []
    merged: list[Span] = []
    for span in sorted((s for s in raw if s.start < now), key=lambda s: s.start):
        last = merged[-1] if merged else None
        if last is not None and (last.end is None or span.start <= last.end):
            end = None if last.end is None or span.end is None else max(last.end, span.end)
            merged[-1] = Span(last.start, end)
        else:
            merged.append(span)
    return merged


def counts(
    history: History, objective: Objective, spans: Sequence[Span], start: datetime, end: datetime
) -> tuple[float, float]:
    """``(measured, bad)`` over ``[start, end]``: seconds for a time-based SLO (from the first publish on),
    attempts in ``(start, end]`` for an event-based one."""
    if objective.basis == "events":
        measured = refused = 0
        for attempt in reversed(history.attempts):  # ascending: the newest first, until the window's start
            if attempt.at <= start:
                break
            if attempt.at <= end:
                measured += 1
                refused += not attempt.good
        return float(measured), float(refused)
    first = history.first_publish
    if first is None or first >= end or (objective.slo == "freshness" and objective.limit is None):
        return 0.0, 0.0
    begin = max(start, first)
    bad = timedelta(0)
    for span in reversed(spans):  # ascending and apart: the newest first, until one ends before the window
        if span.end is not None and span.end <= begin:
            break
        overlap = min(end, span.end or end) - max(begin, span.start)
        if overlap > timedelta(0):
            bad += overlap
    return (end - begin).total_seconds(), bad.total_seconds()


def burn(measured: float, bad: float, objective: Objective) -> float:
    """Error rate over allowed error rate; 0 when nothing was measured."""
    return 0.0 if measured <= 0 else (bad / measured) / (1 - objective.target)


@dataclass(frozen=True, slots=True)
class SloReport:
    """One SLO of one product over ``[now - window, now]``. ``measured``/``bad`` are seconds (time-based) or
    attempts (event-based); ``budget_remaining`` is a fraction of the budget, negative when overspent."""

    address: str
    objective: Objective
    window: timedelta
    now: datetime
    measured: float
    bad: float
    burn_rates: Mapping[str, float]

    @property
    def slo(self) -> SloName:
        return self.objective.slo

    @property
    def attainment(self) -> float | None:
        return None if self.measured <= 0 else 1 - self.bad / self.measured

    @property
    def budget(self) -> float:
        """The error budget in seconds or attempts: what the objective allows of what was measured."""
        return (1 - self.objective.target) * self.measured

    @property
    def budget_left(self) -> float:
        return self.budget - self.bad

    @property
    def budget_remaining(self) -> float:
        return 1.0 if self.budget <= 0 else 1 - self.bad / self.budget

    @property
    def burn_rate(self) -> float:
        return burn(self.measured, self.bad, self.objective)

    def as_dict(self) -> dict[str, Any]:
        o = self.objective
        return {
            "product": self.address,
            "slo": o.slo,
            "basis": o.basis,
            "objective": o.target,
            "source": o.source,
            "limit_seconds": None if o.limit is None else o.limit.total_seconds(),
            "window": format_window(self.window),
            "window_seconds": self.window.total_seconds(),
            "start": (self.now - self.window).isoformat(),
            "end": self.now.isoformat(),
            "unit": "seconds" if o.basis == "time" else "attempts",
            "measured": self.measured,
            "bad": self.bad,
            "attainment": self.attainment,
            "budget": self.budget,
            "budget_left": self.budget_left,
            "budget_consumed": 1 - self.budget_remaining,
            "budget_remaining": self.budget_remaining,
            "burn_rate": self.burn_rate,
            "burn_rates": dict(self.burn_rates),
            "note": o.note,
        }


def evaluate(history: History, objective: Objective, *, window: timedelta, now: datetime) -> SloReport:
    spans = bad_spans(history, objective, now)
    measured, bad = counts(history, objective, spans, now - window, now)
    rates = {
        format_window(w): burn(*counts(history, objective, spans, now - w, now), objective)
        for w in BURN_WINDOWS
        if w < window
    }
    rates[format_window(window)] = burn(measured, bad, objective)
    return SloReport(history.address, objective, window, now, measured, bad, rates)


@dataclass(frozen=True, slots=True)
class DayPoint:
    """One day of the window (``end`` exclusive of the next): that day's attainment, and the share of the
    window's whole budget left at its end (the budget spent since the window began subtracted)."""

    start: datetime
    end: datetime
    attainment: float | None
    budget_remaining: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "attainment": self.attainment,
            "budget_remaining": self.budget_remaining,
        }


def daily(
    history: History, objective: Objective, *, window: timedelta, now: datetime
) -> tuple[DayPoint, ...]:
    """The window day by day (days counted from its start; the last may be shorter): for a chart. The last
    point's ``budget_remaining`` is the report's."""
    start = now - window
    spans = bad_spans(history, objective, now)
    measured, _ = counts(history, objective, spans, start, now)
    budget = (1 - objective.target) * measured
    points: list[DayPoint] = []
    day = start
    while day < now:
        end = min(day + timedelta(days=1), now)
        day_measured, day_bad = counts(history, objective, spans, day, end)
        _, spent = counts(history, objective, spans, start, end)
        points.append(
            DayPoint(
                day,
                end,
                None if day_measured <= 0 else 1 - day_bad / day_measured,
                1.0 if budget <= 0 else 1 - spent / budget,
            )
        )
        day = end
    return tuple(points)
