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
    blocker: str | None
    if args.kind == "domain":
        if not args.owner:
            raise TesseraError("tessera new domain NAME needs --owner EMAIL (who answers for the domain)")
        if args.source or args.dbt_model or args.inputs:
            raise TesseraError("--from, --from-dbt and --input are for `tessera new product`")
        written = new_domain(root, args.name, args.owner)
        hint = f"next: tessera new product {args.name}.NAME --from FILE"
        blocker = None
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
        blocker = _retention_missing(written)
        if blocker:
            hint = f"then add the retention, and {hint.removeprefix('next: ')}"
    for path in written:
        print(f"wrote {plain(_shown(path, root))}")
    if blocker:
        print(f"warning: {plain(blocker)}")
    print(f"replace the TODOs (tessera validate lists them); {plain(hint)}")
    return 0


def _retention_missing(written: list[Path]) -> str | None:
    """Why the first publish will be refused although every file was written: sensitive columns and no time
    column to declare their retention on (the gdpr_compliance policy), or None."""
    from tessera.errors import TesseraError
    from tessera.spec.contract import load_contract

    path = next((p for p in written if p.name == "contract.odcs.yaml"), None)
    if path is None:
        return None
    try:
        contract = load_contract(path)
    except TesseraError:
        return None
    if not contract.sensitive_columns or contract.sla_property("retention") is not None:
        return None
    columns = ", ".join(sorted(contract.sensitive_columns))
    return (
        f"{columns} look personal and the data has no date or timestamp column to keep a retention on: the "
        "gdpr_compliance policy refuses the first publish until contract.odcs.yaml declares slaProperties "
        "{property: retention, value: 7, unit: y, element: <table>.<time column>} (add a time column to the "
        "data), or the columns are classified as not personal"
    )


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.resolve()))
    except ValueError:
        return str(path)
