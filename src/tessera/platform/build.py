"""Build products from their transforms, in dependency order, through the publish path.

A transform's SQL names its inputs as ``<domain>.<product>`` (read at the major its input port asks for) or
``source.<system>.<table>``. A refused product stops the products downstream of it; the others go on."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from tessera.errors import DataError, NotImplementedYetError, TesseraError
from tessera.model.product import MeshSpec, Product
from tessera.platform.context import Context
from tessera.platform.publish import PublishResult, publish
from tessera.platform.reading import register_release, resolve

__all__ = ["BuildOutcome", "build", "build_order"]

Status = Literal["published", "refused", "skipped", "failed"]


@dataclass(frozen=True, slots=True)
class BuildOutcome:
    address: str
    status: Status
    message: str = ""
    result: PublishResult | None = None


def build_order(spec: MeshSpec, selected: Iterable[str] | None = None) -> list[Product]:
    """Products in dependency order (inputs first); with ``selected``, only those, still ordered."""
    by_address = {p.address: p for p in spec.products}
    wanted = set(selected) if selected is not None else set(by_address)
    unknown = wanted - set(by_address)
    if unknown:
        raise DataError(f"no such product(s) in this mesh: {', '.join(sorted(unknown))}")
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


def _run_transform(ctx: Context, product: Product, notes: list[str]) -> object:
    transform = product.transform
    assert transform is not None
    if transform.kind != "sql":
        raise NotImplementedYetError(
            f"{product.address}: Python transforms are not available in this release"
        )
    engine = ctx.engine()
    try:
        for port in product.input_ports:
            if port.is_source:
                source = ctx.spec.source_table(port.address)
                if source is None:
                    raise DataError(f"{product.address}: unknown source {port.address}")
                if source.format == "delta":
                    scan = ctx.store.scan(source.uri)
                    engine.register_arrow(port.address, scan.dataset())
                else:
                    engine.register_files(port.address, [source.uri], source.format)
            else:
                major = port.version.split(".")[0] if port.version else None
                release = resolve(ctx, f"{port.address}@{major}" if major else port.address)
                if release.deprecation:
                    notes.append(f"reads {release.deprecation}")
                register_release(ctx, engine, port.address, release)
        return engine.fetch_arrow(transform.code)
    finally:
        engine.close()


def build(
    ctx: Context,
    selected: Iterable[str] | None = None,
    *,
    on_progress: Callable[[BuildOutcome], None] | None = None,
) -> list[BuildOutcome]:
    from tessera.errors import SpecError
    from tessera.spec.transforms import transform_problems

    order = build_order(ctx.spec, selected)
    problems = transform_problems(order)
    if problems:
        raise SpecError(problems)
    outcomes: list[BuildOutcome] = []
    blocked: set[str] = set()
    for product in order:
        upstream_failed = [p.address for p in product.input_ports if p.address in blocked]
        if upstream_failed:
            outcome = BuildOutcome(
                product.address, "skipped", f"upstream {', '.join(upstream_failed)} did not publish"
            )
            blocked.add(product.address)
        elif product.transform is None:
            outcome = BuildOutcome(
                product.address, "skipped", "no transform: data is pushed (tessera publish)"
            )
        else:
            notes: list[str] = []
            try:
                result = publish(ctx, product.address, _run_transform(ctx, product, notes))
                message = "; ".join([f"@v{result.delta_version}", *notes])
                outcome = BuildOutcome(product.address, "published", message, result)
            except TesseraError as exc:
                status: Status = "refused" if exc.__class__.__name__.endswith("GateError") else "failed"
                outcome = BuildOutcome(product.address, status, str(exc))
                blocked.add(product.address)
        outcomes.append(outcome)
        if on_progress is not None:
            on_progress(outcome)
    return outcomes
