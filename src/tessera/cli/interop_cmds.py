"""``tessera import`` and ``tessera export``: parse, call ``tessera.interop``, write (docs/interop.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["export_", "import_"]


def import_(args: argparse.Namespace) -> int:
    from tessera.errors import FormatError
    from tessera.interop import ImportOptions, import_source
    from tessera.interop.files import write_all
    from tessera.interop.odcs import dump_yaml
    from tessera.interop.product import product_files

    if args.format != "postgres":
        from tessera.interop.detect import refuse_mesh_data

        refuse_mesh_data(args.source, args.mesh)
    options = ImportOptions(
        name=args.name, dialect=args.dialect, table=args.table, model=args.model, domain=args.domain
    )
    try:
        imported = import_source(args.format, args.source, options)
        for item in imported:
            _check(item.contract, args.source)
    except RecursionError:  # a hostile or broken file: JSON or YAML nested thousands of levels deep
        raise FormatError(f"{args.source}: nested too deeply to read as {args.format}") from None
    except UnicodeDecodeError as exc:  # binary content where text was named
        raise FormatError(
            f"{args.source}: not UTF-8 text (byte {exc.start}), so not a {args.format} file"
        ) from None
    if args.product:
        if not args.output:
            raise FormatError("--product writes a product folder: name it with -o DIR")
        files = product_files(imported, Path(args.output), domain=args.domain, owner=args.owner)
    else:
        if len(imported) != 1:
            names = ", ".join(i.name for i in imported)
            raise FormatError(
                f"{args.source} holds {len(imported)} models ({names}): pick one with --model, or write every "
                "one as a product with --product -o DIR"
            )
        text = dump_yaml(imported[0].contract)
        if not args.output:
            _notes(imported)
            sys.stdout.write(text)
            return 0
        files = {Path(args.output): text}
    write_all(files)
    _notes(imported)
    for path in files:
        print(f"wrote {path}", file=sys.stderr)
    return 0


def _check(contract: dict[str, Any], source: str) -> None:
    """An imported contract loads at the standard's level, or the import fails without writing."""
    from tessera.errors import SpecError
    from tessera.spec.contract import check_contract

    _, problems = check_contract(contract, path=f"(imported from {source})")
    if problems:
        raise SpecError(problems)


def _notes(imported: list[Any]) -> None:
    from tessera.cli.render import plain

    for item in imported:
        for note in item.notes:
            print(f"note: {plain(note)}", file=sys.stderr)


def export_(args: argparse.Namespace) -> int:
    from tessera.cli.render import plain
    from tessera.errors import FormatError, LossyExportError
    from tessera.interop import EXPORTERS, ExportOptions, export_contract
    from tessera.interop.files import write_all
    from tessera.spec.contract import load_contract

    if args.format not in EXPORTERS:
        known = ", ".join(sorted(EXPORTERS))
        raise FormatError(f"unknown export format {args.format!r}: the formats are {known}")
    contract = load_contract(args.contract)
    exported = export_contract(args.format, dict(contract.document), ExportOptions(dialect=args.dialect))
    if exported.dropped:
        listed = "; ".join(exported.dropped[:12]) + (
            f"; and {len(exported.dropped) - 12} more" if len(exported.dropped) > 12 else ""
        )
        message = f"{args.format} cannot express these fields of {args.contract}: {listed}"
        if not args.lossy:
            raise LossyExportError(
                f"{message}. Nothing written; --lossy writes the file without them", exported.dropped
            )
        print(f"warning: {plain(message)} (left out: --lossy)", file=sys.stderr)
    if args.output:
        write_all({Path(args.output): exported.text})
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(exported.text)
    return 0
