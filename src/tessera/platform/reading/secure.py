"""Reads as a principal, for the reader (``tessera.platform.reading.reader``, the one door; nothing else calls this):
the products it may read, sensitive columns masked unless it has clearance, rows limited by its grants' row
filters, quality samples filtered the same way.

Each product the SQL names is checked against the principal's grants (``tessera.access.grants``), then the
query runs over masked views on a locked-down connection (``tessera.access.secure_query``). Without ``--as``
the embedded mode is trusted: the local user reads everything, as the files on disk would let them anyway."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tessera.access.model import ReadAccess
from tessera.errors import AccessDeniedError, NotFoundError, QueryError, SpecError
from tessera.model.suggest import did_you_mean
from tessera.platform.context import Context
from tessera.platform.reading.releases import Release, resolve, unreadable

if TYPE_CHECKING:
    import pyarrow as pa

    from tessera.access.secure_query import SecureSource
    from tessera.model.contract import Column

__all__ = [
    "access_for",
    "filter_samples",
    "query_as",
    "read_release_as",
    "reader",
    "release_columns",
    "sample_access",
]


def reader(ctx: Context, as_principal: str | None = None) -> str | None:
    """Whose grants a read applies: ``as_principal``; else the token's principal; None for trusted local use
    (every column, every row). Reading as someone other than the token's own principal takes an admin grant on
    the mesh; a mesh that enforces access control refuses a caller without a token."""
    if as_principal is None:
        ctx.identify()
        return ctx.principal if ctx.authenticated else None
    if ctx.authenticated and ctx.principal != as_principal:
        ctx.authorize("admin", "mesh")
    else:
        ctx.identify()
    return as_principal


def access_for(ctx: Context, principal: str, address: str) -> ReadAccess:
    """What ``principal`` may see of ``address``; AccessDeniedError (naming the grant that would allow it)
    when nothing."""
    from tessera.access.grants import read_access, require

    groups = ctx.groups_of(principal)
    access = read_access(ctx.catalog, ctx.spec, principal, address, groups=groups)
    if access is not None:
        return access
    require(
        ctx.catalog, ctx.spec, principal, "read", address, groups=groups
    )  # raises with the grant that would allow it
    raise AccessDeniedError(
        f"{principal} may not read {address}: the row filters of its grants name columns the product lacks"
    )


def _stored_columns(ctx: Context, release: Release) -> tuple[Column, ...] | None:
    """The columns of the contract a release was published under, from the catalog; None if unavailable."""
    from tessera.spec.contract import parse_contract

    row = next(
        (
            v
            for v in ctx.catalog.versions(release.address, release.major)
            if v["delta_version"] == release.delta_version
        ),
        None,
    )
    if row is None:
        return None
    doc = ctx.catalog.contract_document(release.address, row["contract_hash"])
    try:
        return parse_contract(doc, path=f"{release.address}@{release.contract_version}").columns
    except SpecError:
        return None


def release_columns(ctx: Context, release: Release) -> tuple[Column, ...]:
    """The columns to mask by: the release's own contract, with a column that the mesh's contract marks
    sensitive masked too (fail closed: a classification added later covers older versions)."""
    current = ctx.product(release.address).contract
    if release.contract_version == current.version:
        return current.columns
    stored = _stored_columns(ctx, release)
    if stored is None:
        return current.columns
    sensitive_now = {c.name: c for c in current.columns if c.sensitive}
    return tuple(c if c.sensitive else sensitive_now.get(c.name, c) for c in stored)


def _source(ctx: Context, release: Release, access: ReadAccess) -> SecureSource:
    from tessera.access.secure_query import SecureSource

    scan = ctx.store.scan(release.table_uri, release.delta_version)
    if ctx.store.missing_files(scan):  # vacuumed by retention or erasure: say so, not the engine's error
        raise unreadable(ctx, release)
    return SecureSource(scan, release_columns(ctx, release), access)


def query_as(
    ctx: Context, principal: str, sql: str, *, cancel: threading.Event | None = None
) -> tuple[pa.Table, list[Release]]:
    """``sql`` run as ``principal``: only SELECTs over products it may read, masked and filtered, under the
    mesh's limits. Returns the result and the releases it read."""
    from tessera.access.grants import readable_products
    from tessera.access.secure_query import check_sql, run_checked

    checked = check_sql(sql)
    known = {p.address.lower(): p.address for p in ctx.spec.products}
    sources: dict[str, SecureSource] = {}
    releases: list[Release] = []
    for name in checked.products:
        if name not in known:  # suggest only what the principal may read
            hint = did_you_mean(
                name, readable_products(ctx.catalog, ctx.spec, principal, groups=ctx.groups_of(principal))
            )
            raise QueryError(f"no product {name!r} in this mesh{hint}")
        access = access_for(ctx, principal, known[name])
        release = resolve(ctx, known[name])
        releases.append(release)
        sources[name] = _source(ctx, release, access)

    def readable() -> list[str]:
        return readable_products(ctx.catalog, ctx.spec, principal, groups=ctx.groups_of(principal))

    return run_checked(checked, sources, limits=ctx.limits, cancel=cancel, readable=readable), releases


def read_release_as(
    ctx: Context,
    access: ReadAccess,
    release: Release,
    *,
    columns: list[str] | None = None,
    limit: int | None = None,
    cancel: threading.Event | None = None,
) -> pa.Table:
    """A resolved release as ``access`` lets its principal see it, under the mesh's limits."""
    from tessera.access.secure_query import check_sql, run_checked, select_sql

    source = _source(ctx, release, access)
    if columns:
        known = [f.name for f in source.scan.table.schema().fields]
        unknown = [c for c in columns if c not in known]
        if unknown:
            raise NotFoundError(
                f"{release.name} has no column {', '.join(map(repr, unknown))}"
                f"{did_you_mean(unknown[0], known, what='column ')} (columns: {', '.join(known)})"
            )
    checked = check_sql(select_sql(release.address, columns, limit))
    return run_checked(checked, {release.address.lower(): source}, limits=ctx.limits, cancel=cancel)


def sample_access(ctx: Context, principal: str, address: str) -> ReadAccess | None:
    """What ``principal`` may see of the rows behind ``address``'s quality samples; None: nothing."""
    from tessera.access.grants import read_access

    return read_access(ctx.catalog, ctx.spec, principal, address, groups=ctx.groups_of(principal))


def filter_samples(
    samples: Sequence[Mapping[str, Any]], columns: Sequence[Column], access: ReadAccess | None
) -> tuple[list[dict[str, Any]], str | None]:
    """The failing sample rows a reader with ``access`` may see (sensitive columns are never stored in
    samples): all without row filters, those its filters let through, none without a grant. The second value
    says why rows were withheld."""
    if not samples:
        return [], None
    if access is None:
        return [], "failing rows are shown to readers of the product only"
    if not access.clearance:  # a column classified after the run: fail closed, as reads of older versions do
        hidden = {c.name for c in columns if c.sensitive}
        samples = [{k: v for k, v in s.items() if k not in hidden} for s in samples]
    if not access.row_filters:
        return [dict(s) for s in samples], None
    from tessera.access.secure_query import filter_rows
    from tessera.errors import QueryError

    try:
        return filter_rows(samples, columns, access), None
    except QueryError:
        return [], "failing rows withheld: the reader's row filter cannot be applied to them"
