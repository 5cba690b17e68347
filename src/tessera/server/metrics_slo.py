"""The SLO gauges of ``/metrics`` for every product, as of the current minute, from the history the platform
keeps per catalog generation (a scrape at ten thousand products never queries per product, and scrapes within
a minute of an unchanged catalog reuse the figures):
``tessera_slo_attainment``, ``tessera_slo_error_budget_remaining`` (a share, negative when overspent),
``tessera_slo_objective`` and ``tessera_slo_burn_rate`` over the SLO window and the last hour."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from prometheus_client.core import Metric

    from tessera.platform.context import Context

__all__ = ["SloCollector"]

_SHORT = "1h"


class SloCollector(Collector):
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def collect(self) -> Iterator[Metric]:
        from tessera.model.slo import format_window
        from tessera.platform.observability.slo import mesh_slos

        summary = mesh_slos(self.ctx)
        window = format_window(summary.window)
        labels = ["product", "slo"]
        objective = GaugeMetricFamily("tessera_slo_objective", "The SLO's objective (0-1)", labels=labels)
        attainment = GaugeMetricFamily(
            "tessera_slo_attainment", f"Share of the {window} window the SLO was met (0-1)", labels=labels
        )
        budget = GaugeMetricFamily(
            "tessera_slo_error_budget_remaining",
            f"Share of the {window} error budget left (negative when overspent)",
            labels=labels,
        )
        burn = GaugeMetricFamily(
            "tessera_slo_burn_rate",
            "Error rate over the allowed error rate (1: the budget lasts the window)",
            labels=[*labels, "window"],
        )
        for r in summary.reports:
            key = [r.address, r.slo]
            objective.add_metric(key, r.objective.target)
            if r.attainment is not None:
                attainment.add_metric(key, r.attainment)
            budget.add_metric(key, r.budget_remaining)
            burn.add_metric([*key, window], r.burn_rate)
            if _SHORT in r.burn_rates:
                burn.add_metric([*key, _SHORT], r.burn_rates[_SHORT])
        yield from (objective, attainment, budget, burn)
