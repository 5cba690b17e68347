"""The events the mesh raises, and to whom beyond the subscribers (``platform/notifying/notifications.py`` queues them):

- a publish: ``version.published``; a new major also ``major.published``, and ``deprecation.announced`` of each
  major it deprecates, to every consumer of that major — a live read grant on the product, the consumer role in
  its product file, or an input port on that major (the reading product's owners);
- a refused publish: ``quality.refused``;
- the periodic check (``platform/observability/monitor.py``): ``sla.opened``/``sla.resolved``, ``retirement.upcoming`` seven
  days before a deprecated major retires and ``retired`` once it has, each raised once (its dedup key);
- access: ``access.requested`` to the product's owners, ``access.decided`` to the requester.

Each runs in the catalog transaction that records its event."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from tessera.catalog import utc
from tessera.catalog.grants import live_readers
from tessera.platform.context import Context
from tessera.platform.notifying.notifications import Event, notify

if TYPE_CHECKING:
    from tessera.access.model import AccessRequest
    from tessera.model.results import QualityRun

__all__ = [
    "access_decided",
    "access_requested",
    "consumers_of",
    "owners",
    "published",
    "refused",
    "retirements",
]

#: How long before a deprecated major retires its consumers are reminded.
REMINDER = timedelta(days=7)


def owners(ctx: Context, address: str) -> list[str]:
    """Whom a product's own matters go to: its product owners, else technical leads, else the domain owner."""
    product = ctx.spec.product(address)
    if product is None:
        return []
    found = product.people("product owner") or product.people("technical lead")
    if found:
        return list(found)
    domain = ctx.spec.domain(product.domain)
    return [domain.owner] if domain is not None and domain.owner else []


def _major_of(version: str | None) -> int | None:
    head = (version or "").lstrip("vV").split(".", 1)[0]
    return int(head) if head.isdigit() else None


def consumers_of(ctx: Context, conn: Connection, address: str, major: int) -> list[str]:
    """Who consumes ``address``'s major ``major``: live read grants on the product, the consumer role in its
    product file, and the owners of every product with an input port on that major (or on no major)."""
    found = live_readers(conn, address)
    product = ctx.spec.product(address)
    if product is not None:
        found |= set(product.people("consumer"))
    for reader in ctx.spec.products:
        for port in reader.input_ports:
            wanted = _major_of(port.version)
            if port.address == address and wanted in (None, major):
                found |= set(owners(ctx, reader.address))
    return sorted(found)


def published(
    ctx: Context,
    conn: Connection,
    result: Mapping[str, Any],
    deprecated: Sequence[Mapping[str, Any]],
    new_major: bool,
) -> int:
    """A version was published (``result``: ``PublishResult.as_dict()``); ``deprecated``: the majors it retired."""
    address, major, version = result["address"], result["major"], result["delta_version"]
    facts = {k: result[k] for k in ("major", "delta_version", "contract_version", "rows")}
    queued = notify(
        ctx, conn, "version.published", address, facts, dedup=f"version:{address}:{major}:{version}"
    )
    if new_major:
        queued += notify(ctx, conn, "major.published", address, facts, dedup=f"major:{address}:{major}")
    for old in deprecated:
        queued += notify(
            ctx,
            conn,
            "deprecation.announced",
            address,
            {
                "major": major,
                "old_major": old["major"],
                "retire_after": old["retire_after"].isoformat(),
                "contract_version": result["contract_version"],
            },
            recipients=consumers_of(ctx, conn, address, old["major"]),
            dedup=f"deprecation:{address}:{old['major']}",
        )
    return queued


def refused(ctx: Context, conn: Connection, address: str, run: QualityRun) -> int:
    failed = [c.name for c in run.blocking]
    return notify(ctx, conn, "quality.refused", address, {"run_id": run.run_id, "failed": failed,
                  "rows": run.row_count}, dedup=f"refused:{run.run_id}")  # fmt: skip


def retirements(ctx: Context, now: datetime, addresses: Collection[str] | None = None) -> int:
    """``retirement.upcoming`` within seven days of a deprecated major's retirement, ``retired`` after it; each
    once per major (dedup keys). Returns the rows queued."""
    queued = 0
    due = [
        r
        for r in ctx.catalog.deprecated_majors()
        if (utc(r["retire_after"]) or now) - REMINDER <= now
        and (addresses is None or r["address"] in addresses)
    ]
    if not due:
        return 0
    with ctx.catalog.transaction() as conn:
        for row in due:
            retire_after = utc(row["retire_after"]) or now
            facts = {
                "major": row["major"],
                "successor": row["successor"],
                "retire_after": retire_after.isoformat(),
            }
            event: Event = "retired" if retire_after <= now else "retirement.upcoming"
            queued += notify(
                ctx, conn, event, row["address"], facts,
                recipients=consumers_of(ctx, conn, row["address"], row["major"]),
                dedup=f"{event}:{row['address']}:{row['major']}:{retire_after:%Y-%m-%d}",
            )  # fmt: skip
    return queued


def access_requested(ctx: Context, conn: Connection, request: AccessRequest) -> int:
    facts = {"request": request.id, "principal": request.principal, "purpose": request.purpose}
    return notify(ctx, conn, "access.requested", request.address, facts,
                  recipients=owners(ctx, request.address), dedup=f"access.requested:{request.id}")  # fmt: skip


def access_decided(ctx: Context, conn: Connection, request: AccessRequest) -> int:
    facts = {"request": request.id, "principal": request.principal, "status": request.status,
             "decided_by": request.decided_by, "reason": request.reason}  # fmt: skip
    return notify(ctx, conn, "access.decided", request.address, facts,
                  recipients=[request.principal], dedup=f"access.decided:{request.id}")  # fmt: skip
