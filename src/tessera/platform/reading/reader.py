"""The one door (docs/governance.md, "Threat model"): every read of product data for a reader goes through
:class:`Reader`, and no other module opens product data for one (tests/architecture/test_one_door.py holds that line).

A reader is made for a :class:`Caller`: a principal, whose grants decide what it sees, or trusted local use
(``Caller.local()``: the embedded single user, every column and every row, never reachable from the network).
For each read it resolves the release once, reads it with masking and row filters applied on a locked-down
connection (``tessera.platform.reading.secure``), bounds the work (``ctx.limits``: memory, threads, timeout,
cancellation, result size) and appends a ``data.read`` / ``data.query`` audit entry naming the versions it
actually returned. Every path calls it: ``Mesh.read``/``query``, the product handle, the CLI and its fast path,
REST data reads and ``/query`` (and so the remote SDK), and quality-run samples."""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tessera.model.address import Address

if TYPE_CHECKING:
    import pyarrow as pa

    from tessera.model.profile import VersionProfile
    from tessera.platform.context import Context
    from tessera.platform.reading.releases import Release

__all__ = ["Caller", "Reader", "Served", "caller_for", "fast_query", "network_caller"]

_SQL_IN_AUDIT = 2000


@dataclass(frozen=True, slots=True)
class Caller:
    """Who reads. ``trusted`` is full access and is only ever given explicitly (``Caller.local()``)."""

    principal: str
    trusted: bool = False

    @classmethod
    def local(cls) -> Caller:
        return cls("local", trusted=True)


def caller_for(ctx: Context, as_principal: str | None = None) -> Caller:
    """The SDK's and CLI's caller: ``as_principal`` (reading as another principal takes admin on the mesh),
    else the token's principal, else trusted local use — refused when the mesh enforces access control. A
    server's Context always gives a network caller (never trusted)."""
    from tessera.platform.reading.secure import reader

    if ctx.network and as_principal is None:
        return network_caller(ctx)
    principal = reader(ctx, as_principal)
    return Caller.local() if principal is None else Caller(principal)


def network_caller(ctx: Context) -> Caller:
    """A caller over the network is never trusted: the token's principal, else ``local`` with ``local``'s grants
    (everything on a mesh that does not enforce access), always through the SQL guard."""
    ctx.identify()
    return Caller(ctx.principal)


@dataclass(frozen=True, slots=True)
class Served:
    table: pa.Table
    #: The release read (``sales.orders@v3``), or the releases a query read.
    source: str
    #: Why the release should not be relied on (deprecated major), else None.
    deprecation: str | None = None
    #: Each product read → the release returned (``sales.orders@v3``).
    versions: dict[str, str] = field(default_factory=dict)


class Reader:
    """Reads for one caller; ``cancel`` (set by a server when the client goes away) interrupts its queries."""

    def __init__(self, ctx: Context, caller: Caller, *, cancel: threading.Event | None = None) -> None:
        self.ctx, self.caller, self.cancel = ctx, caller, cancel

    def read(
        self,
        text: str,
        *,
        columns: list[str] | None = None,
        limit: int | None = None,
        warn: bool = False,
    ) -> Served:
        """A product version (``sales.orders``, ``@2.1.0``, ``@2``, ``@v17``, ``@1/v3``) as the caller may see
        it. ``warn`` also raises a DeprecatedVersionWarning for a deprecated major (the SDK does)."""
        from tessera.platform.reading import releases as reading
        from tessera.platform.reading import secure

        address = Address.parse(text).name
        if self.caller.trusted:
            self.ctx.authorize("read", text)
            release = reading.resolve(self.ctx, text)
            self._warn(release, warn)
            table = reading.read_release(
                self.ctx, release, columns=columns, limit=limit, limits=self.ctx.limits.uncapped()
            )
        else:
            access = secure.access_for(self.ctx, self.caller.principal, address)
            release = reading.resolve(self.ctx, text)
            self._warn(release, warn)
            table = secure.read_release_as(
                self.ctx, access, release, columns=columns, limit=limit, cancel=self.cancel
            )
        self._audit(
            "data.read",
            address,
            {"version": release.name, "rows": table.num_rows, "columns": columns or "*", "limit": limit},
        )
        return Served(table, release.name, release.deprecation, {address: release.name})

    def query(self, sql: str) -> Served:
        """SQL over products by address: for a principal, one checked SELECT over the masked, filtered views
        of the products it may read; for trusted local use, the engine's SQL over every product."""
        from tessera.platform.reading import releases as reading
        from tessera.platform.reading import secure

        if self.caller.trusted:
            table, releases = reading.query_releases(self.ctx, sql, limits=self.ctx.limits.uncapped())
        else:
            table, releases = secure.query_as(self.ctx, self.caller.principal, sql, cancel=self.cancel)
        versions = {r.address: r.name for r in releases}
        self._audit(
            "data.query",
            ", ".join(versions) or "-",
            {"sql": sql[:_SQL_IN_AUDIT], "versions": versions, "rows": table.num_rows},
        )
        return Served(table, ", ".join(versions.values()), None, versions)

    def quality(self, address: str, limit: int = 20) -> list[dict[str, Any]]:
        """Quality runs of ``address``; their failing sample rows are data, so the caller sees them as it would
        see the rows themselves: none without a read grant, only the rows its row filters let through."""
        from tessera.platform.reading.secure import filter_samples, sample_access

        runs = self.ctx.catalog.quality_runs(address, limit)
        if self.caller.trusted:
            return runs
        access = sample_access(self.ctx, self.caller.principal, address)
        columns = self.ctx.product(address).contract.columns
        out = []
        for run in runs:
            checks = []
            for check in run.get("checks", []):
                samples, note = filter_samples(check.get("samples") or [], columns, access)
                checks.append({**check, "samples": samples} | ({"samples_withheld": note} if note else {}))
            out.append({**run, "checks": checks})
        return out

    def profiles(self, address: str, major: int | None = None) -> VersionProfile | None:
        """Column profiles of the newest version; their values (min, max, top values) only for a caller who
        may read every row (``tessera.platform.reading.profiles``)."""
        from tessera.platform.reading.profiles import profiles_for
        from tessera.platform.reading.secure import sample_access

        self.ctx.product(address)  # NotFoundError for an unknown product
        access = None if self.caller.trusted else sample_access(self.ctx, self.caller.principal, address)
        return profiles_for(self.ctx, address, major, trusted=self.caller.trusted, access=access)

    def masked_columns(self, address: str) -> frozenset[str]:
        """The columns of ``address`` this caller reads masked: its sensitive columns, unless trusted or
        cleared."""
        from tessera.platform.reading.secure import sample_access

        sensitive = self.ctx.product(address).contract.sensitive_columns
        if self.caller.trusted:
            return frozenset()
        access = sample_access(self.ctx, self.caller.principal, address)
        return frozenset() if access is not None and access.clearance else sensitive

    def _warn(self, release: Release, warn: bool) -> None:
        from tessera.platform.reading.releases import DeprecatedVersionWarning

        if warn and release.deprecation:
            warnings.warn(release.deprecation, DeprecatedVersionWarning, stacklevel=4)

    def _audit(self, action: str, target: str, details: dict[str, Any]) -> None:
        """Every read by a principal or a network caller is audited; trusted local use is the owner of the
        files reading them, and is not (docs/governance.md)."""
        if self.caller.trusted:
            return
        from tessera.platform.governing.access import Access

        Access(self.ctx).record(action, target, {"principal": self.caller.principal, **details})


def fast_query(root: Path, sql: str) -> list[dict[str, Any]] | None:
    """``tessera query`` by the trusted local user on the newest versions, without opening the catalog; None
    when the full path must answer (``tessera.platform.reading.quick``)."""
    from tessera.platform.reading.quick import quick_query

    return quick_query(root, sql)
