"""``tessera test CONTRACT.odcs.yaml``: a bare contract tested where its data lives, rendered as text, JSON or
JUnit XML. Exit codes: 0 passed (warnings only included), 1 a blocking check failed, 2 the contract was
refused or its data could not be used — then JSON says ``"outcome": "refused"`` with the problems and JUnit
holds one failing test case naming them, so a CI parser always gets a valid document."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tessera.cli.render import count, figure, plain, print_json, print_table

__all__ = ["render_run", "test_contract_file"]


def test_contract_file(args: argparse.Namespace) -> int:
    from tessera.errors import Problem, SpecError, TesseraError
    from tessera.platform.publishing.testing import test_contract
    from tessera.quality.select import Selection

    selection = Selection.of(args.check_id, args.dimension, args.tag)
    try:
        run = test_contract(
            args.target,
            data=args.data,
            server=args.server,
            selection=selection,
            mesh_root=Path(args.mesh) if args.mesh else None,
            strict=args.strict,
            warn=lambda problem: print(plain(str(problem)), file=sys.stderr),
        )
    except TesseraError as exc:
        problems = (
            list(exc.problems) if isinstance(exc, SpecError) else [Problem(args.target, None, "", str(exc))]
        )
        _render_refused(args.target, problems, str(exc), args.output)
        return 2
    _render(run, args.output)
    return 0 if run.passed else 1


def _render_refused(target: str, problems: list[Any], message: str, output: str) -> None:
    if output == "json":
        print_json(
            {
                "outcome": "refused",
                "problems": [
                    {"file": p.file, "line": p.line, "key": p.key, "message": p.message} for p in problems
                ],
                "results": [],
            }
        )
    elif output == "junit":
        from tessera.cli.junit import junit_refused

        print(junit_refused(target, [str(p) for p in problems]))
    print(f"error: {plain(message)}", file=sys.stderr)


def _render(run: Any, output: str) -> None:
    render_run(run, output)
    if output == "text" and run.blocking:
        count = len(run.blocking)
        print(
            f"error: {plain(run.subject)}: {count} check{'s' if count != 1 else ''} failed", file=sys.stderr
        )
        for check in run.blocking:
            print(f"  {plain(check.name)}: {plain(check.message)}", file=sys.stderr)


def render_run(run: Any, output: str) -> None:
    """A quality run as a table, JSON or JUnit XML: ``tessera test`` on a product or on a contract file."""
    if output == "json":
        print_json(run.as_dict())
        return
    if output == "junit":
        from tessera.cli.junit import junit_xml

        print(junit_xml(run))
        return
    rows = [
        (
            ("✓" if c.outcome == "passed" else ("!" if not c.blocking else "✗")),
            c.name,
            figure(c.measured),
            c.threshold,
            c.severity,
            "" if c.outcome == "passed" else c.message,
        )
        for c in run.checks
    ]
    print_table(
        f"Quality of {run.subject}: {run.outcome} ({count(run.row_count)} rows)",
        ["", "check", "measured", "expected", "severity", "message"],
        rows,
    )
