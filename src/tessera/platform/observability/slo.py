"""SLOs with error budgets, and burn-rate alerts (docs/architecture.md, "SLOs and error budgets"): the
contract's SLA properties judged over a rolling window from what the catalog recorded — publishes, gated
publish attempts, availability incidents — in a few whole-table queries for the whole mesh.

Burn alerts are ``slo.burn`` notifications (the outbox), as incidents are; each alert episode is queued once
(an audit entry ``slo.burn`` holds its key, the outbox's ``dedup_key`` too)."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tessera import catalog as cat
from tessera.catalog.slo import SLO_ALERT_ACTION, SloRecords, announced_alerts, slo_records
from tessera.errors import FormatError, TesseraError
from tessera.model.slo import SloSettings, format_window, parse_window
from tessera.monitoring.burn import BurnAlert
from tessera.monitoring.slo import Attempt, DayPoint, History, Objective, Publish, SloReport, Span
from tessera.platform.context import Context

__all__ = [
    "BurnDeliveryWarning",
    "SloSummary",
    "announce_burns",
    "burn_alerts",
    "mesh_slos",
    "slo",
    "summary_from_dict",
]


class BurnDeliveryWarning(UserWarning):
    """A burn alert could not be announced to a webhook."""


@dataclass(frozen=True, slots=True)
class SloSummary:
    """Every SLO of the products asked for, at ``now``; ``series`` (when asked for) has each one day by day."""

    window: timedelta
    now: datetime
    reports: tuple[SloReport, ...]
    series: Mapping[tuple[str, str], tuple[DayPoint, ...]] | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"window": format_window(self.window), "now": self.now.isoformat(), "slos": []}
        for report in self.reports:
            item = report.as_dict()
            if self.series is not None:
                item["series"] = [p.as_dict() for p in self.series[(report.address, report.slo)]]
            out["slos"].append(item)
        return out


def settings_of(ctx: Context, window: str | timedelta | None = None) -> tuple[SloSettings, timedelta]:
    settings = SloSettings.from_mapping(ctx.settings.slo)
    if window is None:
        return settings, settings.window
    if isinstance(window, timedelta):
        return settings, window
    try:
        return settings, parse_window(window)
    except ValueError as exc:
        raise FormatError(f"window: {exc}") from None


def slo(
    ctx: Context,
    address: str | None = None,
    *,
    window: str | timedelta | None = None,
    now: datetime | None = None,
    series: bool = False,
) -> SloSummary:
    """The SLOs of one product (``address``) or of every product, over the window (mesh.yaml's, else 28 days)."""
    from tessera.monitoring.slo import daily, evaluate

    ctx.identify()
    settings, span = settings_of(ctx, window)
    moment = now or datetime.now(UTC)
    products = [ctx.product(address)] if address is not None else list(ctx.spec.products)
    histories = _histories(ctx, None if address is None else [address], moment - span)
    reports: list[SloReport] = []
    points: dict[tuple[str, str], tuple[DayPoint, ...]] = {}
    for product, objective in _objectives(products, settings):
        history = histories.get(product.address) or History(product.address, None)
        reports.append(evaluate(history, objective, window=span, now=moment))
        if series:
            points[(product.address, objective.slo)] = daily(history, objective, window=span, now=moment)
    return SloSummary(span, moment, tuple(reports), points if series else None)


_minutes: dict[tuple[str, str], tuple[tuple[Any, ...], SloSummary]] = {}


def mesh_slos(ctx: Context) -> SloSummary:
    """Every product's SLOs as of the current minute (what ``/metrics`` exports), computed at most once a
    minute (and again when the mesh's files change): a write to the catalog shows from the next minute on."""
    ctx.identify()
    _, span = settings_of(ctx)
    minute = datetime.now(UTC).replace(second=0, microsecond=0)
    key = (ctx.settings.catalog_url, str(ctx.settings.storage))
    stamp = (minute, span, id(ctx.spec))
    with _cache_lock:
        kept = _minutes.get(key)
    if kept is not None and kept[0] == stamp:
        return kept[1]
    summary = slo(ctx, now=minute)
    with _cache_lock:
        _minutes[key] = (stamp, summary)
    return summary


def burn_alerts(
    ctx: Context, now: datetime | None = None, addresses: Iterable[str] | None = None
) -> list[BurnAlert]:
    """The burn-rate alerts firing at ``now`` (all products, or ``addresses``)."""
    from tessera.monitoring.burn import burn_alerts as firing

    settings, span = settings_of(ctx)
    moment = now or datetime.now(UTC)
    wanted = None if addresses is None else set(addresses)
    products = [p for p in ctx.spec.products if wanted is None or p.address in wanted]
    histories = _histories(ctx, wanted, moment - span)
    alerts: list[BurnAlert] = []
    for product, objective in _objectives(products, settings):
        history = histories.get(product.address)
        if history is not None:
            alerts += firing(history, objective, window=span, now=moment)
    return alerts


def announce_burns(ctx: Context, addresses: Iterable[str] | None = None, now: datetime | None = None) -> None:
    """Queue each burn alert firing at ``now`` that was not announced yet as an ``slo.burn`` notification (the
    outbox, ``platform/notifying/notifications.py``: the product's followers and the notification channels that want
    it), recorded in the audit log in the same transaction; then deliver. What the SLA monitor calls after
    every check."""
    from tessera.platform.notifying.notifications import deliver_quietly, notify

    wanted = None if addresses is None else list(addresses)
    moment = now or datetime.now(UTC)
    try:
        alerts = burn_alerts(ctx, moment, wanted)
        sent = announced_alerts(ctx.catalog, [a.address for a in alerts]) if alerts else set()
    except TesseraError as exc:
        warnings.warn(f"SLO burn alerts not judged: {exc}", BurnDeliveryWarning, stacklevel=2)
        return
    fresh = [a for a in alerts if a.key not in sent]
    if not fresh:
        return
    with ctx.catalog.transaction() as conn:
        for alert in fresh:
            facts = alert.as_dict()
            cat.append_audit(conn, ctx.actor, SLO_ALERT_ACTION, alert.address, facts)
            notify(ctx, conn, "slo.burn", alert.address, facts, dedup=alert.key, at=moment)
    deliver_quietly(ctx)


def _objectives(products: Iterable[Any], settings: SloSettings) -> Iterable[tuple[Any, Objective]]:
    from tessera.monitoring.slo import objectives_for

    for product in products:
        for objective in objectives_for(product, settings):
            yield product, objective


# -- the history, read in bulk; for the whole mesh kept per catalog generation ---------------------------------

_cache_lock = threading.Lock()
_cache: dict[tuple[str, str], tuple[int, datetime, dict[str, History]]] = {}


def _histories(ctx: Context, addresses: Iterable[str] | None, since: datetime) -> dict[str, History]:
    """Each product's history from ``since`` on. For the whole mesh, the records are kept under the catalog's
    generation (docs/architecture.md, "Caches of the catalog"), read from the start of ``since``'s day: a
    scrape of ``/metrics`` at ten thousand products reads the catalog again only after a write."""
    if addresses is not None:
        return _build(slo_records(ctx.catalog, since, list(addresses)))
    from tessera.catalog.generation import current

    day = since.replace(hour=0, minute=0, second=0, microsecond=0)
    key = (ctx.settings.catalog_url, str(ctx.settings.storage))
    generation = current(ctx.catalog)
    with _cache_lock:
        kept = _cache.get(key)
    if kept is not None and kept[0] == generation and kept[1] <= since:
        return kept[2]
    built = _build(slo_records(ctx.catalog, day))
    with _cache_lock:
        _cache[key] = (generation, day, built)
    return built


def _build(records: Mapping[str, SloRecords]) -> dict[str, History]:
    return {
        address: History(
            address,
            r.first_publish,
            tuple(Publish(at, data_at) for at, data_at in r.publishes),
            tuple(Attempt(at, good) for at, good in r.attempts),
            tuple(Span(opened, resolved) for opened, resolved in r.outages),
        )
        for address, r in records.items()
    }


def summary_from_dict(data: dict[str, Any]) -> SloSummary:
    """``SloSummary.as_dict()`` back as the summary: the remote SDK's ``slo`` returns what ``Mesh.slo`` does
    (docs/architecture.md, SDK)."""
    reports, points = [], {}
    for item in data["slos"]:
        limit = item["limit_seconds"]
        objective = Objective(
            item["slo"],
            item["objective"],
            item["source"],
            None if limit is None else timedelta(seconds=limit),
            item["note"],
        )
        window = timedelta(seconds=item["window_seconds"])
        now = datetime.fromisoformat(item["end"])
        reports.append(
            SloReport(
                item["product"], objective, window, now, item["measured"], item["bad"], item["burn_rates"]
            )
        )
        if "series" in item:
            points[(item["product"], item["slo"])] = tuple(
                DayPoint(
                    datetime.fromisoformat(p["start"]),
                    datetime.fromisoformat(p["end"]),
                    p["attainment"],
                    p["budget_remaining"],
                )
                for p in item["series"]
            )
    now = datetime.fromisoformat(data["now"])
    return SloSummary(parse_window(data["window"]), now, tuple(reports), points or None)
