"""The web catalog's lineage graph: the platform's lineage around a product (or one of its columns), a given
number of levels upstream and downstream, laid out as a layered DAG for the browser to draw.

Layout (Sugiyama-style, small graphs): each node's layer is the longest path to it from a node without
inputs, so every edge points right; within a layer nodes are ordered by the mean position of their
neighbours over a few sweeps, which keeps edges from crossing where it can. The browser only draws."""

from __future__ import annotations

from typing import Any, Literal

from tessera.platform.context import Context
from tessera.platform.observability.lineage import LineageGraph, lineage

__all__ = ["MAX_DEPTH", "NODE_HEIGHT", "NODE_WIDTH", "graph_view", "layout", "node_parts"]

MAX_DEPTH = 12
NODE_WIDTH, NODE_HEIGHT = 230, 50
_LAYER_GAP, _ROW_GAP = 90, 26
_SWEEPS = 4

NodeKind = Literal["product", "source", "column", "source-column"]


def node_parts(node: str) -> tuple[str, str | None, NodeKind]:
    """``sales.orders`` → (dataset, None, product); ``source.pos.orders.id`` → (``source.pos.orders``, id, …)."""
    parts = node.split(".")
    size = 3 if parts[0] == "source" else 2
    dataset, column = ".".join(parts[:size]), ".".join(parts[size:]) or None
    if parts[0] == "source":
        return dataset, column, "source-column" if column else "source"
    return dataset, column, "column" if column else "product"


def layout(nodes: set[str], edges: set[tuple[str, str, str]]) -> dict[str, tuple[float, float]]:
    """Top-left corner of each node's box."""
    preds: dict[str, set[str]] = {n: set() for n in nodes}
    succs: dict[str, set[str]] = {n: set() for n in nodes}
    for a, b, _ in edges:
        if a != b:
            preds[b].add(a)
            succs[a].add(b)
    layer: dict[str, int] = {}
    for _ in range(len(nodes) + 1):  # longest path; bounded so a cycle cannot loop forever
        changed = False
        for n in sorted(nodes):
            want = max((layer.get(p, 0) + 1 for p in preds[n]), default=0)
            if layer.get(n) != want and want <= len(nodes):
                layer[n], changed = want, True
        if not changed:
            break
    layers: dict[int, list[str]] = {}
    for n in sorted(nodes):
        layers.setdefault(layer.get(n, 0), []).append(n)
    order = {n: i for members in layers.values() for i, n in enumerate(members)}
    keys = sorted(layers)
    for sweep in range(_SWEEPS):
        downward = sweep % 2 == 0
        for key in keys if downward else reversed(keys):
            neighbours = preds if downward else succs
            members = layers[key]

            def centre(n: str, neighbours: dict[str, set[str]] = neighbours) -> float:
                near = [order[m] for m in neighbours[n]]
                return sum(near) / len(near) if near else float(order[n])

            members.sort(key=lambda n: (centre(n), n))
            order.update({n: i for i, n in enumerate(members)})
    tallest = max((len(m) for m in layers.values()), default=1)
    positions = {}
    for column, key in enumerate(keys):
        members = layers[key]
        offset = (tallest - len(members)) * (NODE_HEIGHT + _ROW_GAP) / 2
        for row, n in enumerate(members):
            positions[n] = (
                float(column * (NODE_WIDTH + _LAYER_GAP)),
                offset + row * (NODE_HEIGHT + _ROW_GAP),
            )
    return positions


def _href(node: str) -> str | None:
    dataset, column, kind = node_parts(node)
    if kind.startswith("source"):
        return None
    domain, product = dataset.split(".")
    return f"/products/{domain}/{product}" + (f"?column={column}#lineage" if column else "#lineage")


def _merge(*graphs: LineageGraph) -> tuple[set[str], set[tuple[str, str, str]]]:
    nodes: set[str] = set()
    edges: set[tuple[str, str, str]] = set()
    for graph in graphs:
        nodes |= graph.nodes
        edges |= graph.edges
    return nodes, edges


def graph_view(
    ctx: Context, address: str, *, up: int = 1, down: int = 1, column: str | None = None
) -> dict[str, Any]:
    """The graph around ``address`` (or its ``column``) ``up`` levels upstream and ``down`` downstream, with
    positions, links and whether expanding either way would show more (NotFoundError: not in the catalog)."""
    up, down = max(0, min(up, MAX_DEPTH)), max(0, min(down, MAX_DEPTH))
    root = f"{address}.{column}" if column else address
    upstream = lineage(ctx, root, direction="upstream", depth=up)
    downstream = lineage(ctx, root, direction="downstream", depth=down)
    nodes, edges = _merge(upstream, downstream)
    more_up = up < MAX_DEPTH and bool(
        lineage(ctx, root, direction="upstream", depth=up + 1).nodes - upstream.nodes
    )
    more_down = down < MAX_DEPTH and bool(
        lineage(ctx, root, direction="downstream", depth=down + 1).nodes - downstream.nodes
    )
    positions = layout(nodes, edges)
    upstream_only = upstream.nodes - {root}
    out_nodes = []
    for node in sorted(nodes):
        dataset, col, kind = node_parts(node)
        x, y = positions[node]
        side = "root" if node == root else "upstream" if node in upstream_only else "downstream"
        out_nodes.append(
            {
                "id": node,
                "dataset": dataset,
                "column": col,
                "kind": kind,
                "side": side,
                "href": _href(node),
                "x": x,
                "y": y,
            }
        )
    width = max((x for x, _ in positions.values()), default=0) + NODE_WIDTH
    height = max((y for _, y in positions.values()), default=0) + NODE_HEIGHT
    return {
        "root": root,
        "product": address,
        "column": column,
        "level": "column" if column else "product",
        "up": up,
        "down": down,
        "more_up": more_up,
        "more_down": more_down,
        "node_width": NODE_WIDTH,
        "node_height": NODE_HEIGHT,
        "width": width,
        "height": height,
        "nodes": out_nodes,
        "edges": [{"from": a, "to": b, "kind": k} for a, b, k in sorted(edges)],
    }
