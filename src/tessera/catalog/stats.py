"""Counts over the whole catalog in a few aggregate queries, for the server's ``/metrics``: per product its
published versions and newest publish time, quality runs by outcome, refused publishes and open incidents."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from tessera.catalog import tables as t
from tessera.catalog.store import Catalog, utc

__all__ = ["CatalogStats", "catalog_stats", "page_facts"]


@dataclass(frozen=True, slots=True)
class CatalogStats:
    #: address -> (versions published, newest publish time)
    published: dict[str, tuple[int, datetime | None]]
    #: (address, outcome) -> quality runs
    quality: dict[tuple[str, str], int]
    #: address -> publishes refused by a gate
    refused: dict[str, int]
    #: address -> open incidents
    incidents: dict[str, int]


def catalog_stats(catalog: Catalog) -> CatalogStats:
    v, q, a, i = t.versions, t.quality_runs, t.audit_events, t.incidents
    with catalog.engine.connect() as conn:
        published = {
            row[0]: (int(row[1]), utc(row[2]))
            for row in conn.execute(
                select(v.c.address, func.count(), func.max(v.c.published_at)).group_by(v.c.address)
            )
        }
        quality = {
            (row[0], row[1]): int(row[2])
            for row in conn.execute(
                select(q.c.address, q.c.outcome, func.count()).group_by(q.c.address, q.c.outcome)
            )
        }
        refused = {
            row[0]: int(row[1])
            for row in conn.execute(
                select(a.c.subject, func.count()).where(a.c.action == "publish.refused").group_by(a.c.subject)
            )
        }
        incidents = {
            row[0]: int(row[1])
            for row in conn.execute(
                select(i.c.address, func.count()).where(i.c.resolved_at.is_(None)).group_by(i.c.address)
            )
        }
    return CatalogStats(published, quality, refused, incidents)


def page_facts(catalog: Catalog) -> dict[str, dict[str, Any]]:
    """For every product, in a few whole-table queries: roles, majors, lineage neighbours, how many versions and
    the newest, and the newest quality outcome (what a product's catalog page adds to its row and columns)."""
    r, m, e, v, q = t.product_roles, t.majors, t.lineage_edges, t.versions, t.quality_runs
    facts: dict[str, dict[str, Any]] = {}

    def fact(address: str) -> dict[str, Any]:
        return facts.setdefault(
            address,
            {
                "roles": [],
                "majors": [],
                "upstream": set(),
                "downstream": set(),
                "versions": 0,
                "latest": None,
                "quality": None,
            },
        )

    with catalog.engine.connect() as conn:
        for row in conn.execute(select(r).order_by(r.c.address, r.c.username, r.c.role)).mappings():
            fact(row["address"])["roles"].append(dict(row))
        for row in conn.execute(select(m).order_by(m.c.address, m.c.major)).mappings():
            major = {k: utc(x) if isinstance(x, datetime) else x for k, x in row.items()}
            major["table_uri"] = catalog.usable(str(row["table_uri"]))
            fact(row["address"])["majors"].append(major)
        for source, target in conn.execute(select(e.c.source, e.c.target).distinct()):
            fact(target)["upstream"].add(source)
            fact(source)["downstream"].add(target)
        newest = select(v.c.address, func.count().label("n"), func.max(v.c.id).label("id")).group_by(
            v.c.address
        )
        counted = newest.subquery()
        for row in conn.execute(select(counted.c.n, v).join(counted, v.c.id == counted.c.id)).mappings():
            found = fact(row["address"])
            found["versions"] = int(row["n"])
            found["latest"] = {
                "major": row["major"],
                "delta_version": row["delta_version"],
                "contract_version": row["contract_version"],
                "rows": row["row_count"],
                "published_at": utc(row["published_at"]),
            }
        last = select(q.c.address, func.max(q.c.started_at).label("at")).group_by(q.c.address).subquery()
        for address, outcome in conn.execute(
            select(q.c.address, q.c.outcome).join(
                last, (q.c.address == last.c.address) & (q.c.started_at == last.c.at)
            )
        ):
            fact(address)["quality"] = outcome
    for found in facts.values():
        found["upstream"], found["downstream"] = sorted(found["upstream"]), sorted(found["downstream"])
    return facts
