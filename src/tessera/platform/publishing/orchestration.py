"""What an orchestrator (Dagster, Airflow) needs of a mesh, behind ``Mesh.orchestration``: its products as a
graph of assets, the checks each product's gate reports, one product built through ``build`` (so the gates
still decide: a refused product raises ``BuildRefusedError`` with the gate's message and the refused run's
checks), and the newest version of each product, for sensors. The adapters in ``tessera.integrations`` only
translate these values (docs/architecture.md, "Layers")."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from tessera.errors import TesseraError
from tessera.model.contract import Severity
from tessera.model.results import Check, CheckOutcome, QualityRun

if TYPE_CHECKING:
    from tessera.engine import Engine
    from tessera.model.product import Product
    from tessera.platform.context import Context

__all__ = ["BuildRefusedError", "DeclaredCheck", "Materialised", "Orchestration", "ProductNode"]


@dataclass(frozen=True, slots=True)
class DeclaredCheck:
    """A check the product's quality gate reports on every run, named as in its runs (``amount.range``)."""

    name: str
    severity: Severity
    description: str


@dataclass(frozen=True, slots=True)
class ProductNode:
    """One product as an asset: what it reads (products of the mesh, sources outside it) and who owns it.
    ``buildable`` is false for a product whose data is pushed (no transform)."""

    address: str
    domain: str
    name: str
    description: str
    owner: str | None
    contract_version: str
    inputs: tuple[str, ...]
    sources: tuple[str, ...]
    buildable: bool
    checks: tuple[DeclaredCheck, ...]


@dataclass(frozen=True, slots=True)
class Materialised:
    """A product built (``published``) or already up to date (``unchanged``), with its gate's checks."""

    address: str
    status: Literal["published", "unchanged"]
    major: int
    delta_version: int
    contract_version: str
    rows: int | None
    quality: str
    checks: tuple[Check, ...]
    message: str = ""

    @property
    def release(self) -> str:
        return f"{self.address}@v{self.delta_version}"


class BuildRefusedError(TesseraError):
    """A product's build did not publish: refused by a gate, failed, or skipped because an input did not
    publish. ``checks`` holds the refused run's checks when the quality gate ran."""

    exit_code = 1

    def __init__(self, message: str, status: str, checks: Sequence[Check] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.checks = tuple(checks)


def _check_from_row(row: Mapping[str, Any]) -> Check:
    outcome: CheckOutcome = row["outcome"]
    severity: Severity = row["severity"]
    return Check(
        name=row["name"],
        metric=row["metric"],
        column=row["column_name"],
        threshold=row["threshold"],
        measured=row["measured"],
        outcome=outcome,
        severity=severity,
        message=row["message"],
        unit=row["unit"],
    )


class Orchestration:
    """The mesh seen by an orchestrator. Building acts as the mesh's caller (a token's principal needs
    publish on the product, as ``tessera build`` does)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def products(self) -> list[ProductNode]:
        """Every product of the mesh, inputs first."""
        from tessera.engine import create_engine
        from tessera.platform.publishing.build import build_order
        from tessera.platform.publishing.publish import seal_gate

        spec = self.ctx.load_for_build()  # a broken product is left out, as a build goes around it
        engine = create_engine("duckdb")  # one sealed connection judges every contract's empty table
        try:
            seal_gate(self.ctx, engine, ())
            nodes = [self._node(p, declared_checks(self.ctx, p, engine)) for p in build_order(spec)]
        finally:
            engine.close()
        # ... but stays an asset: building it fails with its problem (file:line), and what reads it waits
        return [_broken(address, why) for address, why in sorted(spec.broken.items())] + nodes

    def _node(self, product: Product, checks: tuple[DeclaredCheck, ...]) -> ProductNode:
        ports = product.input_ports
        return ProductNode(
            address=product.address,
            domain=product.domain,
            name=product.name,
            description=(product.description or product.contract.description or "").strip(),
            owner=product.owner,
            contract_version=product.contract.version,
            inputs=tuple(p.address for p in ports if not p.is_source),
            sources=tuple(p.address for p in ports if p.is_source),
            buildable=product.transform is not None,
            checks=checks,
        )

    def materialise(self, address: str, *, full_refresh: bool = False) -> Materialised:
        """Build ``address`` alone (its inputs as published), through the build path and its gates."""
        from tessera.platform.publishing.build import build

        broken = self.ctx.load_for_build().broken.get(address)
        if broken is not None:  # its files do not load: say why, not that there is no such product
            raise BuildRefusedError(broken, "failed")
        started = datetime.now(UTC)
        outcomes = build(self.ctx, [address], jobs=1, full_refresh=full_refresh)
        outcome = next(o for o in outcomes if o.address == address)
        if outcome.status == "published" and outcome.result is not None:
            result = outcome.result
            return Materialised(
                address,
                "published",
                result.major,
                result.delta_version,
                result.contract_version,
                result.rows,
                result.run.outcome,
                result.run.checks,
                outcome.message,
            )
        if outcome.status == "unchanged":
            return self._current(address, outcome.message)
        checks: tuple[Check, ...] = ()
        if outcome.status == "refused":
            runs = self.ctx.catalog.quality_runs(address, limit=1)
            if runs and not runs[0]["published"] and _aware(runs[0]["started_at"]) >= started:
                checks = tuple(_check_from_row(r) for r in runs[0]["checks"])
        raise BuildRefusedError(outcome.message, outcome.status, checks)

    def _current(self, address: str, message: str) -> Materialised:
        versions = self.ctx.catalog.versions(address)
        if not versions:
            raise BuildRefusedError(f"{address}: nothing published yet", "failed")
        from tessera.catalog.runs import quality_run

        latest = versions[-1]
        run = quality_run(self.ctx.catalog, str(latest["run_id"]))
        return Materialised(
            address,
            "unchanged",
            int(latest["major"]),
            int(latest["delta_version"]),
            str(latest["contract_version"]),
            latest["row_count"],
            str(run["outcome"]) if run else "unknown",
            tuple(_check_from_row(r) for r in run["checks"]) if run else (),
            message,
        )

    def latest_versions(self, addresses: Iterable[str]) -> dict[str, str]:
        """The newest published version of each product (``<major>.<delta version>``), absent if none."""
        self.ctx.identify()
        out: dict[str, str] = {}
        for address in addresses:
            versions = self.ctx.catalog.versions(address)
            if versions:
                out[address] = f"{versions[-1]['major']}.{versions[-1]['delta_version']}"
        return out

    def downstream(self, addresses: Iterable[str]) -> list[str]:
        """The buildable products that read any of ``addresses``, directly or not, inputs first."""
        changed = set(addresses)
        out: list[str] = []
        for node in self.products():
            if changed & set(node.inputs):
                changed.add(node.address)
                if node.buildable:
                    out.append(node.address)
        return out


def _broken(address: str, why: str) -> ProductNode:
    domain, _, name = address.partition(".")
    return ProductNode(address, domain, name, why, None, "", (), (), True, ())


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def declared_checks(ctx: Context, product: Product, engine: Engine) -> tuple[DeclaredCheck, ...]:
    """The checks the gate reports for ``product``, found by judging an empty table of its contract's schema
    on ``engine`` (sealed like the gate's connection): the names come from the same planner as a real run's
    (``quality/runner.py``), and its consumers' expectations are judged as the gate judges them."""
    import pyarrow as pa

    from tessera.platform.governing.consumer_gate import consumers_to_judge, judge
    from tessera.quality import run_quality
    from tessera.storage.schema import contract_schema

    relation = "__tessera__.subject"
    engine.register_arrow(relation, pa.Table.from_pylist([], schema=contract_schema(product.contract)))
    run: QualityRun = run_quality(product.contract, engine, relation, subject=product.address)
    checks = run.checks
    if found := consumers_to_judge(ctx, product):
        checks += judge(product, found, engine, relation)
    return tuple(DeclaredCheck(c.name, c.severity, _describe(c)) for c in checks)


def _describe(check: Check) -> str:
    where = f" on {check.column}" if check.column else ""
    threshold = f", expected {check.threshold}" if check.threshold else ""
    return f"{check.metric}{where}{threshold} (severity {check.severity})"
