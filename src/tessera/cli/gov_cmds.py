"""govern, policy list|test: policies as code, evaluated over the mesh."""

from __future__ import annotations

import argparse

from tessera.cli.render import console, print_json, print_table

__all__ = ["govern", "policy"]


def govern(args: argparse.Namespace) -> int:
    """Every policy on every product (or the ADDRESSes): a report, exit 1 on any error violation."""
    from tessera.platform import Mesh

    fixes = None
    with Mesh(args.mesh) as mesh:
        if args.fix:
            fixes = mesh.apply_retention(list(args.products or []))
        report = mesh.govern(args.products or ())
    if args.json:
        document = report.as_dict()
        if fixes is not None:
            document["fixes"] = [f.as_dict() for f in fixes]
        print_json(document)
        return 0 if report.passed else 1
    if fixes is not None:
        from tessera.cli.remediate_cmds import print_fixes

        print_fixes(fixes)
    if args.json:
        print_json(report.as_dict())
        return 0 if report.passed else 1
    counts = report.counts
    if report.violations:
        print_table(
            "Policy violations",
            ["product", "policy", "rule", "severity", "message"],
            [(v.address, v.policy, v.rule, v.severity, v.message) for v in report.violations],
        )
    affected = len({v.address for v in report.violations if v.severity == "error"})
    summary = (
        f"{_n(len(report.products), 'product')}, {_n(len(report.policies), 'policy', 'policies')}: "
        f"{_n(counts['error'], 'error')} in {_n(affected, 'product')}, {_n(counts['warning'], 'warning')}, "
        f"{counts['info']} info"
    )
    if report.passed:
        console().print(f"✓ {summary}", markup=False)
        return 0
    console().print(f"✗ {summary}", markup=False)
    return 1


def policy(args: argparse.Namespace) -> int:
    """``policy list``: the policies the mesh applies; ``policy test [NAME...]``: their own test cases."""
    from tessera.platform.governing.govern import list_policies, run_policy_tests
    from tessera.spec import load_settings

    settings = load_settings(args.mesh)
    if args.action == "list":
        rows = list_policies(settings)
        if args.names:
            rows = [r for r in rows if r["name"] in set(args.names)]
        if args.json:
            print_json(rows)
        else:
            print_table(
                "Policies",
                ["name", "scope", "source", "rules", "tests", "status"],
                [
                    (r["name"], r["scope"], r["source"], ", ".join(r["rules"]), r["tests"], r["status"])
                    for r in rows
                ],
            )
        return 0
    outcome = run_policy_tests(settings, args.names)
    if args.json:
        print_json(
            {
                "passed": outcome.passed,
                "cases": [r.as_dict() for r in outcome.results],
                "untested": list(outcome.untested),
            }
        )
        return 0 if outcome.passed else 1
    out = console()
    for result in outcome.results:
        mark = "✓" if result.passed else "✗"
        out.print(f"{mark} {result.policy}: {result.case}", markup=False)
        if not result.passed:
            out.print(f"    expected: {_ids(result.expected)}", markup=False)
            out.print(f"    actual:   {_ids(result.actual)}", markup=False)
            for rule in result.missing:
                out.print(f"    - {rule}: expected to be violated, but passed", markup=False)
            for violation in result.violations:
                if violation.rule in result.unexpected:
                    out.print(f"    + {violation.rule}: {violation.message}", markup=False)
    for name in outcome.untested:
        out.print(f"- {name}: no test cases", markup=False)
    failed = sum(1 for r in outcome.results if not r.passed)
    total = len(outcome.results)
    out.print(f"{total - failed} of {total} policy test cases passed", markup=False)
    return 1 if failed else 0


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _ids(ids: tuple[str, ...]) -> str:
    return "[" + ", ".join(ids) + "]"
