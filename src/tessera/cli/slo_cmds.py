"""slo: the SLOs of every product, or one, with their error budgets (docs/governance.md, "SLOs and error
budgets")."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from tessera.cli.render import print_json, print_table

if TYPE_CHECKING:
    from tessera.monitoring.slo import SloReport

__all__ = ["slo"]


def _percent(value: float | None, digits: int = 2) -> str:
    return "" if value is None else f"{value * 100:.{digits}f}%"


def _left(report: SloReport) -> str:
    """What is left of the budget, as a share and in time or attempts."""
    amount = report.budget_left
    if report.objective.basis == "events":
        text = f"{amount:.2f} attempts"
    else:
        hours = amount / 3600
        text = (
            f"{hours:.1f}h"
            if abs(hours) >= 1
            else f"{amount / 60:.0f}m"
            if abs(amount) >= 60
            else f"{amount:.0f}s"
        )
    return f"{_percent(report.budget_remaining, 1)} ({text})"


def slo(args: argparse.Namespace) -> int:
    from tessera.platform import Mesh

    with Mesh(args.mesh) as mesh:
        summary = mesh.slo(args.product, window=args.window)
    if args.json:
        print_json(summary.as_dict())
        return 0
    short = "1h"
    print_table(
        f"SLOs over {summary.as_dict()['window']} to {summary.now:%Y-%m-%d %H:%M} UTC",
        ["product", "slo", "objective", "attainment", "budget left", "burn rate", f"burn {short}", "note"],
        [
            (
                r.address,
                r.slo,
                _percent(r.objective.target),
                _percent(r.attainment) if r.attainment is not None else "no data",
                _left(r),
                f"{r.burn_rate:.2f}",
                f"{r.burn_rates[short]:.2f}" if short in r.burn_rates else "",
                r.objective.note or "",
            )
            for r in summary.reports
        ],
    )
    return 0
