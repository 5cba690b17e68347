"""Lineage queries: product- and column-level graphs upstream or downstream of a node, as text, JSON, Mermaid
or Graphviz dot. Nodes are products (``sales.orders``), source tables (``source.pos.orders``) and their
columns (``sales.orders.amount``). Column edges come from each product's newest published version (or, for
the product asked about, the version given with ``as_of``)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

from tessera.catalog.lineage import (
    column_edges,
    column_names,
    has_column,
    has_dataset,
    lineage_datasets,
    product_edges,
)
from tessera.errors import AddressError, NotFoundError
from tessera.platform.context import Context

__all__ = ["LineageGraph", "downstream_columns", "lineage", "parse_node"]

Direction = Literal["upstream", "downstream", "both"]


@dataclass
class LineageGraph:
    root: str
    level: Literal["product", "column"]
    nodes: set[str] = field(default_factory=set)
    edges: set[tuple[str, str, str]] = field(default_factory=set)  # (from, to, kind)

    def as_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "level": self.level,
            "nodes": sorted(self.nodes),
            "edges": [{"from": a, "to": b, "kind": k} for a, b, k in sorted(self.edges)],
        }

    def mermaid(self) -> str:
        ids = {n: f"n{i}" for i, n in enumerate(sorted(self.nodes))}
        lines = ["graph LR"]
        lines += [f'    {ids[n]}["{n}"]' for n in sorted(self.nodes)]
        lines += [f"    {ids[a]} -->|{k}| {ids[b]}" for a, b, k in sorted(self.edges)]
        return "\n".join(lines)

    def dot(self) -> str:
        lines = ["digraph lineage {", "  rankdir=LR;"]
        lines += [f'  "{n}";' for n in sorted(self.nodes)]
        lines += [f'  "{a}" -> "{b}" [label="{k}"];' for a, b, k in sorted(self.edges)]
        return "\n".join([*lines, "}"])

    def text(self) -> str:
        incoming: dict[str, list[tuple[str, str]]] = {}
        outgoing: dict[str, list[tuple[str, str]]] = {}
        for a, b, k in self.edges:
            outgoing.setdefault(a, []).append((b, k))
            incoming.setdefault(b, []).append((a, k))
        lines = [self.root]

        def walk(
            node: str, links: dict[str, list[tuple[str, str]]], arrow: str, depth: int, seen: set[str]
        ) -> None:
            for nxt, kind in sorted(links.get(node, [])):
                if nxt in seen:  # shown already: shared paths in a DAG must not print exponentially
                    lines.append(f"{'    ' * depth}{arrow} {nxt}  ({kind}, see above)")
                    continue
                seen.add(nxt)
                lines.append(f"{'    ' * depth}{arrow} {nxt}  ({kind})")
                walk(nxt, links, arrow, depth + 1, seen)

        walk(self.root, incoming, "←", 1, {self.root})
        walk(self.root, outgoing, "→", 1, {self.root})
        return "\n".join(lines)


def parse_node(ctx: Context, text: str) -> tuple[str, str | None]:
    """``sales.orders`` / ``sales.orders.amount`` / ``source.pos.orders[.col]`` → (dataset, column)."""
    parts = text.strip().split(".")
    size = 3 if parts[0] == "source" else 2
    if len(parts) not in (size, size + 1):
        raise AddressError(
            f"{text!r}: expected <domain>.<product>[.column] or source.<system>.<table>[.column]"
        )
    dataset, column = ".".join(parts[:size]), (parts[size] if len(parts) > size else None)
    if not has_dataset(ctx.catalog, dataset):  # the catalog knows every node; no need to read the mesh files
        from tessera.model.suggest import did_you_mean

        hint = did_you_mean(dataset, lineage_datasets(ctx.catalog)) or " (run tessera apply)"
        raise NotFoundError(f"no product or source table {dataset!r} in the catalog{hint}")
    return dataset, column


def _column_edges(
    ctx: Context, as_of: tuple[str, int, int] | None
) -> list[tuple[str, str, str, str | None, str]]:
    """(target product, source, source column, target column, kind) from each product's newest version."""
    rows = column_edges(ctx.catalog)
    newest: dict[str, tuple[int, int]] = {}
    for row in rows:
        key = (row["major"], row["delta_version"])
        if as_of is not None and row["address"] == as_of[0]:
            newest[row["address"]] = (as_of[1], as_of[2])
        elif key > newest.get(row["address"], (-1, -1)):
            newest[row["address"]] = key
    return [
        (r["address"], r["source"], r["source_column"], r["target_column"], r["kind"])
        for r in rows
        if (r["major"], r["delta_version"]) == newest.get(r["address"])
    ]


def lineage(
    ctx: Context,
    text: str,
    *,
    direction: Direction = "both",
    depth: int | None = None,
    as_of: str | None = None,
) -> LineageGraph:
    dataset, column = parse_node(ctx, text)
    pinned = None
    if as_of is not None:
        from tessera.platform.reading.releases import resolve

        release = resolve(ctx, f"{dataset}@{as_of.lstrip('@')}")
        pinned = (dataset, release.major, release.delta_version)
    if (
        column is not None
        and not dataset.startswith("source.")
        and not has_column(ctx.catalog, dataset, column)
    ):
        from tessera.model.suggest import did_you_mean

        hint = did_you_mean(column, column_names(ctx.catalog, dataset), what=f"{dataset}.")
        raise NotFoundError(f"{dataset} has no column {column!r} in its contract{hint}")
    graph = LineageGraph(root=text.strip(), level="column" if column else "product")
    up: dict[str, set[tuple[str, str]]] = {}
    down: dict[str, set[tuple[str, str]]] = {}
    if column is None:
        for row in product_edges(ctx.catalog):
            up.setdefault(row["target"], set()).add((row["source"], "input"))
            down.setdefault(row["source"], set()).add((row["target"], "input"))
    else:
        for target, source, source_col, target_col, kind in _column_edges(ctx, pinned):
            a = f"{source}.{source_col}"
            b = f"{target}.{target_col}" if target_col else target
            up.setdefault(b, set()).add((a, kind))
            down.setdefault(a, set()).add((b, kind))
    graph.nodes.add(graph.root)
    if direction in ("upstream", "both"):
        _walk(graph, up, reverse=True, depth=depth)
    if direction in ("downstream", "both"):
        _walk(graph, down, reverse=False, depth=depth)
    return graph


def _walk(
    graph: LineageGraph, links: dict[str, set[tuple[str, str]]], *, reverse: bool, depth: int | None
) -> None:
    queue: deque[tuple[str, int]] = deque([(graph.root, 0)])
    seen = {graph.root}
    while queue:
        node, level = queue.popleft()
        if depth is not None and level >= depth:
            continue
        for nxt, kind in links.get(node, ()):
            graph.nodes.add(nxt)
            graph.edges.add((nxt, node, kind) if reverse else (node, nxt, kind))
            if nxt not in seen:
                seen.add(nxt)
                queue.append((nxt, level + 1))


def downstream_columns(ctx: Context, address: str, columns: set[str]) -> list[tuple[str, str]]:
    """(product, column) pairs, transitively, that read any of ``columns`` of ``address``."""
    down: dict[str, set[str]] = {}
    for target, source, source_col, target_col, _ in _column_edges(ctx, None):
        down.setdefault(f"{source}.{source_col}", set()).add(
            f"{target}.{target_col}" if target_col else target
        )
    hits: set[str] = set()
    queue = deque(f"{address}.{c}" for c in columns)
    while queue:
        for nxt in down.get(queue.popleft(), ()):
            if nxt not in hits:
                hits.add(nxt)
                queue.append(nxt)
    out = []
    for hit in sorted(hits):
        parts = hit.split(".")
        size = 3 if parts[0] == "source" else 2
        out.append((".".join(parts[:size]), ".".join(parts[size:]) or "(rows)"))
    return out
