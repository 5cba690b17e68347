"""status, run-scheduler: the commands that watch a running mesh."""

from __future__ import annotations

import argparse

from tessera.cli.render import moment, print_json, print_table
from tessera.cli.render import span as _span

__all__ = ["doctor", "run_scheduler", "status"]


def status(args: argparse.Namespace) -> int:
    from tessera.platform import Mesh

    with Mesh(args.mesh) as mesh:
        if args.incidents:
            rows = mesh.incidents()
            if args.json:
                print_json(rows)
            else:
                print_table(
                    "Incidents",
                    ["product", "kind", "opened", "resolved", "detail"],
                    [
                        (
                            r["address"],
                            r["kind"],
                            moment(r["opened_at"]),
                            moment(r["resolved_at"]) if r["resolved_at"] else "open",
                            r["detail"],
                        )
                        for r in rows
                    ],
                )
            return 0
        statuses = mesh.status(args.products or ())
    failing = 1 if args.fail_on_breach and any(s.state == "breach" for s in statuses) else 0
    if args.json:
        print_json([s.as_dict() for s in statuses])
        return failing
    print_table(
        "SLA status",
        ["product", "state", "freshness", "limit", "quality", "available", "breaches"],
        [
            (
                s.address,
                s.state,
                _span(s.freshness_age),
                _span(s.freshness_limit),
                s.latest_quality or "",
                "yes" if s.available else "no",
                "; ".join(s.breaches.values()),
            )
            for s in statuses
        ],
    )
    return failing


def run_scheduler(args: argparse.Namespace) -> int:
    from tessera.platform import Mesh

    with Mesh(args.mesh) as mesh:
        batches = mesh.run_scheduler(once=args.once)
    print(f"scheduler stopped after {batches} batch(es)")
    return 0


def doctor(args: argparse.Namespace) -> int:
    """Each part of the mesh tried for real; exit 1 when any of them fails."""
    from tessera.cli.render import console
    from tessera.platform.provisioning.doctor import diagnose

    checks = diagnose(args.mesh)
    if args.json:
        print_json([c.as_dict() for c in checks])
    else:
        print_table(
            "Doctor",
            ["part", "kind", "target", "status", "detail", "time"],
            [
                (c.part, c.kind, c.target, "ok" if c.ok else "FAILED", c.detail, f"{c.seconds:.2f}s")
                for c in checks
            ],
        )
        failed = [c.part for c in checks if not c.ok]
        out = console()
        out.print(f"✗ {', '.join(failed)} failed" if failed else "✓ every part answers", markup=False)
    return 0 if all(c.ok for c in checks) else 1
