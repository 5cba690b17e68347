"""Quality runs of the catalog with their checks (tables ``quality_runs`` and ``quality_checks``): one by its
id (what a version's gate judged, however many runs came after it), or each product's latest."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from tessera.catalog import tables as t
from tessera.catalog.store import Catalog, Row, _rows

__all__ = ["latest_runs", "quality_run"]


def quality_run(catalog: Catalog, run_id: str) -> Row | None:
    with catalog.engine.connect() as conn:
        runs = _rows(conn, select(t.quality_runs).where(t.quality_runs.c.run_id == run_id))
        if not runs:
            return None
        run = runs[0]
        run["checks"] = _rows(conn, select(t.quality_checks).where(t.quality_checks.c.run_id == run_id))
        return run


def latest_runs(
    catalog: Catalog, addresses: Iterable[str] | None = None
) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """Each product's latest quality run (of ``addresses``, default every product), and the checks of those
    runs by run id."""
    runs = t.quality_runs
    query = select(runs).order_by(runs.c.started_at)
    if addresses is not None:
        query = query.where(runs.c.address.in_(set(addresses)))
    latest: dict[str, Any] = {}
    checks: dict[str, list[Any]] = {}
    with catalog.engine.connect() as conn:
        for run in conn.execute(query).mappings():
            latest[run["address"]] = run
        ids = [r["run_id"] for r in latest.values()]
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            found = t.quality_checks
            for check in conn.execute(select(found).where(found.c.run_id.in_(chunk))).mappings():
                checks.setdefault(check["run_id"], []).append(check)
    return latest, checks
