"""Build products from their transforms, in dependency order, through the publish path.

A transform's SQL names its inputs as ``<domain>.<product>`` (read at the major its input port asks for) or
``source.<system>.<table>``. Products whose inputs are all built run in parallel in worker processes (started
with ``spawn``: delta-rs must not run in a forked child; each dies with the build's process, so a killed
build leaves nothing publishing). A product whose code, contract and input versions
are unchanged since its last build is skipped. A refused product stops the products downstream of it; the
independent rest of the DAG still builds."""

from __future__ import annotations

import glob
import hashlib
import json
import os
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from tessera import catalog as cat
from tessera.engine import Engine
from tessera.errors import DataError, QueryError, TesseraError
from tessera.model.product import MeshSpec, Product
from tessera.platform import events
from tessera.platform.context import Context
from tessera.platform.publish import PublishResult, publish
from tessera.platform.reading import Release, register_release, register_scan, resolve

if TYPE_CHECKING:
    from tessera.engine.duckdb_engine import DuckDBEngine

__all__ = ["BuildOutcome", "build", "build_levels", "build_order"]

Status = Literal["published", "refused", "skipped", "unchanged", "failed"]


@dataclass(frozen=True, slots=True)
class BuildOutcome:
    address: str
    status: Status
    message: str = ""
    result: PublishResult | None = None


def build_order(spec: MeshSpec, selected: Iterable[str] | None = None) -> list[Product]:
    """Products in dependency order (inputs first); with ``selected`` (addresses or selectors such as
    ``sales.orders+``, ``domain:sales``, ``tag:pii``), only those, still ordered."""
    from tessera.platform.selectors import select

    by_address = {p.address: p for p in spec.products}
    wanted = select(spec, selected) if selected is not None else set(by_address)
    order: list[Product] = []
    seen: set[str] = set()

    def visit(address: str) -> None:
        if address in seen:
            return
        seen.add(address)
        for port in by_address[address].input_ports:
            if port.address in by_address:
                visit(port.address)
        order.append(by_address[address])

    for address in sorted(by_address):
        visit(address)
    return [p for p in order if p.address in wanted]


def build_levels(order: Sequence[Product]) -> list[list[Product]]:
    """Waves of products whose selected inputs are all in earlier waves: each wave can build in parallel."""
    level: dict[str, int] = {}
    chosen = {p.address for p in order}
    for product in order:
        ups = [level[i.address] for i in product.input_ports if i.address in chosen]
        level[product.address] = 1 + max(ups, default=-1)
    waves: list[list[Product]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for product in order:
        waves[level[product.address]].append(product)
    return waves


def _source_version(ctx: Context, uri: str, fmt: str) -> str:
    if fmt == "delta":
        return f"delta:{ctx.store.latest_version(uri)}"
    path = Path(uri.removeprefix("file://"))
    try:
        stat = path.stat()
    except OSError:
        return "missing"
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def _inputs(ctx: Context, product: Product) -> tuple[dict[str, Release | str], list[str]]:
    """Each input resolved (a product's release at the major its port asks for, or a source's URI), plus
    notes (deprecated majors being read)."""
    resolved: dict[str, Release | str] = {}
    notes: list[str] = []
    for port in product.input_ports:
        if port.is_source:
            source = ctx.spec.source_table(port.address)
            if source is None:
                raise DataError(f"{product.address}: unknown source {port.address}")
            resolved[port.address] = source.uri
        else:
            major = port.version.split(".")[0] if port.version else None
            release = resolve(ctx, f"{port.address}@{major}" if major else port.address)
            if release.deprecation:
                notes.append(f"reads {release.deprecation}")
            resolved[port.address] = release
    return resolved, notes


def fingerprint(ctx: Context, product: Product, inputs: dict[str, Release | str]) -> str:
    """What a build depends on: the transform, the contract, the product file and each input's version."""
    versions = {}
    for address, resolved in inputs.items():
        if isinstance(resolved, Release):
            versions[address] = f"{resolved.table_uri}@{resolved.delta_version}"
        else:
            source = ctx.spec.source_table(address)
            versions[address] = _source_version(ctx, resolved, source.format if source else "")
    body = {
        "code": product.transform.code if product.transform else "",
        "contract": product.contract.hash,
        "product": json.dumps(product.document, sort_keys=True, default=str),
        "inputs": versions,
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _local(uri: str) -> str | None:
    """A local file's path as DuckDB opens it (None for an object store's URI)."""
    if uri.startswith("file://"):
        return uri.removeprefix("file://")
    return None if "://" in uri else uri


def _register_inputs(ctx: Context, engine: Engine, inputs: dict[str, Release | str]) -> list[str]:
    """Each input as a relation named by its address; returns the local files those relations read."""
    files: list[str] = []
    for address, resolved in inputs.items():
        if isinstance(resolved, Release):
            files += register_release(ctx, engine, address, resolved).files or ()
            continue
        source = ctx.spec.source_table(address)
        assert source is not None
        if source.format == "delta":
            scan = ctx.store.scan(source.uri)
            register_scan(engine, address, scan)
            files += scan.files or ()
            continue
        uris = [source.uri]
        if (path := _local(source.uri)) is not None and glob.has_magic(path):
            uris = sorted(glob.glob(path, recursive=True)) or uris  # the files a pattern names, listed once
        engine.register_files(address, uris, source.format)
        files += uris
    return [path for f in files if (path := _local(f)) is not None]


def _run_transform(
    ctx: Context, product: Product, inputs: dict[str, Release | str], engine: Engine
) -> tuple[object, dict[str, list[str]]]:
    """The transform's result and the columns of each input as the transform saw them (for column lineage).

    A SQL transform passes the transform guard again (a worker builds what it was given); on DuckDB the
    engine (a :func:`~tessera.access.transform_guard.sandbox`, see :func:`_engine`) is sealed once the inputs
    are registered: the transform, and then the gate, can open only the inputs' files (and, for an append or
    merge, the product's own current version, which the gate reads). On Spark the guard is the lockdown. A
    Python transform is code: it runs where mesh.yaml allows Python transforms, on the caller's engine, with
    its declared inputs registered on it and nothing else."""
    from tessera.engine.duckdb_engine import DuckDBEngine

    transform = product.transform
    assert transform is not None
    sql = _guarded(product, inputs) if transform.kind == "sql" else None
    files = _register_inputs(ctx, engine, inputs)
    columns = {address: [name for name, _ in engine.columns(address)] for address in inputs}
    if sql is None:
        return _run_python(ctx, product, engine, columns), columns
    try:
        if isinstance(engine, DuckDBEngine):
            return _run_sealed(ctx, product, engine, sql, files), columns
        return engine.result(sql), columns  # on Spark a DataFrame that stays on the cluster until written
    except TesseraError as exc:
        raise type(exc)(f"{product.address}: the transform failed: {exc}") from None


def _run_sealed(ctx: Context, product: Product, engine: DuckDBEngine, sql: str, files: list[str]) -> object:
    """The checked SQL on the sandbox, bounded (``limits:`` memory and threads, ``transformTimeout``) and
    sealed to ``files`` and the product's own current version."""
    import duckdb

    from tessera.access.limits import fetch_bounded
    from tessera.access.transform_guard import seal

    limits = ctx.limits.for_transform()
    limits.configure(engine.con)
    seal(engine, files + _own_files(ctx, product))
    try:
        return fetch_bounded(engine.con, sql, limits)
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise QueryError(f"{first}\n  in: {' '.join(sql.split())[:300]}") from None


def _guarded(product: Product, inputs: dict[str, Release | str]) -> str:
    """The SQL to run: the transform as the guard checked it; raises with every refusal at file:line."""
    from tessera.access.transform_guard import check_transform

    assert product.transform is not None
    checked, refusals = check_transform(product.transform.code, list(inputs), product.address)
    if checked is None:
        shown = "; ".join(f"{product.transform.path}:{r.line}: {r.message}" for r in refusals)
        raise DataError(f"{product.address}: the transform was refused: {shown}")
    return checked.sql


def _own_files(ctx: Context, product: Product) -> list[str]:
    """The local files of the product's current version when the gate reads it (append, merge)."""
    uri = ctx.table_uri(product)
    if product.write_mode == "overwrite" or ctx.store.latest_version(uri) is None:
        return []
    return [path for f in ctx.store.scan(uri).files or () if (path := _local(f)) is not None]


def _engine(ctx: Context, product: Product) -> Engine:
    """The engine a build runs on: for a SQL transform on DuckDB a sandbox (a fresh connection without Python
    variable scans) that the transform seals; otherwise the mesh's engine."""
    from tessera.access.transform_guard import sandbox

    sql = product.transform is not None and product.transform.kind == "sql"
    return sandbox() if sql and ctx.settings.engine == "duckdb" else ctx.engine()


def _run_python(ctx: Context, product: Product, engine: Engine, columns: dict[str, list[str]]) -> object:
    """A ``transform.py`` over the inputs registered on the engine (DuckDB: the function gets relations)."""
    from tessera.engine.duckdb_engine import DuckDBEngine
    from tessera.platform.python_transform import check_declared_lineage, run_python_transform
    from tessera.spec.transforms import python_forbidden_message

    assert product.transform is not None
    if (forbidden := python_forbidden_message(ctx.settings, product)) is not None:
        raise DataError(f"{product.address}: {product.transform.path}:1: {forbidden}")
    if not isinstance(engine, DuckDBEngine):
        raise DataError(
            f"{product.address}: Python transforms run on the DuckDB engine, and this mesh uses "
            f"{engine.name}; write the transform as transform.sql"
        )
    check_declared_lineage(product, columns)
    return run_python_transform(product, ctx.root / product.transform.path, engine.con)


def _column_edges(product: Product, columns: dict[str, list[str]]) -> tuple[Any, ...]:
    """Column lineage parsed from the SQL (DESIGN §4: from the code, not the author); a Python transform's
    is what its product declares in ``tessera.lineage`` (none: product-level lineage only)."""
    from tessera.lineage.columns import column_lineage

    assert product.transform is not None
    if product.transform.kind == "python":
        from tessera.platform.python_transform import declared_edges

        return declared_edges(product)
    return column_lineage(product.transform.code, columns).edges


def build_one(ctx: Context, product: Product, *, full_refresh: bool = False) -> BuildOutcome:
    """Build one product whose inputs are published: skip it when nothing it depends on changed."""
    if product.transform is None:
        return BuildOutcome(product.address, "skipped", "no transform: data is pushed (tessera publish)")
    try:
        inputs, notes = _inputs(ctx, product)
        digest = fingerprint(ctx, product, inputs)
        last = ctx.catalog.last_build(product.address)
        if not full_refresh and last is not None and last["fingerprint"] == digest:
            versions = ctx.catalog.versions(product.address, last["major"])
            if versions and versions[-1]["delta_version"] == last["delta_version"]:
                return BuildOutcome(product.address, "unchanged", f"@v{last['delta_version']} is up to date")
        run_id = uuid.uuid4().hex
        events.emit(ctx, "START", product, run_id)
        engine = _engine(ctx, product)
        try:
            try:
                data, columns = _run_transform(ctx, product, inputs, engine)
            except TesseraError as exc:
                events.emit(ctx, "FAIL", product, run_id, error=str(exc))
                raise
            edges = _column_edges(product, columns)
            result = publish(
                ctx, product.address, data, run_id=run_id, edges=edges, started=True, engine=engine
            )
        finally:
            engine.close()
        with ctx.catalog.transaction() as conn:
            cat.record_build(conn, product.address, digest, result.major, result.delta_version)
        return BuildOutcome(
            product.address, "published", "; ".join([f"@v{result.delta_version}", *notes]), result
        )
    except TesseraError as exc:
        status: Status = "refused" if exc.__class__.__name__.endswith("GateError") else "failed"
        return BuildOutcome(product.address, status, str(exc))


_WORKER_CONTEXTS: dict[tuple[str, str, str | None], Context] = {}


def _worker(root: str, actor: str, token: str | None, address: str, full_refresh: bool) -> BuildOutcome:
    """One product in a worker process (module level so ``spawn`` can import it), acting as the same caller
    (the SDK's token is passed on: it is not in the worker's environment). A worker keeps its loaded mesh and
    catalog for the rest of the build: the pool lives only as long as one ``build`` call."""
    key = (root, actor, token)
    ctx = _WORKER_CONTEXTS.get(key)
    if ctx is None:
        ctx = _WORKER_CONTEXTS[key] = Context(Path(root), actor=actor, token=token)
        ctx.load_for_build()
    return build_one(ctx, ctx.product(address), full_refresh=full_refresh)


def build(
    ctx: Context,
    selected: Iterable[str] | None = None,
    *,
    full_refresh: bool = False,
    jobs: int | None = None,
    on_progress: Callable[[BuildOutcome], None] | None = None,
) -> list[BuildOutcome]:
    from tessera.spec.transforms import transform_problems

    if jobs is not None and jobs < 1:
        raise DataError(f"--jobs must be 1 or more (got {jobs})")
    spec = ctx.load_for_build()
    order = build_order(spec, selected)
    # A product that cannot be built (its files do not load, its inputs close a cycle, its transform does not
    # parse or reads what it does not declare) fails alone, with file:line; the rest of the DAG still builds.
    failures = {a: reason for a, reason in spec.broken.items() if selected is None or a in set(selected)}
    for problem in transform_problems(order, settings=spec.settings):
        owner = next(p.address for p in order if p.path and problem.file.startswith(p.path + "/"))
        failures[owner] = f"{failures[owner]}\n{problem}" if owner in failures else f"{owner}: {problem}"
    workers = jobs if jobs is not None else min(4, os.cpu_count() or 1)
    ctx.catalog  # noqa: B018 - open (and migrate) the catalog here, before any worker does
    outcomes: dict[str, BuildOutcome] = {}
    blocked: set[str] = set(spec.broken) | set(failures)
    for address, reason in sorted(failures.items()):
        events.emit_failure(ctx, address, uuid.uuid4().hex, reason)
        outcomes[address] = BuildOutcome(address, "failed", reason)
        if on_progress is not None:
            on_progress(outcomes[address])
    pool: ProcessPoolExecutor | None = None
    try:
        for wave in build_levels(order):
            ready: list[Product] = []
            for product in wave:
                failed = [p.address for p in product.input_ports if p.address in blocked]
                if product.address in failures:
                    continue
                if failed:
                    outcomes[product.address] = BuildOutcome(
                        product.address, "skipped", f"upstream {', '.join(failed)} did not publish"
                    )
                    blocked.add(product.address)
                    if on_progress is not None:
                        on_progress(outcomes[product.address])
                else:
                    ready.append(product)
            runnable = [p for p in ready if p.transform is not None]
            # Worker processes pay a start-up (imports, loading the mesh) once per build: worth it only when
            # a wave has enough independent products to share (or the caller asked for a number of jobs).
            wide = len(runnable) >= (2 if jobs is not None else 3)
            if workers > 1 and wide and pool is None:
                from tessera.platform.workers import worker_pool

                pool = worker_pool(workers)  # each worker dies with this process
            results = _run_wave(
                ctx, ready, pool if pool is not None and len(runnable) > 1 else None, full_refresh
            )
            for product in ready:
                outcome = results[product.address]
                outcomes[product.address] = outcome
                if outcome.status in {"refused", "failed"}:
                    blocked.add(product.address)
                if on_progress is not None:
                    on_progress(outcome)
    finally:
        if pool is not None:
            pool.shutdown()
    return [outcomes[a] for a in sorted(spec.broken) if a in outcomes] + [outcomes[p.address] for p in order]


def _run_wave(
    ctx: Context, wave: list[Product], pool: ProcessPoolExecutor | None, full_refresh: bool
) -> dict[str, BuildOutcome]:
    if pool is None:
        return {p.address: build_one(ctx, p, full_refresh=full_refresh) for p in wave}
    token = ctx.token if ctx.authenticated else None
    futures: dict[str, Any] = {
        p.address: pool.submit(_worker, str(ctx.root), ctx.actor, token, p.address, full_refresh)
        for p in wave
    }
    out: dict[str, BuildOutcome] = {}
    for address, future in futures.items():
        try:
            out[address] = future.result()
        except Exception as exc:  # a worker that died: this product failed, the others go on
            out[address] = BuildOutcome(address, "failed", f"{address}: the build worker failed: {exc!r}")
    return out
