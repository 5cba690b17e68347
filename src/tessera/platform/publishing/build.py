"""Build products from their transforms, in dependency order, through the publish path.

A transform's SQL names its inputs as ``<domain>.<product>`` (read at the major its input port asks for) or
``source.<system>.<table>``. Products whose inputs are all built run in parallel in worker processes (started
with ``spawn``: delta-rs must not run in a forked child; each dies with the build's process, so a killed
build leaves nothing publishing). A product whose code, contract and input versions
are unchanged since its last build is skipped. A refused product stops the products downstream of it; the
independent rest of the DAG still builds."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from tessera import catalog as cat
from tessera.errors import DataError, TesseraError
from tessera.model.product import MeshSpec, Product
from tessera.platform.context import Context
from tessera.platform.observability import events
from tessera.platform.publishing.publish import PublishResult, publish
from tessera.platform.publishing.transform_run import column_edges, run_transform, transform_engine
from tessera.platform.reading.releases import Release, resolve

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
    from tessera.platform.publishing.selectors import select

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
        engine = transform_engine(ctx, product)
        try:
            try:
                data, columns = run_transform(ctx, product, inputs, engine)
            except TesseraError as exc:
                events.emit(ctx, "FAIL", product, run_id, error=str(exc))
                raise
            edges = column_edges(product, columns)
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
                from tessera.platform.publishing.workers import worker_pool

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
