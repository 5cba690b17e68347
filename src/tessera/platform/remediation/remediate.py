"""Remediation (docs/governance.md, "Threat model"): retention (``tessera govern --fix``) here, the right to erasure (``tessera erase``)
in ``tessera.platform.remediation.erasure``.

Both delete rows for good, table by table (every major of a product): one Delta commit that rewrites the files
holding the rows — a new version, recorded in the catalog with operation ``retention``/``erasure`` and
carrying its provenance in the commit metadata like a publish, so ``tessera repair`` keeps it — then a vacuum
of every file the newest version does not use (the rows are gone from storage; older versions can no longer
be read, and reading one says why), then the log's statistics of the removed files are dropped
(``tessera.storage.scrub``), and the masked copies Delta Sharing made of the removed files are purged
(``tessera.platform.sharing.sharing_files``), so no recipient is served the deleted rows. Every action is audited with
its counts. ``dry_run`` counts what would go and
changes nothing. The table helpers both use are in ``tessera.platform.remediation.rewrites``."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

from tessera import catalog as cat
from tessera.governance.retention import RetentionRule, retention_rule, time_kind
from tessera.model.product import Product
from tessera.model.sqltext import ident
from tessera.platform.context import Context
from tessera.platform.remediation.rewrites import (
    arrow_schema,
    count_matching,
    counted_rows,
    files_holding,
    major_tables,
    purge_masked_copies,
    record_remediation,
    remediation_provenance,
)

__all__ = ["RetentionFix", "apply_retention"]


@dataclass(frozen=True, slots=True)
class RetentionFix:
    """What retention did (or, in a dry run, would do) to one major of a product; or why it was skipped."""

    address: str
    status: Literal["fixed", "unchanged", "would fix", "skipped"]
    reason: str = ""
    major: int | None = None
    rule: str | None = None
    cutoff: datetime | None = None
    rows_deleted: int = 0
    rows_after: int | None = None
    version: int | None = None
    files_removed: int = 0
    log_stats_scrubbed: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "product": self.address,
            "status": self.status,
            "reason": self.reason,
            "major": self.major,
            "retention": self.rule,
            "cutoff": self.cutoff.isoformat() if self.cutoff else None,
            "rows_deleted": self.rows_deleted,
            "rows_after": self.rows_after,
            "version": self.version,
            "files_removed": self.files_removed,
            "log_stats_scrubbed": self.log_stats_scrubbed,
        }


# Retention


def apply_retention(
    ctx: Context, products: list[str] | None = None, *, dry_run: bool = False, now: datetime | None = None
) -> list[RetentionFix]:
    """Delete the rows older than each product's retention in every major, then vacuum and scrub the log.
    Products without a retention (or whose time column is not a date or timestamp) are skipped with why.
    Needs ``govern`` on every product concerned (admin, or the product's data steward), checked first."""
    moment = now or datetime.now(UTC)
    chosen = [ctx.product(a) for a in products] if products else list(ctx.spec.products)
    for product in chosen:  # all first: a refusal leaves every product as it was
        ctx.authorize("govern", product.address)
    fixes: list[RetentionFix] = []
    for product in chosen:
        rule = retention_rule(product.contract)
        if isinstance(rule, str):
            fixes.append(RetentionFix(product.address, "skipped", rule))
            continue
        tables = major_tables(ctx, product)
        if not tables:
            fixes.append(RetentionFix(product.address, "skipped", "nothing published yet", rule=str(rule)))
        for major, uri in tables.items():
            fixes.append(_retain(ctx, product, rule, major, uri, moment, dry_run))
    return fixes


def _retain(
    ctx: Context,
    product: Product,
    rule: RetentionRule,
    major: int,
    uri: str,
    now: datetime,
    dry_run: bool,
) -> RetentionFix:
    cutoff = rule.cutoff(now)
    base = RetentionFix(product.address, "skipped", major=major, rule=str(rule), cutoff=cutoff)
    schema = arrow_schema(ctx, uri)
    if rule.column not in schema.names:
        return replace(base, reason=f"the table of major {major} has no column {rule.column}")
    kind = time_kind(schema.field(rule.column).type)
    if kind is None:
        found = schema.field(rule.column).type
        return replace(base, reason=f"{rule.column} is {found}, not a date or timestamp")
    total, expired = count_matching(ctx, uri, f"{ident(rule.column)} < ?", [rule.bound(kind, cutoff)])
    if dry_run:
        import pyarrow as pa
        import pyarrow.compute as pc

        bound = pa.scalar(rule.bound(kind, cutoff), schema.field(rule.column).type)
        rewritten = files_holding(ctx, uri, pc.field(rule.column) < bound) if expired else set()
        files = len(ctx.store.vacuum(uri, dry_run=True)) + len(rewritten)
        status: Literal["would fix", "unchanged"] = "would fix" if expired or files else "unchanged"
        return replace(
            base, status=status, rows_deleted=expired, rows_after=total - expired, files_removed=files
        )
    provenance = remediation_provenance(ctx, product, major, "retention", total - expired, now)
    version, deleted = None, 0
    if expired:
        version, deleted = ctx.store.delete_rows(uri, rule.predicate(kind, cutoff), provenance)
    removed = ctx.store.vacuum(uri)
    scrubbed = ctx.store.scrub_log(uri)
    purge_masked_copies(ctx, product.address, major, uri)
    rows_after = counted_rows(ctx, uri, version, total - deleted) if version is not None else total
    fix = replace(
        base,
        status="fixed" if deleted or removed else "unchanged",
        rows_deleted=deleted,
        rows_after=rows_after,
        version=version,
        files_removed=len(removed),
        log_stats_scrubbed=scrubbed,
    )
    if fix.status == "fixed":
        with ctx.catalog.transaction() as conn:
            if version is not None:
                record_remediation(conn, product.address, major, uri, version, rows_after, provenance)
            cat.append_audit(
                conn,
                ctx.actor,
                "govern.fix.retention",
                product.address,
                {
                    "major": major,
                    "version": version,
                    "rows_deleted": deleted,
                    "files_removed": len(removed),
                    "log_stats_scrubbed": scrubbed,
                    "cutoff": cutoff.isoformat(),
                    "retention": str(rule),
                },
            )
    return fix
