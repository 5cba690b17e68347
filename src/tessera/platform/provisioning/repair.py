"""Rebuild the catalog's version records from the tables' Delta commit metadata.

The catalog never names a Delta version that does not exist and never misses one that does: every publish
commits first and records second, and this module closes the gap a crash in between could leave. A repair
rewrites version records, so it takes an admin grant on the mesh (a refusal is audited). It never removes the
records of a table it cannot find (a folder moved away, a bucket not mounted): it keeps them and says which
(``Kept``), so putting the table back restores them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from tessera import catalog as cat
from tessera.errors import AccessDeniedError, AuthenticationError
from tessera.model.product import Product
from tessera.platform.context import Context

__all__ = ["Kept", "Repaired", "reconcile", "repair", "repair_mesh", "versions_from_commits"]


@dataclass(frozen=True, slots=True)
class Kept:
    """Version records a repair left alone: their table is not where the catalog says (``table_uri``)."""

    address: str
    major: int
    table_uri: str
    delta_versions: tuple[int, ...]

    @property
    def reason(self) -> str:
        listed = ", ".join(f"v{v}" for v in self.delta_versions)
        return (
            f"{self.address} major {self.major}: no Delta table at {self.table_uri}; kept {listed} "
            "(the records stay: put the table back at that place and run repair again)"
        )


@dataclass(frozen=True, slots=True)
class Repaired:
    """What a repair found for one product: how many versions its tables hold, and the records it kept."""

    address: str
    versions: int
    kept: tuple[Kept, ...] = ()


def _major_uris(ctx: Context, product: Product, recorded: Sequence[dict[str, object]]) -> dict[int, str]:
    base = ctx.table_uri(product, 1).rsplit("/", 1)[0]
    uris = {m["major"]: m["table_uri"] for m in ctx.catalog.majors(product.address)}
    for row in recorded:
        uris.setdefault(int(str(row["major"])), str(row["table_uri"]))
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


def repair_mesh(ctx: Context) -> list[Repaired]:
    """Repair every product of the mesh: the caller needs admin on the mesh (refusals are audited)."""
    try:
        ctx.authorize("admin", "mesh")
    except (AccessDeniedError, AuthenticationError) as exc:
        if ctx.authenticated:
            with ctx.catalog.transaction() as conn:
                cat.append_audit(conn, ctx.actor, "access.denied", "repair", {"reason": str(exc)[:500]})
        raise
    return [repair(ctx, p) for p in ctx.spec.products]


def repair(ctx: Context, product: Product, *, replace: bool = True) -> Repaired:
    """Replace the product's version rows with what the commits say (or, with ``replace=False``, only add the
    missing ones, which is safe while other publishers record theirs). A major whose table cannot be found
    keeps its rows, reported in ``kept``."""
    recorded = ctx.catalog.versions(product.address)
    found: list[cat.VersionRecord] = []
    kept: list[Kept] = []
    present: list[int] = []
    for major, uri in sorted(_major_uris(ctx, product, recorded).items()):
        if ctx.store.latest_version(uri) is None:
            mine = tuple(sorted(int(r["delta_version"]) for r in recorded if r["major"] == major))
            if mine:
                kept.append(Kept(product.address, major, uri, mine))
            continue
        present.append(major)
        found.extend(versions_from_commits(ctx, product, major, uri))
    with ctx.catalog.transaction() as conn:
        if replace and present:
            ctx.catalog.delete_versions(conn, product.address, present)
        for record in found:
            cat.record_major(
                conn, product.address, record.major, record.table_uri, product.contract.deprecation_days
            )
            cat.record_version(conn, record)
        if replace and (found or kept):
            details = {"versions": len(found), "kept": [k.reason for k in kept]}
            cat.append_audit(conn, ctx.actor, "repair", product.address, details)
    return Repaired(product.address, len(found), tuple(kept))


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
