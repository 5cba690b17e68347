"""build, publish, test: the commands that run the gates."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.markup import escape

from tessera.cli.render import console, count, plain, print_json, print_table

__all__ = ["build", "publish", "test"]

_MARK = {
    "published": "[green]✓[/]",
    "refused": "[red]✗[/]",
    "failed": "[red]✗[/]",
    "skipped": "[yellow]–[/]",
    "unchanged": "[dim]=[/]",
}


def build(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from tessera.platform import BuildOutcome, Mesh
    from tessera.platform.publishing.build import build_order

    with Mesh(args.mesh) as mesh:
        order = build_order(mesh.spec, args.products or None)
        out = console(stderr=True)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=out,
            disable=args.json or not out.is_terminal,
        ) as progress:
            task = progress.add_task("building", total=len(order))

            def step(outcome: BuildOutcome) -> None:
                progress.advance(task)
                if not args.json:
                    first = outcome.message.splitlines()[0] if outcome.message else ""
                    shown = escape(plain(first))  # a message can quote data and contract text: never markup
                    out.print(f"{_MARK[outcome.status]} {outcome.address} {outcome.status} {shown}")

            outcomes = mesh.build(
                args.products or None, on_progress=step, full_refresh=args.full_refresh, jobs=args.jobs
            )
    if args.json:
        print_json(
            [
                {
                    "address": o.address,
                    "status": o.status,
                    "message": o.message,
                    **({"result": o.result.as_dict()} if o.result else {}),
                }
                for o in outcomes
            ]
        )
    else:
        rows = []
        for o in outcomes:
            r = o.result
            rows.append(
                (
                    o.address,
                    o.status,
                    f"v{r.delta_version}" if r else "",
                    count(r.rows) if r else "",
                    r.run.outcome if r else "",
                    "" if r else o.message.splitlines()[0][:80],
                )
            )
        print_table("Build", ["product", "status", "version", "rows", "quality", "note"], rows)
        for o in outcomes:
            if o.status in {"refused", "failed"}:
                console(stderr=True).print(plain(o.message), markup=False, highlight=False)
    return 1 if any(o.status in {"refused", "failed"} for o in outcomes) else 0


def publish(args: argparse.Namespace) -> int:
    from tessera.platform import Mesh

    with Mesh(args.mesh) as mesh:
        result = mesh.publish(args.address, Path(args.source))
    if args.json:
        print_json(result.as_dict())
    else:
        print(
            f"published {result.address}@v{result.delta_version} (contract {result.contract_version}, "
            f"{count(result.rows)} rows, quality {result.run.outcome})"
        )
        for check in result.run.warnings:
            print(plain(f"  ! {check.name}: {check.message}"))
    return 0


def test(args: argparse.Namespace) -> int:
    target = args.target
    if target.endswith((".yaml", ".yml")) or Path(target).is_file():
        from tessera.cli.contract_test import test_contract_file

        return test_contract_file(args)
    if args.server or args.check_id or args.dimension or args.tag:
        from tessera.errors import AddressError

        raise AddressError(
            "--server, --check-id, --dimension and --tag apply to a contract file, not a product"
        )
    from tessera.platform import Mesh

    with Mesh(args.mesh) as mesh:
        run = mesh.test(target, Path(args.data) if args.data else None)
    from tessera.cli.contract_test import render_run

    render_run(run, args.output)
    return 0 if run.passed else 1
