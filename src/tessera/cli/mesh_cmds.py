"""init, validate, plan, apply, repair, contract diff."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tessera.cli.render import console, plain, print_json, print_table

__all__ = ["apply", "contract_diff", "init", "plan", "repair", "validate"]


def _mesh(args: argparse.Namespace) -> object:
    import tessera

    return tessera.open(args.mesh)


def init(args: argparse.Namespace) -> int:
    from tessera import scaffold

    root = Path(args.dir)
    if args.example:
        written = scaffold.write_example_mesh(root, scale=args.scale)
        print(f"wrote the example mesh to {root} ({len(written)} files)")
        print(f"next: tessera -C {root} apply && tessera -C {root} build")
    else:
        written = scaffold.write_empty_mesh(root)
        print(f"wrote an empty mesh to {root}; add domains under {root}/domains/")
    return 0


def validate(args: argparse.Namespace) -> int:
    from tessera.errors import SpecError
    from tessera.platform.governing.validation import validate_contract, validate_mesh

    bare = bool(args.contract) and not Path(args.contract).is_dir()  # a contract file, or a mesh folder
    if bare:
        found = validate_contract(args.contract, strict=args.strict)
    else:
        found = validate_mesh(args.contract or args.mesh, strict=args.strict)
    for warning in found.warnings:
        print(plain(str(warning)), file=sys.stderr)
    if args.json:
        print_json(found.as_dict())
        return 0 if found.valid else SpecError.exit_code
    if not found.valid:
        raise SpecError(found.errors)
    if bare:
        print(f"✓ {plain(found.subject)}: a valid ODCS contract")
    else:
        todos = sum(1 for w in found.warnings if w.message.startswith("TODO"))
        left = f"; {todos} TODO{'s' if todos != 1 else ''} to write" if todos else ""
        print(
            f"✓ {plain(found.subject)}: {found.domains} domains, {found.products} products, all valid{left}"
        )
    return 0


def plan(args: argparse.Namespace) -> int:
    from tessera.platform import Mesh

    with Mesh(args.mesh) as mesh:
        the_plan = mesh.plan()
    if args.json:
        print_json(the_plan.as_dict())
    elif the_plan.empty:
        print("No changes: the catalog and storage match the mesh folder.")
    else:
        for step in the_plan.steps:
            print(step)
        if the_plan.consumers:
            from tessera.platform.governing.consumer_gate import render_impacts

            for address in dict.fromkeys(c.address for c in the_plan.consumers):
                print(plain(render_impacts(tuple(c for c in the_plan.consumers if c.address == address))))
        print(f"\n{len(the_plan.steps)} change(s). Run `tessera apply` to make them.")
    return 0


def apply(args: argparse.Namespace) -> int:
    from tessera.platform import Mesh

    with Mesh(args.mesh) as mesh:
        done = mesh.apply()
    if args.json:
        print_json({"applied": done.as_dict()["changes"]})
    elif done.empty:
        print("No changes: already applied.")
    else:
        for step in done.steps:
            print(step)
        print(f"\nApplied {len(done.steps)} change(s).")
    return 0


def repair(args: argparse.Namespace) -> int:
    from tessera.platform import Mesh

    with Mesh(args.mesh) as mesh:
        report = mesh.repair()
    kept = [k for r in report.values() for k in r.kept]
    if args.json:
        print_json(
            {
                address: {
                    "versions": r.versions,
                    "kept": [
                        {
                            "major": k.major,
                            "table_uri": k.table_uri,
                            "delta_versions": list(k.delta_versions),
                            "reason": k.reason,
                        }
                        for k in r.kept
                    ],
                }
                for address, r in sorted(report.items())
            }
        )
    else:
        print_table(
            "Catalog versions rebuilt from Delta commits",
            ["product", "versions", "kept"],
            [(a, r.versions, sum(len(k.delta_versions) for k in r.kept)) for a, r in sorted(report.items())],
        )
    for k in kept:
        print(f"warning: {k.reason}", file=sys.stderr)
    return 0


def contract_diff(args: argparse.Namespace) -> int:
    from tessera.model.compat import render_changes
    from tessera.platform.governing.consumer_gate import render_impacts
    from tessera.platform.governing.contracts import diff

    result = diff(Path(args.mesh).resolve(), args.old, args.new)
    if args.json:
        print_json(
            {
                "changes": [
                    {"kind": c.kind, "column": c.column, "what": c.what, "message": c.message}
                    for c in result.changes
                ],
                "consumers": [c.as_dict() for c in result.consumers],
            }
        )
    elif not result.changes:
        print("No changes." + render_impacts(result.consumers))
    else:
        text = render_changes(result.changes) + result.impact + render_impacts(result.consumers)
        console().print(plain(text), markup=False)
    return 1 if result.breaking or result.breaks_consumers else 0
