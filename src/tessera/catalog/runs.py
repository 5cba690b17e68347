"""One quality run of the catalog by its id, with its checks (tables ``quality_runs`` and ``quality_checks``):
what a version's gate judged, however many runs came after it."""

from __future__ import annotations

from sqlalchemy import select

from tessera.catalog import tables as t
from tessera.catalog.store import Catalog, Row, _rows

__all__ = ["quality_run"]


def quality_run(catalog: Catalog, run_id: str) -> Row | None:
    with catalog.engine.connect() as conn:
        runs = _rows(conn, select(t.quality_runs).where(t.quality_runs.c.run_id == run_id))
        if not runs:
            return None
        run = runs[0]
        run["checks"] = _rows(conn, select(t.quality_checks).where(t.quality_checks.c.run_id == run_id))
        return run
