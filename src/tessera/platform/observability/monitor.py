"""SLA monitoring: per product, the freshness of its newest data against the contract's limit,
the latest quality outcome and availability; breaches open incidents in the catalog (resolved when they end),
each queued as a notification (``sla.opened``/``sla.resolved``) in the same transaction, for subscribers,
chat channels and the ``monitoring.webhooks`` of ``mesh.yaml`` (``platform/notifying/notifications.py``). The check also
raises the retirement reminders of deprecated majors (``platform/notifying/notices.py``). A channel that cannot be
reached is retried from the outbox; it never stops the check."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from tessera import catalog as cat
from tessera.errors import TesseraError
from tessera.model.product import Product
from tessera.platform.context import Context
from tessera.platform.notifying import notices
from tessera.platform.notifying.notifications import deliver_quietly, notify
from tessera.platform.observability.slo import announce_burns
from tessera.platform.reading.releases import register_scan

__all__ = ["check", "incidents"]


def _newest_data(ctx: Context, product: Product, row: dict[str, Any]) -> tuple[datetime | None, bool]:
    """When the newest data is from (the freshness column's maximum, else the publish time) and whether the
    version can be read."""
    published = cat.utc(row["published_at"])
    try:
        scan = ctx.store.scan(row["table_uri"], row["delta_version"])
    except TesseraError:
        return published, False
    sla = product.contract.sla_property("freshness", "latency")
    column = (sla.element or "").split(".")[-1] if sla and sla.element else None
    if not column or product.contract.column(column) is None:
        return published, True
    engine = ctx.engine()
    try:
        register_scan(engine, "__tessera__.status", scan)
        value = engine.fetch_rows(f'SELECT max("{column}") FROM __tessera__.status')[0][0]
    except TesseraError:
        return published, False
    finally:
        engine.close()
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)), True
    return published, True


def check(ctx: Context, addresses: Iterable[str] | None = None, *, now: datetime | None = None) -> list[Any]:
    """Judge products (all by default), record incident changes and queue their notifications, raise the
    retirement reminders, then deliver what is due (best effort); returns the statuses."""
    from tessera.monitoring.status import diff_incidents, product_status

    moment = now or datetime.now(UTC)
    wanted = set(addresses) if addresses is not None else None
    unknown = sorted((wanted or set()) - {p.address for p in ctx.spec.products})
    if unknown:
        from tessera.errors import NotFoundError
        from tessera.model.suggest import did_you_mean

        hint = did_you_mean(unknown[0], (p.address for p in ctx.spec.products))
        raise NotFoundError(f"no product {', '.join(map(repr, unknown))} in this mesh{hint}")
    statuses = []
    for product in ctx.spec.products:
        if wanted is not None and product.address not in wanted:
            continue
        versions = ctx.catalog.versions(product.address)
        runs = ctx.catalog.quality_runs(product.address, limit=1)
        newest, available = (None, False)
        if versions:
            newest, available = _newest_data(ctx, product, versions[-1])
        statuses.append(
            product_status(
                product,
                newest_data_at=newest,
                latest_quality=runs[0]["outcome"] if runs else None,
                available=available or not versions,
                now=moment,
            )
        )
    announce_burns(
        ctx, [s.address for s in statuses], moment
    )  # SLO burn-rate alerts (platform/observability/slo.py)
    open_rows = {(r["address"], r["kind"]): r for r in ctx.catalog.incidents(open_only=True)}
    changes = diff_incidents(open_rows, statuses)
    queued = notices.retirements(ctx, moment, wanted)
    if not changes.empty:
        queued += _record(ctx, changes, moment)
    if queued:
        deliver_quietly(ctx)
    return statuses


def _record(ctx: Context, changes: Any, moment: datetime) -> int:
    """Open and resolve incidents, each with its audit entry and its notification, in one transaction."""
    queued = 0
    with ctx.catalog.transaction() as conn:
        for opened in changes.open:
            cat.open_incident(conn, opened.product, opened.kind, opened.detail, moment)
            cat.append_audit(
                conn,
                ctx.actor,
                "incident.open",
                opened.product,
                {"kind": opened.kind, "detail": opened.detail},
            )
            facts = {"kind": opened.kind, "detail": opened.detail}
            key = f"sla.opened:{opened.product}:{opened.kind}:{moment.isoformat()}"
            queued += notify(ctx, conn, "sla.opened", opened.product, facts, dedup=key, at=moment)
        for resolved in changes.resolve:
            cat.resolve_incident(conn, resolved.incident["id"], moment)
            cat.append_audit(conn, ctx.actor, "incident.resolve", resolved.product, {"kind": resolved.kind})
            key = f"sla.resolved:{resolved.incident['id']}"
            queued += notify(
                ctx, conn, "sla.resolved", resolved.product, {"kind": resolved.kind}, dedup=key, at=moment
            )
    return queued


def incidents(ctx: Context, *, open_only: bool = False, address: str | None = None) -> list[dict[str, Any]]:
    """SLA incidents, newest first (only open ones with ``open_only``; one product's with ``address``)."""
    ctx.identify()
    return ctx.catalog.incidents(open_only=open_only, address=address)
