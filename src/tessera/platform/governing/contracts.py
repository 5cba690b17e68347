"""Comparing contracts (``tessera contract diff``): a contract named by file, or by product address (its
last published contract as the old side, the mesh folder's as the new), and what downstream a breaking
change would hit according to column lineage."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tessera.errors import NotFoundError
from tessera.model.contract import Contract
from tessera.platform.context import Context

__all__ = ["ContractDiff", "diff", "impact"]


@dataclass(frozen=True, slots=True)
class ContractDiff:
    changes: tuple[Any, ...]
    impact: str  # the downstream products and columns a breaking change hits ("" when none or unknown)
    #: Every consumer of the product on the new contract's major, with what it breaks of theirs
    #: (``platform/governing/consumer_gate.ConsumerImpact``); empty when the contracts are files alone.
    consumers: tuple[Any, ...] = ()

    @property
    def breaking(self) -> bool:
        return any(c.kind == "breaking" for c in self.changes)

    @property
    def breaks_consumers(self) -> bool:
        return any(c.breaks for c in self.consumers)


def impact(ctx: Context, address: str, breaking: list[Any]) -> str:
    """The downstream products and columns a breaking change would hit, from column lineage."""
    from tessera.platform.observability.lineage import downstream_columns

    columns = {c.column for c in breaking if c.column}
    hits = downstream_columns(ctx, address, columns) if columns else []
    if not hits:
        downstream = (ctx.catalog.product(address) or {}).get("downstream", [])
        return f"\nDownstream products that read {address}: {', '.join(downstream)}" if downstream else ""
    lines = [f"\nDownstream columns this would hit ({len(hits)}):"]
    lines += [f"  {product}.{column}" for product, column in hits]
    return "\n".join(lines)


def _is_file(text: str) -> bool:
    if Path(text).is_file():
        return True
    if text.endswith((".yaml", ".yml")) or "/" in text:
        raise NotFoundError(f"no such contract file: {text}")
    return False


def _resolve(ctx: Context, text: str, *, published: bool) -> Contract:
    from tessera.spec import load_contract, parse_contract

    if _is_file(text):
        return load_contract(text)
    product = ctx.product(text.split("@", maxsplit=1)[0])
    if not published:
        return product.contract
    row = ctx.catalog.last_contract(product.address)
    if row is None:
        raise NotFoundError(f"{product.address} has no published contract yet")
    return parse_contract(row["document"], path=f"catalog:{product.address}", lines=None)


def diff(root: Path, old: str, new: str) -> ContractDiff:
    """Changes from ``old`` to ``new`` (files or addresses); the mesh at ``root`` is read only for addresses."""
    from tessera.model.compat import diff_contracts

    ctx = Context(root)
    try:
        after = _resolve(ctx, new, published=False)
        changes = diff_contracts(_resolve(ctx, old, published=True), after)
        address = next((ref.split("@")[0] for ref in (new, old) if not _is_file(ref)), None)
        breaking = [c for c in changes if c.kind == "breaking"]
        hit = impact(ctx, address, breaking) if address and breaking else ""
        if address is None:
            return ContractDiff(changes, hit)
        from tessera.platform.governing.consumer_gate import impacts

        return ContractDiff(changes, hit, impacts(ctx, address, after))
    finally:
        ctx.close()
