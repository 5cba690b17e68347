"""The table rewrites retention (``tessera.platform.remediation.remediate``) and erasure (``tessera.platform.remediation.erasure``)
share: which majors a product has, how many rows a condition matches, which files hold them, the provenance
and catalog record of the rewrite, and the purge of Delta Sharing's masked copies after the vacuum. Both import
this module and neither imports the other (docs/architecture.md, "Layers")."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection

from tessera import catalog as cat
from tessera.catalog.profiles import forget_profiles
from tessera.model.product import Product
from tessera.platform.context import Context
from tessera.platform.reading.releases import register_scan
from tessera.storage import Provenance

__all__ = [
    "Operation",
    "arrow_schema",
    "count_matching",
    "counted_rows",
    "files_holding",
    "major_tables",
    "purge_masked_copies",
    "record_remediation",
    "remediation_provenance",
]

Operation = Literal["retention", "erasure"]


def major_tables(ctx: Context, product: Product) -> dict[int, str]:
    """Every major table of the product that exists: the catalog's, those on disk, the current one."""
    uris = {m["major"]: m["table_uri"] for m in ctx.catalog.majors(product.address)}
    base = ctx.table_uri(product, 1).rsplit("/", 1)[0]
    for major, uri in ctx.store.majors_on_disk(base).items():
        uris.setdefault(major, uri)
    uris.setdefault(product.contract.major, ctx.table_uri(product))
    return {m: u for m, u in sorted(uris.items()) if ctx.store.latest_version(u) is not None}


def count_matching(ctx: Context, uri: str, where: str, params: list[Any]) -> tuple[int, int]:
    """(rows, rows matching ``where``) in the table's newest version."""
    engine = ctx.engine()
    try:
        register_scan(engine, "__tessera__.remediate", ctx.store.scan(uri))
        rows = engine.fetch_rows(
            f"SELECT count(*), count(*) FILTER (WHERE {where}) FROM __tessera__.remediate", params
        )
    finally:
        engine.close()
    return int(rows[0][0]), int(rows[0][1] or 0)


def files_holding(ctx: Context, uri: str, expression: Any) -> set[str]:
    """The newest version's files holding a row ``expression`` matches: a delete would rewrite them."""
    fragments = ctx.store.scan(uri).dataset().get_fragments()
    return {f.path for f in fragments if f.count_rows(filter=expression)}


def arrow_schema(ctx: Context, uri: str) -> Any:
    import pyarrow as pa

    return pa.schema(ctx.store.open(uri).schema().to_arrow())


def remediation_provenance(
    ctx: Context, product: Product, major: int, operation: Operation, rows: int, now: datetime
) -> Provenance:
    """The commit's provenance: the major's newest published contract, this operation, the rows it leaves."""
    versions = ctx.catalog.versions(product.address, major)
    last = versions[-1] if versions else None
    return Provenance(
        product=product.name,
        domain=product.domain,
        product_version=last["product_version"] if last else product.version,
        contract_version=last["contract_version"] if last else product.contract.version,
        contract_hash=last["contract_hash"] if last else product.contract.hash,
        run_id=uuid.uuid4().hex,
        quality={"rows": rows, "operation": operation},
        published_at=now,
        write_mode=operation,
    )


def record_remediation(
    conn: Connection,
    address: str,
    major: int,
    uri: str,
    version: int,
    rows: int | None,
    provenance: Provenance,
) -> None:
    cat.record_version(
        conn,
        cat.VersionRecord(
            address=address,
            major=major,
            delta_version=version,
            table_uri=uri,
            contract_version=provenance.contract_version,
            contract_hash=provenance.contract_hash,
            product_version=provenance.product_version,
            run_id=provenance.run_id,
            row_count=rows,
            operation=provenance.write_mode,
            published_at=provenance.published_at,
        ),
    )
    forget_profiles(conn, address, major)  # they may show values of the rows just removed


def purge_masked_copies(ctx: Context, address: str, major: int, uri: str) -> int:
    """After a vacuum: the masked copies made for recipients of files no longer there, deleted."""
    from tessera.platform.sharing.sharing_files import purge_masked_copies as purge

    return purge(ctx, address, major, uri)


def counted_rows(ctx: Context, uri: str, version: int, fallback: int) -> int:
    counted = ctx.store.row_count(uri, version)
    return fallback if counted is None else counted
