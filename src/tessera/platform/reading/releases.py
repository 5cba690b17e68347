"""Reads by address: resolve a release to a Delta version, read it, query products with SQL.

Queries read a version's Parquet files directly when its Delta protocol allows it (reader version 1, no
reader features) and go through the Arrow dataset otherwise (docs/architecture.md, "Reading a version")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tessera.access.masking import quote
from tessera.catalog import utc
from tessera.engine import Engine, is_sealable
from tessera.errors import NotFoundError, QueryError, RetiredError, TesseraError
from tessera.model.address import Address
from tessera.model.suggest import did_you_mean
from tessera.platform.context import Context

if TYPE_CHECKING:
    import pyarrow as pa

    from tessera.access.limits import QueryLimits
    from tessera.storage import ScanSource

__all__ = [
    "DeprecatedVersionWarning",
    "Release",
    "query_releases",
    "read_release",
    "register_release",
    "release_name",
    "resolve",
    "unreadable",
]


def release_name(address: str, major: int, delta_version: int, *, newest_major: bool) -> str:
    """``sales.orders@v3`` on the newest major's table, ``sales.orders@1/v3`` on an older one."""
    return f"{address}@v{delta_version}" if newest_major else f"{address}@{major}/v{delta_version}"


class DeprecatedVersionWarning(UserWarning):
    """Reading a major that a newer major replaced; it stays readable until its retirement date."""


@dataclass(frozen=True, slots=True)
class Release:
    address: str
    major: int
    delta_version: int
    table_uri: str
    contract_version: str
    published_at: datetime
    deprecation: str | None = None

    newest_major: bool = True

    @property
    def name(self) -> str:
        return release_name(self.address, self.major, self.delta_version, newest_major=self.newest_major)


def _check_major(ctx: Context, address: str, major: int) -> str | None:
    row = next((m for m in ctx.catalog.majors(address) if m["major"] == major), None)
    if row is None:
        raise NotFoundError(f"{address} has no published major {major}")
    successor = f"{address}@{row['successor']}" if row["successor"] else "the newest major"
    retire_after = utc(row["retire_after"])
    if row["status"] == "retired" or (retire_after is not None and retire_after <= datetime.now(UTC)):
        raise RetiredError(
            f"{address}@{major} was retired on {retire_after:%Y-%m-%d}; read its successor {successor}"
            if retire_after
            else f"{address}@{major} is retired; read its successor {successor}"
        )
    if row["status"] == "deprecated":
        when = f"{retire_after:%Y-%m-%d}" if retire_after else "soon"
        return f"{address}@{major} is deprecated and will be retired on {when}; move to {successor}"
    return None


def resolve(ctx: Context, text: str) -> Release:
    """``sales.orders`` (newest), ``@2.1.0`` (contract semver), ``@2`` (a major), ``@v17`` (a Delta version)."""
    address = Address.parse(text)
    name = address.name
    if ctx.catalog.product_row(name) is None:
        ctx.product(name)  # raises with the known products when it is not in the mesh either
    versions = ctx.catalog.versions(name)
    if not versions:
        raise NotFoundError(
            f"{name} has no published version yet; build it (tessera build {name}) or publish data"
        )
    kind = address.kind
    if kind == "latest":
        newest_major = max(v["major"] for v in versions)
        candidates = [v for v in versions if v["major"] == newest_major]
    elif kind == "major":
        candidates = [v for v in versions if v["major"] == address.major]
    elif kind == "major_delta":
        candidates = [
            v for v in versions if v["major"] == address.major and v["delta_version"] == address.delta_version
        ]
    elif kind == "semver":
        candidates = [v for v in versions if v["contract_version"] == address.selector]
    else:
        wanted = address.delta_version
        newest_major = max(v["major"] for v in versions)
        candidates = [v for v in versions if v["delta_version"] == wanted and v["major"] == newest_major]
    if not candidates:
        known = ", ".join(
            sorted(
                {f"@{v['contract_version']}" for v in versions}
                | {f"@v{v['delta_version']}" for v in versions}
            )
        )
        raise NotFoundError(f"{text}: no such version (published: {known})")
    chosen = max(candidates, key=lambda v: (v["delta_version"], v["id"]))
    note = _check_major(ctx, name, chosen["major"])
    return Release(
        address=name,
        major=chosen["major"],
        delta_version=chosen["delta_version"],
        table_uri=chosen["table_uri"],
        contract_version=chosen["contract_version"],
        published_at=chosen["published_at"],
        deprecation=note,
        newest_major=chosen["major"] == max(v["major"] for v in versions),
    )


def register_scan(engine: Engine, name: str, scan: ScanSource) -> None:
    """A Delta version as a relation: read by the engine itself when it reads Delta (a cluster), else its Parquet
    files when the protocol allows, else the Arrow dataset."""
    if engine.native_delta:
        engine.register_delta(name, scan.table.table_uri, scan.version)
    elif scan.files is not None:
        engine.register_files(name, scan.files, "parquet")
    else:
        engine.register_arrow(name, scan.dataset())


def register_release(ctx: Context, engine: Engine, name: str, release: Release) -> ScanSource:
    """A release as a relation (returns the scan it reads); a version whose files a vacuum removed is refused
    with why, not a traceback."""
    scan = ctx.store.scan(release.table_uri, release.delta_version)
    if scan.files is None and ctx.store.missing_files(scan):  # an Arrow dataset fails only when read
        raise unreadable(ctx, release)
    try:
        register_scan(engine, name, scan)
    except (TesseraError, OSError):
        if ctx.store.missing_files(scan):
            raise unreadable(ctx, release) from None
        raise
    return scan


def unreadable(ctx: Context, release: Release) -> NotFoundError:
    """Retention and erasure vacuum every file the newest version does not use: name the first one after."""
    later = [
        v
        for v in ctx.catalog.versions(release.address, release.major)
        if v["delta_version"] > release.delta_version and v["operation"] in ("retention", "erasure")
    ]
    first = min(later, key=lambda v: v["delta_version"]) if later else None
    when = utc(first["published_at"]) if first else None
    cause = f"{first['operation']} on {when:%Y-%m-%d}" if first and when else "a vacuum"
    return NotFoundError(
        f"version v{release.delta_version} of {release.address} is no longer readable: its files were removed "
        f"by {cause}; read a newer version ({release.address} for the newest)"
    )


def _fetch(engine: Engine, sql: str, limits: QueryLimits) -> pa.Table:
    """On DuckDB, under ``limits`` (memory, threads, timeout); another engine bounds its own work."""
    import duckdb

    from tessera.access.limits import fetch_bounded
    from tessera.engine.sql_errors import shown_sql

    if is_sealable(engine):
        limits.configure(engine.con)
        try:
            return fetch_bounded(engine.con, sql, limits)
        except duckdb.Error as exc:  # the engine's refusal as a Tessera error, never a raw DuckDB one
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise QueryError(f"{first}\n  in: {shown_sql(sql)}", str(exc)) from None
    return engine.fetch_arrow(sql)


def read_release(
    ctx: Context,
    release: Release,
    *,
    columns: list[str] | None = None,
    limit: int | None = None,
    limits: QueryLimits,
) -> pa.Table:
    """A resolved release, every column and row (trusted use; the reader is the only caller)."""
    engine = ctx.engine()
    try:
        register_release(ctx, engine, "__tessera__.product", release)
        if columns:
            known = [name for name, _ in engine.columns("__tessera__.product")]
            unknown = [c for c in columns if c not in known]
            if unknown:
                raise NotFoundError(
                    f"{release.name} has no column {', '.join(map(repr, unknown))}"
                    f"{did_you_mean(unknown[0], known, what='column ')} (columns: {', '.join(known)})"
                )
        cols = ", ".join(quote(c) for c in columns) if columns else "*"
        sql = f"SELECT {cols} FROM __tessera__.product" + (
            f" LIMIT {int(limit)}" if limit is not None else ""
        )
        return _fetch(engine, sql, limits)
    finally:
        engine.close()


def referenced_products(ctx: Context, sql: str) -> list[str]:
    from tessera.engine.names import table_names

    known = {p.address for p in ctx.spec.products}
    return sorted(name for name in table_names(sql) if name in known)


def query_releases(ctx: Context, sql: str, *, limits: QueryLimits) -> tuple[pa.Table, list[Release]]:
    """Trusted SQL where products are tables named by address (``select * from sales.orders``), on the mesh's
    engine; returns Arrow and the releases read (the reader is the only caller)."""
    engine = ctx.engine()
    try:
        releases = [resolve(ctx, address) for address in referenced_products(ctx, sql)]
        for release in releases:
            register_release(ctx, engine, release.address, release)
        try:
            return _fetch(engine, sql, limits), releases
        except QueryError as exc:  # say which name is unknown and the closest known one
            from tessera.engine.sql_errors import explained

            columns = {r.address: [n for n, _ in engine.columns(r.address)] for r in releases}
            known = [p.address for p in ctx.spec.products]
            raise explained(exc, sql, products=known, columns=columns) from None
    finally:
        engine.close()
