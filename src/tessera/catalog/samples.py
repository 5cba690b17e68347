"""The failing-row samples kept with quality checks (table ``quality_checks``, column ``samples``): read by
product, and rewritten without a subject's rows by erasure (docs/governance.md)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Connection, select, update

from tessera.catalog import tables as t

__all__ = ["check_samples", "replace_samples"]


def check_samples(conn: Connection, addresses: Collection[str]) -> list[tuple[str, str, Any, str]]:
    """(run id, check name, samples, product) of every quality check of the products ``addresses``."""
    checks, runs = t.quality_checks.c, t.quality_runs.c
    query = (
        select(checks.run_id, checks.name, checks.samples, runs.address)
        .join(t.quality_runs, runs.run_id == checks.run_id)
        .where(runs.address.in_(sorted(addresses)))
    )
    return [(r[0], r[1], r[2], r[3]) for r in conn.execute(query)]


def replace_samples(conn: Connection, run_id: str, name: str, samples: list[Any]) -> None:
    checks = t.quality_checks.c
    conn.execute(
        update(t.quality_checks).where(checks.run_id == run_id, checks.name == name).values(samples=samples)
    )
