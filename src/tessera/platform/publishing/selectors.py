"""dbt-style product selectors for ``tessera build``: ``sales.orders``, ``sales.orders+`` (and everything
downstream), ``+sales.orders`` (and everything upstream), ``+x+``, ``domain:sales``, ``tag:pii``; the graph
operators apply to domain and tag selectors too (``tag:pii+``, ``+domain:finance``)."""

from __future__ import annotations

from collections.abc import Iterable

from tessera.errors import DataError
from tessera.model.product import MeshSpec

__all__ = ["select"]


def _closure(start: str, edges: dict[str, set[str]]) -> set[str]:
    seen, stack = {start}, [start]
    while stack:
        for nxt in edges.get(stack.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def select(spec: MeshSpec, selectors: Iterable[str]) -> set[str]:
    """The addresses the selectors name (their union); an unknown product, domain or tag is an error."""
    products = {p.address: p for p in spec.products}
    texts = [s.strip() for s in selectors]
    if all(t in products for t in texts):  # plain addresses: no graph needed
        return set(texts)
    upstream: dict[str, set[str]] = {
        a: {i.address for i in p.input_ports if i.address in products} for a, p in products.items()
    }
    downstream: dict[str, set[str]] = {a: set() for a in products}
    for address, inputs in upstream.items():
        for source in inputs:
            downstream[source].add(address)
    chosen: set[str] = set()
    for raw in selectors:
        text = raw.strip()
        up, down = text.startswith("+"), text.endswith("+")
        core = text.strip("+")
        if core.startswith("domain:"):
            name = core.removeprefix("domain:")
            hits = {a for a, p in products.items() if p.domain == name}
            if not hits:
                from tessera.model.suggest import did_you_mean

                hint = did_you_mean(name, {p.domain for p in products.values()}, what="domain:")
                raise DataError(f"selector {raw!r}: no domain {name!r} with products in this mesh{hint}")
        elif core.startswith("tag:"):
            tag = core.removeprefix("tag:")
            hits = {a for a, p in products.items() if tag in p.tags or tag in p.contract.tags}
            if not hits:
                raise DataError(f"selector {raw!r}: no product is tagged {tag!r}")
        elif core in products:
            hits = {core}
        else:
            from tessera.model.suggest import unknown_product

            raise DataError(f"selector {raw!r}: {unknown_product(core, products)}")
        chosen |= hits
        for address in hits:
            if up:
                chosen |= _closure(address, upstream)
            if down:
                chosen |= _closure(address, downstream)
    return chosen
