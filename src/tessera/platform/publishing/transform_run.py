"""Run one product's transform for the build: its declared inputs registered, a SQL transform guarded and
sealed, a Python transform where mesh.yaml allows it.

Guarantee: a SQL transform runs only as the transform guard checked it (:mod:`tessera.access.transform_guard`)
and, on DuckDB, on a sandbox connection sealed to its inputs' data files (and, for an append or merge, the
product's own current version, which the gate reads), under ``limits:`` and ``transformTimeout``; the quality
gate then judges its result on that same connection. A refused transform reads nothing and writes nothing. A
``transform.py`` is code: it runs on the mesh's engine with only its declared inputs registered, unless
mesh.yaml forbids Python transforms in its domain."""

from __future__ import annotations

import glob
from typing import Any

from tessera.engine import Engine, SealableEngine, engine_class, is_sealable
from tessera.errors import DataError, QueryError, TesseraError
from tessera.model.product import Product
from tessera.platform.context import Context
from tessera.platform.reading.releases import Release, register_release, register_scan
from tessera.spec.names import source_location_problem

__all__ = ["column_edges", "register_inputs", "run_transform", "transform_engine"]


def _local(uri: str) -> str | None:
    """A local file's path as DuckDB opens it (None for an object store's URI)."""
    if uri.startswith("file://"):
        return uri.removeprefix("file://")
    return None if "://" in uri else uri


def register_inputs(ctx: Context, engine: Engine, inputs: dict[str, Release | str]) -> list[str]:
    """Each input as a relation named by its address; returns the local files those relations read."""
    files: list[str] = []
    for address, resolved in inputs.items():
        if isinstance(resolved, Release):
            files += register_release(ctx, engine, address, resolved).files or ()
            continue
        source = ctx.spec.source_table(address)
        assert source is not None
        if source.format == "delta":
            if problem := source_location_problem(source.uri, ctx.root, ctx.settings.storage):
                raise DataError(f"{address}: {problem}")
            scan = ctx.store.scan(source.uri)
            register_scan(engine, address, scan)
            files += scan.files or ()
            continue
        uris = [source.uri]
        if (path := _local(source.uri)) is not None and glob.has_magic(path):
            uris = sorted(glob.glob(path, recursive=True)) or uris  # the files a pattern names, listed once
        for uri in uris:  # each file a pattern matched, links resolved, is where validate said sources may be
            if problem := source_location_problem(uri, ctx.root, ctx.settings.storage):
                raise DataError(f"{address}: {problem}")
        engine.register_files(address, uris, source.format)
        files += uris
    return [path for f in files if (path := _local(f)) is not None]


def run_transform(
    ctx: Context, product: Product, inputs: dict[str, Release | str], engine: Engine
) -> tuple[object, dict[str, list[str]]]:
    """The transform's result and the columns of each input as the transform saw them (for column lineage).

    A SQL transform passes the transform guard again (a worker builds what it was given); on DuckDB the
    engine (a :func:`~tessera.access.transform_guard.sandbox`, see :func:`_engine`) is sealed once the inputs
    are registered: the transform, and then the gate, can open only the inputs' files (and, for an append or
    merge, the product's own current version, which the gate reads). On an engine that cannot be sealed (a
    cluster) the guard is the lockdown. A
    Python transform is code: it runs where mesh.yaml allows Python transforms, on the caller's engine, with
    its declared inputs registered on it and nothing else."""

    transform = product.transform
    assert transform is not None
    sql = _guarded(product, inputs) if transform.kind == "sql" else None
    files = register_inputs(ctx, engine, inputs)
    columns = {address: [name for name, _ in engine.columns(address)] for address in inputs}
    if sql is None:
        return _run_python(ctx, product, engine, columns), columns
    try:
        if is_sealable(engine):
            return _run_sealed(ctx, product, engine, sql, files), columns
        return engine.result(sql), columns  # on a cluster a DataFrame that stays there until written
    except TesseraError as exc:
        raise type(exc)(f"{product.address}: the transform failed: {exc}") from None


def _run_sealed(ctx: Context, product: Product, engine: SealableEngine, sql: str, files: list[str]) -> object:
    """The checked SQL on the sandbox, bounded (``limits:`` memory and threads, ``transformTimeout``) and
    sealed to ``files`` and the product's own current version."""
    import duckdb

    from tessera.access.limits import fetch_bounded
    from tessera.access.sealing import seal

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


def transform_engine(ctx: Context, product: Product) -> Engine:
    """The engine a build runs on: for a SQL transform on a ``sealable`` engine (DuckDB) a sandbox (a fresh
    connection without Python variable scans) that the transform seals; otherwise the mesh's engine."""
    from tessera.access.sealing import sandbox

    sql = product.transform is not None and product.transform.kind == "sql"
    return sandbox() if sql and engine_class(ctx.settings.engine).sealable else ctx.engine()


def _run_python(ctx: Context, product: Product, engine: Engine, columns: dict[str, list[str]]) -> object:
    """A ``transform.py`` over the inputs registered on the engine (DuckDB: the function gets relations)."""
    from tessera.platform.publishing.python_transform import check_declared_lineage, run_python_transform
    from tessera.spec.transforms import python_forbidden_message

    assert product.transform is not None
    if (forbidden := python_forbidden_message(ctx.settings, product)) is not None:
        raise DataError(f"{product.address}: {product.transform.path}:1: {forbidden}")
    if not (engine.runs_python_transforms and is_sealable(engine)):
        raise DataError(
            f"{product.address}: Python transforms run on the DuckDB engine, and this mesh uses "
            f"{engine.name}; write the transform as transform.sql"
        )
    check_declared_lineage(product, columns)
    return run_python_transform(product, ctx.root / product.transform.path, engine.con)


def column_edges(product: Product, columns: dict[str, list[str]]) -> tuple[Any, ...]:
    """Column lineage parsed from the SQL (from the code, not the author); a Python transform's
    is what its product declares in ``tessera.lineage`` (none: product-level lineage only)."""
    from tessera.lineage.columns import column_lineage

    assert product.transform is not None
    if product.transform.kind == "python":
        from tessera.platform.publishing.python_transform import declared_edges

        return declared_edges(product)
    return column_lineage(product.transform.code, columns).edges
