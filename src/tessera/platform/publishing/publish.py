"""The publish path (docs/architecture.md, "The publish path"): conform → quality gate → governance gate → version gate → commit → record.

A refused or crashed publish leaves nothing visible: the Delta commit is the last thing that can fail before
the catalog records it, and the catalog can always be rebuilt from the commits (``repair``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

import pyarrow as pa

from tessera import catalog as cat
from tessera.catalog.profiles import record_profiles
from tessera.engine import Engine, NativeCandidate, frame_writer, is_sealable
from tessera.errors import DataError, QualityGateError, TesseraError, VersionGateError
from tessera.model.product import Product
from tessera.model.results import QualityRun
from tessera.model.sqltext import ident
from tessera.platform.context import Context
from tessera.platform.governing import govern
from tessera.platform.governing.contracts import impact
from tessera.platform.notifying import notices
from tessera.platform.notifying.notifications import deliver_quietly
from tessera.platform.observability import events
from tessera.platform.provisioning.provision import ensure_registered
from tessera.platform.provisioning.repair import reconcile
from tessera.platform.publishing.data import to_arrow
from tessera.platform.reading.releases import register_scan
from tessera.storage import Provenance, conform_table

__all__ = ["PublishResult", "publish", "seal_gate"]

CANDIDATE = "__tessera__.candidate"
AFTER = "__tessera__.after_commit"


@dataclass(frozen=True, slots=True)
class PublishResult:
    address: str
    major: int
    delta_version: int
    contract_version: str
    table_uri: str
    rows: int
    run: QualityRun

    def as_dict(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "release": f"{self.address}@v{self.delta_version}",
            "major": self.major,
            "delta_version": self.delta_version,
            "contract_version": self.contract_version,
            "table_uri": self.table_uri,
            "rows": self.rows,
            "quality": self.run.summary(),
        }


def _version_gate(ctx: Context, product: Product) -> None:
    previous = ctx.catalog.last_contract(product.address)
    if previous is None or previous["hash"] == product.contract.hash:
        return
    from tessera.model.compat import diff_contracts, render_changes, required_bump
    from tessera.spec import parse_contract

    old = parse_contract(
        previous["document"], path=f"catalog:{product.address}@{previous['version']}", lines=None
    )
    changes = diff_contracts(old, product.contract)
    problem = required_bump(old.version, product.contract.version, changes)
    if problem:
        breaking = [c for c in changes if c.kind == "breaking"]
        raise VersionGateError(
            f"{product.address}: {problem}\n{render_changes(changes)}{impact(ctx, product.address, breaking)}",
            breaking,
        )
    majors = [m["major"] for m in ctx.catalog.majors(product.address)]
    if majors and product.contract.major < max(majors):
        raise VersionGateError(
            f"{product.address}: contract {product.contract.version} is older than the published major "
            f"{max(majors)}; publish to the newest major",
            [],
        )


def seal_gate(ctx: Context, engine: Engine, files: Sequence[str]) -> None:
    """The gate's own DuckDB connection runs the contract's SQL rules: it may open only the current version's
    files (an append or merge), under the transform limits, like a build's sealed connection."""
    from tessera.access.sealing import seal

    if is_sealable(engine):
        ctx.limits.for_transform().configure(engine.con)
        seal(engine, [f for f in files if "://" not in f])


def _candidate_after_commit(
    ctx: Context, product: Product, data: pa.Table | NativeCandidate, uri: str, shared: Engine | None = None
) -> tuple[Any, str]:
    """Register the table as it would be after the commit; the gate judges that, not only the new batch. A
    native candidate (a frame of an engine that writes Delta) is already registered, on its own engine."""
    if isinstance(data, pa.Table):
        engine = shared or ctx.engine()
        engine.register_arrow(CANDIDATE, data)
        names = data.schema.names
    else:
        engine, names = data.engine, data.names
    own = engine is not shared and isinstance(data, pa.Table)
    if product.write_mode == "overwrite" or ctx.store.latest_version(uri) is None:
        if own:
            seal_gate(ctx, engine, ())
        return engine, CANDIDATE
    cols = ", ".join(ident(c) for c in names)
    scan = ctx.store.scan(uri)
    register_scan(engine, "__tessera__.current", scan)
    if own:
        seal_gate(ctx, engine, scan.files or ())
    current = f"SELECT {cols} FROM __tessera__.current"
    if product.write_mode == "merge":
        keys = product.contract.primary_key
        match = " AND ".join(f'c."{k}" = n."{k}"' for k in keys)
        current = (
            f"SELECT {cols} FROM __tessera__.current c WHERE NOT EXISTS "
            f"(SELECT 1 FROM {CANDIDATE} n WHERE {match})"
        )
    engine.register_sql(
        AFTER, f"{current} UNION ALL SELECT {cols} FROM {CANDIDATE}"
    )  # same columns, same order
    return engine, AFTER


def publish(
    ctx: Context,
    address: str,
    data: Any,
    *,
    run_id: str | None = None,
    edges: Sequence[Any] = (),
    started: bool = False,
    engine: Engine | None = None,
) -> PublishResult:
    """Publish through every gate; a START event (unless the caller ``started`` the run), then COMPLETE or
    FAIL. ``edges`` are the column lineage the data was built with, recorded with the version."""
    ctx.authorize("publish", address)
    product = ctx.product(address)
    run_id = run_id or uuid.uuid4().hex
    job: Literal["build", "publish"] = "build" if started else "publish"
    if not started:
        events.emit(ctx, "START", product, run_id, job=job)
    try:
        result = _publish(ctx, product, data, run_id, edges, engine)
    except DataError as exc:
        named = type(exc)(
            str(exc) if str(exc).startswith(f"{product.address}:") else f"{product.address}: {exc}"
        )
        events.emit(ctx, "FAIL", product, run_id, error=str(named), job=job)
        raise named from None
    except TesseraError as exc:
        events.emit(ctx, "FAIL", product, run_id, quality=getattr(exc, "run", None), error=str(exc), job=job)
        raise
    events.emit(
        ctx,
        "COMPLETE",
        product,
        run_id,
        version=result.delta_version,
        quality=result.run,
        edges=edges,
        job=job,
    )
    return result


def _publish(
    ctx: Context, product: Product, data: Any, run_id: str, edges: Sequence[Any], shared: Engine | None
) -> PublishResult:
    contract = product.contract
    writer = None if isinstance(data, pa.Table) else frame_writer(data)
    if writer is not None:  # conformed, judged and written where the frame lives: never collected here
        table: pa.Table | NativeCandidate = writer.candidate(data, contract, shared, CANDIDATE)
    else:
        table = conform_table(to_arrow(data, contract), contract)
    try:
        return _publish_conformed(ctx, product, table, run_id, edges, shared)
    finally:
        if not isinstance(table, pa.Table):
            table.close()


def _publish_conformed(
    ctx: Context,
    product: Product,
    table: pa.Table | NativeCandidate,
    run_id: str,
    edges: Sequence[Any],
    shared: Engine | None,
) -> PublishResult:
    from tessera.quality import run_quality
    from tessera.quality.profiles import profile

    contract = product.contract
    uri = ctx.table_uri(product)
    reconcile(ctx, product)
    _version_gate(ctx, product)
    now = datetime.now(UTC)
    provenance = Provenance(
        product=product.name,
        domain=product.domain,
        product_version=product.version,
        contract_version=contract.version,
        contract_hash=contract.hash,
        run_id=run_id,
        quality={},
        published_at=now,
        write_mode=product.write_mode,
    )
    from tessera.platform.governing.consumer_gate import consumers_to_judge, judge

    consumers = consumers_to_judge(ctx, product)  # consumers' expectations judge the candidate too
    engine, relation = _candidate_after_commit(ctx, product, table, uri, shared)
    try:
        run = run_quality(contract, engine, relation, subject=product.address, run_id=run_id)
        if consumers:
            run = replace(run, checks=run.checks + judge(product, consumers, engine, relation))
        # the columns' profiles, on the same sealed connection: only a passing candidate is stored
        profiles = profile(engine, relation, contract.sensitive_columns) if run.passed else None
    finally:
        if engine is not shared and isinstance(table, pa.Table):
            engine.close()
    if not run.passed:
        with ctx.catalog.transaction() as conn:
            cat.record_quality_run(conn, product.address, run, published=False)
            cat.append_audit(conn, ctx.actor, "publish.refused", product.address, run.summary())
            queued = notices.refused(ctx, conn, product.address, run)
        if queued:
            deliver_quietly(ctx)
        raise QualityGateError(_refusal(product, run, consumers), run)
    govern.gate(ctx, product, run)
    ensure_registered(ctx, product)  # only now: a refused publish leaves the catalog as it was
    provenance = replace(provenance, quality=run.summary())
    if isinstance(table, pa.Table):
        version = ctx.store.commit(uri, table, provenance, product.write_mode, contract.primary_key)
    else:
        version = table.commit(
            ctx.store, uri, CANDIDATE, provenance, product.write_mode, contract.primary_key
        )
    record = cat.VersionRecord(
        address=product.address,
        major=contract.major,
        delta_version=version,
        table_uri=uri,
        contract_version=contract.version,
        contract_hash=contract.hash,
        product_version=product.version,
        run_id=run_id,
        row_count=run.row_count,
        operation=product.write_mode,
        published_at=now,
    )
    known = {m["major"] for m in ctx.catalog.majors(product.address)}
    result = PublishResult(
        product.address, contract.major, version, contract.version, uri, run.row_count, run
    )
    with ctx.catalog.transaction() as conn:
        deprecated = cat.record_major(conn, product.address, contract.major, uri, contract.deprecation_days)
        cat.record_version(conn, record)
        cat.record_quality_run(conn, product.address, run, published=True)
        cat.record_column_lineage(conn, product.address, contract.major, version, edges)
        if profiles:
            record_profiles(conn, product.address, contract.major, version, profiles, now)
        cat.append_audit(
            conn, ctx.actor, "publish", product.address, {"delta_version": version, **run.summary()}
        )
        new_major = bool(known) and contract.major not in known
        queued = notices.published(ctx, conn, result.as_dict(), deprecated, new_major)
    if queued:
        deliver_quietly(ctx)  # best effort: the outbox keeps what is not delivered now
    return result


def _refusal(product: Product, run: QualityRun, consumers: Sequence[Any] = ()) -> str:
    from tessera.platform.governing.consumer_gate import broken

    lines = [f"{product.address}: publish refused by the quality gate ({len(run.blocking)} failed):"]
    if hurt := broken(tuple(consumers), run.checks):
        lines[0] = lines[0].removesuffix(":") + "; it would break consumer " + ", ".join(hurt) + ":"
    for check in run.blocking:
        where = f" on {check.column}" if check.column else ""
        detail = (
            check.message
            or f"{check.metric}{where}: measured {check.measured} {check.unit}, expected {check.threshold}"
        )
        lines.append(f"  ✗ {check.name}: {detail}")
        for sample in check.samples[:3]:
            lines.append(f"      e.g. {dict(sample)}")
    for check in run.warnings:
        lines.append(f"  ! {check.name}: {check.message or check.metric} (warning)")
    lines.append("Nothing was published; readers keep the previous version.")
    return "\n".join(lines)
