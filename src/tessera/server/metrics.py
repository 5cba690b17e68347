"""Prometheus metrics at ``/metrics``, in a registry of the application's own (two apps in one process never
share counters): requests and latencies per route template, scheduler runs, and, computed at each scrape from
the catalog, publishes, refused publishes, quality outcomes, open incidents and the age of each product's
newest version; and each product's audited reads, queries and rows read, counted from the audit log's entries
since the previous scrape (``tessera.platform.observability.usage_counts``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tessera.server.metrics_slo import SloCollector

if TYPE_CHECKING:
    from prometheus_client.core import Metric

    from tessera.platform.context import Context
    from tessera.platform.observability.usage_counts import UsageTotals
    from tessera.platform.publishing.build import BuildOutcome

__all__ = ["CONTENT_TYPE_LATEST", "Metrics", "RequestMetrics"]

_BUCKETS = (0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _CatalogCollector(Collector):
    """The catalog's counts, read for one scrape by the scraper's Context."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def collect(self) -> Iterator[Metric]:
        from tessera.platform.observability.stats import mesh_stats

        stats = mesh_stats(self.ctx)
        now = datetime.now(UTC)
        publishes = CounterMetricFamily(
            "tessera_publishes", "Versions published, per product", labels=["product"]
        )
        age = GaugeMetricFamily(
            "tessera_freshness_age_seconds", "Seconds since a product's newest version", labels=["product"]
        )
        for address, (count, newest) in sorted(stats.published.items()):
            publishes.add_metric([address], count)
            if newest is not None:
                age.add_metric([address], max((now - newest).total_seconds(), 0.0))
        refused = CounterMetricFamily(
            "tessera_publish_refusals", "Publishes refused by a gate, per product", labels=["product"]
        )
        for address, count in sorted(stats.refused.items()):
            refused.add_metric([address], count)
        quality = CounterMetricFamily(
            "tessera_quality_runs", "Quality gate runs by outcome", labels=["product", "outcome"]
        )
        for (address, outcome), count in sorted(stats.quality.items()):
            quality.add_metric([address, outcome], count)
        incidents = GaugeMetricFamily("tessera_open_incidents", "Open SLA incidents", labels=["product"])
        for address, count in sorted(stats.incidents.items()):
            incidents.add_metric([address], count)
        yield from (publishes, refused, quality, age, incidents)


class _UsageCollector(Collector):
    """Reads, queries and rows read per product since the audit log began."""

    def __init__(self, ctx: Context, totals: UsageTotals) -> None:
        self.ctx, self.totals = ctx, totals

    def collect(self) -> Iterator[Metric]:
        self.ctx.identify()
        counted = self.totals.current(self.ctx.catalog)
        names = ("reads", "queries", "rows_read")
        helps = (
            "Audited reads, per product",
            "Audited queries that read the product",
            "Rows read, per product",
        )
        families = [
            CounterMetricFamily(f"tessera_product_{n}", h, labels=["product"])
            for n, h in zip(names, helps, strict=True)
        ]
        for address, values in sorted(counted.items()):
            for family, value in zip(families, values, strict=True):
                family.add_metric([address], value)
        yield from families


class Metrics:
    def __init__(self) -> None:
        from tessera.platform.observability.usage_counts import UsageTotals

        self.usage = UsageTotals()
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "tessera_http_requests",
            "HTTP requests by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "tessera_http_request_duration_seconds",
            "HTTP request latency by method and route template",
            ["method", "route"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.scheduler_runs = Counter(
            "tessera_scheduler_runs",
            "Scheduled product builds by status",
            ["product", "status"],
            registry=self.registry,
        )
        self.scheduler_batches = Counter(
            "tessera_scheduler_batches", "Batches the scheduler ran", registry=self.registry
        )

    def observe_batch(self, outcomes: list[BuildOutcome]) -> None:
        self.scheduler_batches.inc()
        for outcome in outcomes:
            self.scheduler_runs.labels(outcome.address, outcome.status).inc()

    def exposition(self, ctx: Context) -> bytes:
        """The text exposition: this app's own metrics, then the catalog's counts as ``ctx`` reads them."""
        scrape = CollectorRegistry(auto_describe=False)
        scrape.register(_UsageCollector(ctx, self.usage))
        scrape.register(_CatalogCollector(ctx))
        scrape.register(SloCollector(ctx))
        return generate_latest(self.registry) + generate_latest(scrape)


class RequestMetrics:
    """ASGI middleware: count and time every request by its route template (``/api/v1/products/{domain}/...``,
    never the raw path, so the label set stays bounded)."""

    def __init__(self, app: ASGIApp, metrics: Callable[[], Metrics]) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = [500]

        async def tracking(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        finally:
            route = _template(scope)
            metrics = self.metrics()
            metrics.requests.labels(scope["method"], route, str(status[0])).inc()
            metrics.latency.labels(scope["method"], route).observe(time.perf_counter() - start)


def _template(scope: Scope) -> str:
    """The route template FastAPI matched (it leaves the route in the scope), else ``unmatched``."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"
