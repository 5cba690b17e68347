"""new domain, new product: write a domain or a product folder (``tessera.scaffold.new``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from tessera.cli.render import plain

__all__ = ["new"]


def new(args: argparse.Namespace) -> int:
    from tessera.errors import TesseraError
    from tessera.scaffold.new import new_domain, new_product

    root = Path(args.mesh)
    if args.kind == "domain":
        if not args.owner:
            raise TesseraError("tessera new domain NAME needs --owner EMAIL (who answers for the domain)")
        if args.source or args.dbt_model or args.inputs:
            raise TesseraError("--from, --from-dbt and --input are for `tessera new product`")
        written = new_domain(root, args.name, args.owner)
        hint = f"next: tessera new product {args.name}.NAME --from FILE"
    else:
        written = new_product(
            root,
            args.name,
            source=args.source,
            fmt=args.format,
            dbt_model=args.dbt_model,
            inputs=args.inputs or (),
            owner=args.owner,
            manifest=args.manifest,
        )
        hint = "next: tessera apply && " + (
            f"tessera publish {args.name} --from {args.source}"
            if args.source
            else f"tessera build {args.name}"
        )
    for path in written:
        print(f"wrote {plain(_shown(path, root))}")
    print(f"replace the TODOs (tessera validate lists them); {plain(hint)}")
    return 0


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.resolve()))
    except ValueError:
        return str(path)
