"""The right to erasure (``tessera erase --subject customer_id=C123``): what ``tessera.governance.erasure``
plans, applied to every major of every product holding the subject — delete, vacuum, scrub the log, purge
Delta Sharing's masked copies of the removed files (see ``tessera.platform.remediation.remediate``, and ``tessera.platform.remediation.rewrites`` for the steps both share) — plus the quality
samples in the catalog that show the value. Audited once, with the value's sha256 instead of the value."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from tessera import catalog as cat
from tessera.catalog.lineage import subject_edges
from tessera.catalog.samples import check_samples, replace_samples
from tessera.governance.erasure import ErasurePlan, LineageEdge, Subject, plan_erasure
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
from tessera.quality.samples import jsonable

__all__ = ["ErasedTable", "ErasureReport", "erase"]


@dataclass(frozen=True, slots=True)
class ErasedTable:
    """What erasure did (or would do) to one major of one product."""

    address: str
    major: int
    columns: tuple[str, ...]
    rows_deleted: int = 0
    versions: tuple[int, ...] = ()
    files_removed: int = 0
    log_stats_scrubbed: int | None = None
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "product": self.address,
            "major": self.major,
            "columns": list(self.columns),
            "rows_deleted": self.rows_deleted,
            "versions": list(self.versions),
            "files_removed": self.files_removed,
            "log_stats_scrubbed": self.log_stats_scrubbed,
            "notes": list(self.notes),
        }


@dataclass(frozen=True, slots=True)
class ErasureReport:
    plan: ErasurePlan
    dry_run: bool
    tables: tuple[ErasedTable, ...] = ()
    samples_removed: int = 0

    @property
    def rows_deleted(self) -> int:
        return sum(e.rows_deleted for e in self.tables)

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.plan.as_dict(),
            "value_sha256": self.plan.subject.digest,
            "dry_run": self.dry_run,
            "rows_deleted": self.rows_deleted,
            "tables": [e.as_dict() for e in self.tables],
            "samples_removed": self.samples_removed,
        }


def _edges(ctx: Context) -> list[LineageEdge]:
    """Every column edge any recorded version was built with: an older major may copy the key differently."""
    return [LineageEdge(*row) for row in subject_edges(ctx.catalog)]


def erase(
    ctx: Context, subject: Subject | str, value: str | None = None, *, dry_run: bool = False
) -> ErasureReport:
    """Delete every row holding the subject — ``"customer_id=C123"``, or the key and ``value`` apart — from every
    product and major holding its key, vacuum, scrub the log and the quality samples; audited with the value's
    sha256, not the value. Needs admin on the mesh; raises ErasureError, changing nothing, when the subject is
    malformed or no contract classifies the key."""
    if isinstance(subject, str):
        subject = Subject.parse(subject if value is None else f"{subject}={value}")
    ctx.authorize("erase")
    contracts = {p.address: p.contract for p in ctx.spec.products}
    plan = plan_erasure(subject, contracts, _edges(ctx))
    now = datetime.now(UTC)
    done: list[ErasedTable] = []
    forms: dict[str, set[str]] = {}
    complete = False
    try:
        for address, columns in plan.by_product().items():
            product = ctx.product(address)
            for major, uri in major_tables(ctx, product).items():
                table, typed = _erase_table(ctx, product, major, uri, subject, columns, now, dry_run)
                done.append(table)
                forms.setdefault(address, {subject.value}).update(typed)
        complete = True
    finally:
        if dry_run:
            report = ErasureReport(plan, dry_run, tuple(done), _scrub_samples(ctx, plan, forms))
        else:  # also when a table failed: what was erased so far is audited, marked incomplete
            with ctx.catalog.transaction() as conn:
                report = ErasureReport(plan, dry_run, tuple(done), _scrub_samples(ctx, plan, forms, conn))
                cat.append_audit(conn, ctx.actor, "erase", subject.key, _audit(report, complete))
    return report


def _audit(report: ErasureReport, complete: bool) -> dict[str, Any]:
    products: dict[str, dict[str, Any]] = {}
    for e in report.tables:
        entry = products.setdefault(
            e.address, {"majors": [], "versions": [], "rows_deleted": 0, "files_removed": 0}
        )
        entry["majors"].append(e.major)
        entry["versions"].extend(e.versions)
        entry["rows_deleted"] += e.rows_deleted
        entry["files_removed"] += e.files_removed
    return {
        "key": report.plan.subject.key,
        "value_sha256": report.plan.subject.digest,
        "complete": complete,
        "rows_deleted": report.rows_deleted,
        "products": products,
        "derived": sorted({d.address for d in report.plan.derived}),
        "sources": list(report.plan.sources),
        "samples_removed": report.samples_removed,
    }


def _typed(value: str, arrow_type: Any) -> Any:
    """The value as the column's type (a safe cast), or None when the column cannot hold it."""
    import pyarrow as pa

    try:
        return pa.array([value], pa.string()).cast(arrow_type, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None


def _erase_table(
    ctx: Context,
    product: Product,
    major: int,
    uri: str,
    subject: Subject,
    columns: tuple[str, ...],
    now: datetime,
    dry_run: bool,
) -> tuple[ErasedTable, set[str]]:
    schema = arrow_schema(ctx, uri)
    present = tuple(c for c in columns if c in schema.names)
    notes = [f"major {major} has no column {c}" for c in columns if c not in schema.names]
    deleted, versions, forms, rewritten = 0, [], set(), set()
    for column in present:
        value = _typed(subject.value, schema.field(column).type)
        if value is None:
            notes.append(f"{column} ({schema.field(column).type}) cannot hold {subject.key}'s value")
            continue
        forms.add(str(jsonable(value[0].as_py())))  # as the quality samples store it
        total, matched = count_matching(ctx, uri, f"{ident(column)} = ?", [value[0].as_py()])
        if dry_run or not matched:
            if matched:
                import pyarrow.compute as pc

                rewritten |= files_holding(ctx, uri, pc.field(column) == value[0])
            deleted += matched
            continue
        provenance = remediation_provenance(ctx, product, major, "erasure", total - matched, now)
        version, rows = ctx.store.delete_matching(uri, column, value, provenance)
        if version is None:
            continue
        deleted += rows
        versions.append(version)
        with ctx.catalog.transaction() as conn:
            record_remediation(
                conn,
                product.address,
                major,
                uri,
                version,
                counted_rows(ctx, uri, version, total - rows),
                provenance,
            )
    if dry_run:  # the old files, and the newest version's files the delete would rewrite
        removed, scrubbed = [*ctx.store.vacuum(uri, dry_run=True), *rewritten], None
    else:
        removed, scrubbed = ctx.store.vacuum(uri), ctx.store.scrub_log(uri)
        purge_masked_copies(ctx, product.address, major, uri)
    table = ErasedTable(
        product.address, major, present, deleted, tuple(versions), len(removed), scrubbed, tuple(notes)
    )
    return table, forms


def _scrub_samples(
    ctx: Context, plan: ErasurePlan, forms: dict[str, set[str]], conn: Connection | None = None
) -> int:
    """Failing-row samples of the products' quality checks that show the subject: counted; with ``conn``,
    removed. Samples keep only columns that are not sensitive, so a key that is only declared
    (``tessera.subjectKey``) can be there."""
    columns = plan.by_product()
    if not columns:
        return 0
    count = 0
    if conn is None:
        with ctx.catalog.engine.connect() as reading:
            rows = check_samples(reading, columns)
    else:
        rows = check_samples(conn, columns)
    for run_id, name, samples, address in rows:
        values = forms.get(address, {plan.subject.value})
        keep = [
            s
            for s in samples or []
            if not (
                isinstance(s, dict)
                and any(str(s.get(c)) in values for c in columns[address] if s.get(c) is not None)
            )
        ]
        if len(keep) == len(samples or []):
            continue
        count += len(samples) - len(keep)
        if conn is not None:
            replace_samples(conn, run_id, name, keep)
    return count
