"""``Mesh``: the one facade the CLI, the SDK and (later) the server call. Thin: each method hands over to the
use case module that owns it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tessera.errors import NotFoundError
from tessera.platform.context import Context

if TYPE_CHECKING:  # the use cases load with the method that needs them: `tessera lineage` reads no Arrow
    import pyarrow as pa

    from tessera.governance.erasure import Subject
    from tessera.model.expectations import Expectations
    from tessera.model.product import MeshSpec
    from tessera.model.profile import VersionProfile
    from tessera.model.results import QualityRun
    from tessera.platform.governing.access import Access
    from tessera.platform.governing.consumers import ConsumerList
    from tessera.platform.governing.govern import GovernReport
    from tessera.platform.notifying.following import Notifications
    from tessera.platform.observability.lineage import LineageGraph
    from tessera.platform.observability.slo import SloSummary
    from tessera.platform.observability.usage import UsageReport
    from tessera.platform.product_handle import ProductHandle
    from tessera.platform.provisioning import provision
    from tessera.platform.provisioning.repair import Repaired
    from tessera.platform.publishing import build as building
    from tessera.platform.publishing.orchestration import Orchestration
    from tessera.platform.publishing.publish import PublishResult
    from tessera.platform.remediation.erasure import ErasureReport
    from tessera.platform.remediation.remediate import RetentionFix
    from tessera.platform.sharing.shares import Sharing

__all__ = ["Mesh"]


class Mesh:
    """A mesh folder and everything it has published. ``tessera.open(path)`` returns one.

    ``token`` (else ``$TESSERA_TOKEN``) acts as the token's principal, with its grants; without one, use is
    trusted and local unless mesh.yaml sets ``access: {enforce: true}``."""

    def __init__(self, root: str | Path, *, actor: str = "local", token: str | None = None) -> None:
        self.ctx = Context(Path(root).resolve(), actor=actor, token=token)

    def __repr__(self) -> str:
        return f"Mesh({str(self.ctx.root)!r})"

    @property
    def spec(self) -> MeshSpec:
        return self.ctx.spec

    @property
    def access(self) -> Access:
        """Principals, groups, grants, tokens, access requests and the audit log."""
        from tessera.platform.governing.access import Access

        return Access(self.ctx)

    @property
    def sharing(self) -> Sharing:
        """Delta Sharing: shares of products, recipients, share grants and profile files."""
        from tessera.platform.sharing.shares import Sharing

        return Sharing(self.ctx)

    @property
    def notifications(self) -> Notifications:
        """Following products (subscriptions), principals' email, the notification outbox and its delivery."""
        from tessera.platform.notifying.following import Notifications

        return Notifications(self.ctx)

    @property
    def orchestration(self) -> Orchestration:
        """The mesh for an orchestrator: products as assets, their gates' checks, one product built."""
        from tessera.platform.publishing.orchestration import Orchestration

        return Orchestration(self.ctx)

    def validate(self) -> MeshSpec:
        self.ctx.reload()
        return self.ctx.spec

    def plan(self) -> provision.Plan:
        from tessera.platform.provisioning import provision

        return provision.plan(self.ctx)

    def apply(self) -> provision.Plan:
        from tessera.platform.provisioning import provision

        return provision.apply(self.ctx)

    def build(self, selected: Iterable[str] | None = None, **kwargs: Any) -> list[building.BuildOutcome]:
        from tessera.platform.publishing import build as building

        return building.build(self.ctx, selected, **kwargs)

    def publish(self, address: str, data: Any) -> PublishResult:
        from tessera.platform.publishing.publish import publish

        return publish(self.ctx, address, data)

    def product(self, address: str) -> ProductHandle:
        from tessera.platform.product_handle import ProductHandle

        self.ctx.identify()  # an enforcing mesh shows even its metadata to identified callers only
        return ProductHandle(self.ctx, address)

    def read(
        self,
        address: str,
        *,
        columns: list[str] | None = None,
        limit: int | None = None,
        as_principal: str | None = None,
    ) -> pa.Table:
        """A product version. As ``as_principal`` (else the token's principal): only if it may read it,
        masked and row-filtered for it; trusted local use (no token, no ``as_principal``) reads everything."""
        from tessera.platform.reading.reader import Reader, caller_for

        reader = Reader(self.ctx, caller_for(self.ctx, as_principal))
        return reader.read(address, columns=columns, limit=limit, warn=True).table

    def query(self, sql: str, *, as_principal: str | None = None) -> pa.Table:
        """SQL over products by address. As ``as_principal`` (else the token's principal): one checked SELECT
        over the masked, filtered views of the products it may read."""
        from tessera.platform.reading.reader import Reader, caller_for

        return Reader(self.ctx, caller_for(self.ctx, as_principal)).query(sql).table

    def profiles(self, address: str, major: int | None = None) -> VersionProfile | None:
        """Column profiles of the newest version of ``address`` (of ``major``): row, null and approximate distinct
        counts, min/max and top values (values only where the caller may read every row; never of a sensitive
        column). None when nothing is published."""
        from tessera.platform.reading.reader import Reader, caller_for

        return Reader(self.ctx, caller_for(self.ctx)).profiles(address, major)

    def lineage(
        self, node: str, *, direction: str = "both", depth: int | None = None, as_of: str | None = None
    ) -> LineageGraph:
        """The lineage graph around a product or column (``sales.orders``, ``sales.orders.amount``)."""
        self.ctx.identify()
        from tessera.platform.observability.lineage import lineage

        return lineage(self.ctx, node, direction=direction, depth=depth, as_of=as_of)  # type: ignore[arg-type]

    def search(self, text: str, limit: int = 20, sort: str = "relevance") -> list[dict[str, Any]]:
        """Ranked by name, tags, description, columns (typos corrected); ``sort="popular"``: most used over
        the last 28 days first, each hit with its ``uses``."""
        results: list[dict[str, Any]] = self.search_result(text, limit, sort)["results"]
        return results

    def search_result(self, text: str, limit: int = 20, sort: str = "relevance") -> dict[str, Any]:
        """``search``'s ``results``, and the ``corrections`` made for terms found in no product."""
        from tessera.catalog.search import corrections, rank

        self.ctx.identify()
        documents = self.ctx.catalog.search_documents()
        corrected = corrections(text, documents)
        if sort != "popular":
            return {"results": rank(text, documents, limit), "corrections": corrected}
        from tessera.platform.observability.usage_counts import Popularity

        uses = Popularity().current(self.ctx.catalog)
        hits = sorted(rank(text, documents, len(documents)), key=lambda h: -uses.get(h["address"], 0))
        return {
            "results": [{**h, "uses": uses.get(h["address"], 0)} for h in hits[:limit]],
            "corrections": corrected,
        }

    def usage(self, address: str | None = None, since: Any = None) -> UsageReport:
        """Reads, queries, readers and rows read per product from the audit log (default: the last 28 days;
        ``since`` a datetime, ``2026-12-01`` or ``7d``); readers' names only for admins and the product's owners."""
        from tessera.platform.observability.usage import usage

        return usage(self.ctx, address, since)

    def govern(self, addresses: Sequence[str] = ()) -> GovernReport:
        """Every policy on every product (or ``addresses``); ``report.passed`` is false on any error."""
        from tessera.platform.governing.govern import govern

        return govern(self.ctx, addresses)

    def apply_retention(self, addresses: Sequence[str] = (), *, dry_run: bool = False) -> list[RetentionFix]:
        """Delete rows older than each product's retention (every major), vacuum, scrub the log; audited."""
        from tessera.platform.remediation.remediate import apply_retention

        return apply_retention(self.ctx, list(addresses) or None, dry_run=dry_run)

    def erase(self, subject: str | Subject, *, dry_run: bool = False) -> ErasureReport:
        """The right to erasure: ``mesh.erase("customer_id=C123")`` removes the subject from every product and
        every readable version that holds its key; audited with the value's digest, not the value."""
        from tessera.platform.remediation.erasure import erase

        return erase(self.ctx, subject, dry_run=dry_run)

    def repair(self) -> dict[str, Repaired]:
        """Rebuild the version records from the tables' commits (admin on the mesh); records of a table that
        cannot be found are kept and reported (``Repaired.kept``)."""
        from tessera.platform.provisioning import repair

        return {r.address: r for r in repair.repair_mesh(self.ctx)}

    def test(self, address: str, data: Any | None = None) -> QualityRun:
        """Run a product's quality gate on data (or on its newest published version) without publishing."""
        from tessera.platform.publishing.testing import test_product

        return test_product(self.ctx, address, data)

    def consumers(self, address: str) -> ConsumerList:
        """Who relies on ``address`` and on what: consuming products (their input ports, the columns they
        read, their expectations) and registered external consumers, with owners."""
        from tessera.platform.governing.consumers import consumers

        return consumers(self.ctx, address)

    def register_consumer(self, name: str, of: str, *, owner: str, file: str | Path) -> Expectations:
        """Register external consumer ``name``'s expectations (an ODCS fragment file) of ``of`` (``ADDRESS``
        or ``ADDRESS@MAJOR``); they gate the product's publishes. Needs publish on it, or admin."""
        from tessera.platform.governing.consumers import register

        return register(self.ctx, name, of, owner=owner, file=file)[0]

    def unregister_consumer(self, name: str, of: str) -> None:
        from tessera.platform.governing.consumers import unregister

        unregister(self.ctx, name, of)

    def catalog_summary(self) -> dict[str, Any]:
        self.ctx.identify()
        products = []
        for row in self.ctx.catalog.products():
            versions = self.ctx.catalog.versions(row["address"])
            latest = versions[-1] if versions else None
            runs = self.ctx.catalog.quality_runs(row["address"], limit=1)
            products.append(
                {
                    "address": row["address"],
                    "owner": row["owner"],
                    "contract": row["contract_version"],
                    "versions": len(versions),
                    "latest": f"v{latest['delta_version']}" if latest else None,
                    "rows": latest["row_count"] if latest else None,
                    "quality": runs[0]["outcome"] if runs else None,
                }
            )
        return {
            "mesh": self.ctx.spec.settings.name,
            "counts": self.ctx.catalog.counts(),
            "products": products,
        }

    def show(self, address: str) -> dict[str, Any]:
        self.ctx.identify()
        row = self.ctx.catalog.product(address)
        if row is None:
            from tessera.model.suggest import did_you_mean

            hint = did_you_mean(address, (p["address"] for p in self.ctx.catalog.products()))
            raise NotFoundError(f"no product {address!r} in the catalog{hint or '; run tessera apply'}")
        return row

    def slo(
        self, address: str | None = None, *, window: str | None = None, series: bool = False
    ) -> SloSummary:
        """SLOs with error budgets over a rolling window (mesh.yaml ``slo.window``, else 28 days): per product
        and SLO its objective, attainment, budget left and burn rates; ``series`` adds each one day by day."""
        from tessera.platform.observability.slo import slo

        return slo(self.ctx, address, window=window, series=series)

    # The CLI's remaining calls, so that it calls only the facade (docs/architecture.md, "Layers").
    def status(self, addresses: Sequence[str] = ()) -> list[Any]:
        """SLA status per product (all by default): records incident changes and queues their notifications."""
        from tessera.platform.observability.monitor import check

        return check(self.ctx, list(addresses) or None)

    def incidents(self, *, open_only: bool = False, address: str | None = None) -> list[dict[str, Any]]:
        """SLA incidents, newest first."""
        from tessera.platform.observability.monitor import incidents

        return incidents(self.ctx, open_only=open_only, address=address)

    def run_scheduler(self, *, once: bool = False) -> int:
        """Build products when their update frequency says, until interrupted (one due batch with ``once``);
        returns the number of batches run."""
        from tessera.platform.publishing.schedule import run_scheduler

        return run_scheduler(self.ctx, once=once)

    def addresses(self) -> list[str]:
        """The addresses of the catalog's products."""
        return [p["address"] for p in self.ctx.catalog.products()]

    def close(self) -> None:
        self.ctx.close()

    def __enter__(self) -> Mesh:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
