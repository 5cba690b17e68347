"""Rebuild the catalog's version records from the tables' Delta commit metadata.

The catalog never names a Delta version that does not exist and never misses one that does: every publish
commits first and records second, and this module closes the gap a crash in between could leave."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import delete

from tessera import catalog as cat
from tessera.catalog import tables as t
from tessera.model.product import Product
from tessera.platform.context import Context

__all__ = ["reconcile", "repair", "versions_from_commits"]


def _major_uris(ctx: Context, product: Product) -> dict[int, str]:
    base = ctx.table_uri(product, 1).rsplit("/", 1)[0]
    uris = {m["major"]: m["table_uri"] for m in ctx.catalog.majors(product.address)}
    for major, uri in ctx.store.majors_on_disk(base).items():
        uris.setdefault(major, uri)
    uris.setdefault(product.contract.major, ctx.table_uri(product))
    return uris


def versions_from_commits(ctx: Context, product: Product, major: int, uri: str) -> list[cat.VersionRecord]:
    if ctx.store.latest_version(uri) is None:
        return []
    records = []
    for entry in ctx.store.history(uri):
        if entry.get("tessera.product") != product.address:
            continue
        published = entry.get("tessera.publishedAt")
        when = datetime.fromisoformat(published) if published else ctx.store.commit_time(entry)
        metrics = entry.get("operationMetrics") or {}
        quality = json.loads(entry.get("tessera.quality") or "{}")
        records.append(
            cat.VersionRecord(
                address=product.address,
                major=major,
                delta_version=int(entry["version"]),
                table_uri=uri,
                contract_version=str(entry.get("tessera.contractVersion", "")),
                contract_hash=str(entry.get("tessera.contractHash", "")),
                product_version=str(entry.get("tessera.productVersion", "")),
                run_id=str(entry.get("tessera.runId", "")),
                row_count=quality.get("rows", metrics.get("num_added_rows")),
                operation=str(
                    entry.get("tessera.writeMode")
                    or (entry.get("operationParameters") or {}).get("mode", entry.get("operation", ""))
                ).lower(),
                published_at=when.astimezone(UTC),
            )
        )
    return sorted(records, key=lambda r: r.delta_version)


def repair(ctx: Context, product: Product, *, replace: bool = True) -> int:
    """Replace the product's version rows with what the commits say (or, with ``replace=False``, only add the
    missing ones, which is safe while other publishers record theirs); returns how many versions there are."""
    found: list[cat.VersionRecord] = []
    for major, uri in sorted(_major_uris(ctx, product).items()):
        found.extend(versions_from_commits(ctx, product, major, uri))
    with ctx.catalog.transaction() as conn:
        if replace:
            conn.execute(delete(t.versions).where(t.versions.c.address == product.address))
        for record in found:
            cat.record_major(
                conn, product.address, record.major, record.table_uri, product.contract.deprecation_days
            )
            cat.record_version(conn, record)
        if found and replace:
            cat.append_audit(conn, ctx.actor, "repair", product.address, {"versions": len(found)})
    return len(found)


def reconcile(ctx: Context, product: Product) -> None:
    """Before publishing: if the table holds commits the catalog does not know (a crash after a commit),
    record them first."""
    uri = ctx.table_uri(product)
    latest = ctx.store.latest_version(uri)
    if latest is None:
        return
    known = {v["delta_version"] for v in ctx.catalog.versions(product.address, product.contract.major)}
    if latest not in known:
        repair(ctx, product, replace=False)
