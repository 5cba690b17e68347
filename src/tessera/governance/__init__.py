"""Governance gate: global and domain policies (CEL rules in YAML) evaluated on a product before it publishes.

Policy evaluation is not built in this release. The gate is wired into the publish path now: with no policy
files in the mesh it has nothing to decide; with policy files present it refuses clearly rather than pretend
they passed (policies fail closed)."""

from __future__ import annotations

from pathlib import Path

from tessera.errors import NotImplementedYetError

__all__ = ["gate", "policy_files"]


def policy_files(root: Path, domain: str) -> list[Path]:
    """Global policies (``policies/*.yaml``) and the domain's (``domains/<d>/policies/*.yaml``)."""
    found: list[Path] = []
    for folder in (root / "policies", root / "domains" / domain / "policies"):
        if folder.is_dir():
            found.extend(sorted(p for p in folder.iterdir() if p.suffix in {".yaml", ".yml"}))
    return found


def gate(root: Path, domain: str, address: str) -> None:
    files = policy_files(root, domain)
    if files:
        names = ", ".join(str(p.relative_to(root)) for p in files)
        raise NotImplementedYetError(
            f"{address}: the mesh declares policies ({names}) but policy evaluation is not available in this "
            "release; remove them or wait for governance support — Tessera will not publish as if they passed"
        )
