"""What a running mesh has done, counted from the catalog: publishes, refusals, quality outcomes, freshness by
publish time and open incidents (the server's ``/metrics`` reads these at each scrape)."""

from __future__ import annotations

from tessera.catalog.stats import CatalogStats, catalog_stats
from tessera.platform.context import Context

__all__ = ["CatalogStats", "mesh_stats"]


def mesh_stats(ctx: Context) -> CatalogStats:
    ctx.identify()
    return catalog_stats(ctx.catalog)
