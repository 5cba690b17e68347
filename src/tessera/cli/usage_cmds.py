"""usage: reads, queries, readers and rows read per product, from the audit log."""

from __future__ import annotations

import argparse
import sys

from tessera.cli.render import print_json, print_table

__all__ = ["usage"]


def usage(args: argparse.Namespace) -> int:
    from tessera.platform import Mesh

    with Mesh(args.mesh) as mesh:
        report = mesh.usage(args.address, args.since)
    if args.json:
        print_json(report.single() if args.address else report.as_dict())
        return 0
    span = f"{report.since:%Y-%m-%d} to {report.until:%Y-%m-%d}"
    print_table(
        f"usage {span}",
        ["product", "reads", "queries", "readers", "rows read", "downstream products"],
        (
            [p.address, p.reads, p.queries, p.readers, p.rows_read, ", ".join(p.downstream) or "-"]
            for p in report.products
        ),
    )
    for product in report.products if args.address else ():
        active = [d for d in product.days if d.reads or d.queries]
        if active:
            print_table(
                f"{product.address} by day (days with no use left out)",
                ["day", "reads", "queries", "readers", "rows read"],
                ([d.day, d.reads, d.queries, d.readers, d.rows_read] for d in active),
            )
        if product.consumers is None:
            print("readers: only the product's owners and admins see who they are", file=sys.stderr)
            continue
        print_table(
            f"readers of {product.address}",
            ["principal", "reads", "queries", "rows read", "last day"],
            ([c.principal, c.reads, c.queries, c.rows_read, c.last_day] for c in product.consumers),
        )
    if not report.products:
        print("no audited reads or queries in this window", file=sys.stderr)
    print(f"note: {report.note}", file=sys.stderr)
    return 0
