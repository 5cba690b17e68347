"""erase, govern --fix: the right to erasure and retention remediation."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tessera.cli.render import console, print_json, print_table

if TYPE_CHECKING:
    from tessera.platform.remediation.remediate import RetentionFix

__all__ = ["erase", "fix", "print_fixes"]


def _versions(versions: list[int] | tuple[int, ...]) -> str:
    return ", ".join(f"v{v}" for v in versions) or "-"


def erase(args: argparse.Namespace) -> int:
    """``tessera erase --subject KEY=VALUE [--dry-run]``: every product holding the subject, per major."""
    from tessera.governance.erasure import Subject
    from tessera.platform import Mesh

    subject = Subject.parse(args.subject)  # a malformed subject fails before the mesh is opened
    with Mesh(args.mesh) as mesh:
        report = mesh.erase(subject, dry_run=args.dry_run)
    if args.json:
        print_json(report.as_dict())
        return 0
    verb = "would remove" if report.dry_run else "rows removed"
    print_table(
        f"Erasure of {subject.key} (value sha256 {subject.digest[:12]}…)",
        ["product", "major", "columns", verb, "new versions", "files removed", "notes"],
        [
            (
                e.address,
                e.major,
                ", ".join(e.columns),
                e.rows_deleted,
                _versions(e.versions),
                e.files_removed,
                "; ".join(e.notes),
            )
            for e in report.tables
        ],
    )
    if report.plan.derived:
        print_table(
            "Derived from the key (nothing deleted there)",
            ["product", "via", "kind", "note"],
            [(d.address, d.via, d.kind, d.note) for d in report.plan.derived],
        )
    out = console()
    for source in report.plan.sources:
        out.print(f"! source {source} holds the key: erase the subject there too", markup=False)
    samples = f"; {report.samples_removed} quality sample(s)" if report.samples_removed else ""
    products = len({e.address for e in report.tables})
    if report.dry_run:
        out.print(
            f"dry run: {report.rows_deleted} row(s) in {products} product(s) would be erased{samples}; "
            "nothing was changed",
            markup=False,
        )
    else:
        out.print(f"✓ erased {report.rows_deleted} row(s) in {products} product(s){samples}", markup=False)
    return 0


def fix(args: argparse.Namespace) -> int:
    """``tessera govern --fix``: apply retention to the products given (default: all) and print what it did."""
    from tessera.platform import Mesh

    with Mesh(args.mesh) as mesh:
        fixes = mesh.apply_retention(list(args.products or []))
    if args.json:
        print_json([f.as_dict() for f in fixes])
        return 0
    print_fixes(fixes)
    return 0


def print_fixes(fixes: Sequence[RetentionFix]) -> None:
    """The retention table: one row per product major with what was deleted and vacuumed."""
    headers = [
        "product",
        "major",
        "status",
        "retention",
        "cutoff",
        "rows deleted",
        "version",
        "files removed",
    ]
    print_table(
        "Retention",
        [*headers, "note"],
        [
            (
                f.address,
                "" if f.major is None else f.major,
                f.status,
                f.rule or "",
                f"{f.cutoff:%Y-%m-%d %H:%M}" if f.cutoff else "",
                f.rows_deleted if f.status != "skipped" else "",
                f"v{f.version}" if f.version is not None else "",
                f.files_removed if f.status != "skipped" else "",
                f.reason,
            )
            for f in fixes
        ],
    )
