"""init, validate, plan, apply, repair, contract diff."""

from __future__ import annotations

import argparse
from pathlib import Path

from tessera.cli.render import console, print_json, print_table

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
    from tessera.spec import load_mesh
    from tessera.spec.transforms import transform_problems

    spec = load_mesh(args.mesh)
    problems = transform_problems(spec.products)
    if problems:
        raise SpecError(problems)
    summary = {
        "mesh": spec.settings.name,
        "domains": len(spec.domains),
        "products": len(spec.products),
        "valid": True,
    }
    if args.json:
        print_json(summary)
    else:
        print(
            f"✓ {spec.settings.name}: {len(spec.domains)} domains, {len(spec.products)} products, all valid"
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
        counts = mesh.repair()
    if args.json:
        print_json(counts)
    else:
        print_table(
            "Catalog versions rebuilt from Delta commits", ["product", "versions"], sorted(counts.items())
        )
    return 0


def _contract(text: str, mesh_dir: str, *, published: bool) -> object:
    from tessera.spec import load_contract

    if Path(text).is_file():
        return load_contract(text)
    if text.endswith((".yaml", ".yml")) or "/" in text:
        from tessera.errors import NotFoundError

        raise NotFoundError(f"no such contract file: {text}")
    from tessera.platform import Mesh
    from tessera.spec import parse_contract

    with Mesh(mesh_dir) as mesh:
        product = mesh.ctx.product(text.split("@", maxsplit=1)[0])
        if not published:
            return product.contract
        row = mesh.ctx.catalog.last_contract(product.address)
        if row is None:
            from tessera.errors import NotFoundError

            raise NotFoundError(f"{product.address} has no published contract yet")
        return parse_contract(row["document"], path=f"catalog:{product.address}", lines=None)


def contract_diff(args: argparse.Namespace) -> int:
    from tessera.model.compat import diff_contracts, is_breaking, render_changes

    old = _contract(args.old, args.mesh, published=True)
    new = _contract(args.new, args.mesh, published=False)
    changes = diff_contracts(old, new)  # type: ignore[arg-type]
    impact = _impact(args, changes)
    if args.json:
        print_json(
            [{"kind": c.kind, "column": c.column, "what": c.what, "message": c.message} for c in changes]
        )
    elif not changes:
        print("No changes.")
    else:
        console().print(render_changes(changes) + impact, markup=False)
    return 1 if is_breaking(changes) else 0


def _impact(args: argparse.Namespace, changes: object) -> str:
    """Downstream products and columns a breaking change hits, when the contract belongs to a product."""
    address = next((a.split("@")[0] for a in (args.new, args.old) if not Path(a).is_file()), None)
    breaking = [c for c in changes if c.kind == "breaking"]  # type: ignore[attr-defined]
    if address is None or not breaking:
        return ""
    from tessera.platform import Mesh
    from tessera.platform.publish import impact

    with Mesh(args.mesh) as mesh:
        return impact(mesh.ctx, address, breaking)
