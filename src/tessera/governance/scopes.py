"""The mesh's policies and their scopes: the built-in library, ``policies/*.yaml`` (global) and
``domains/<d>/policies/*.yaml`` (that domain only).

Built-ins apply globally unless mesh.yaml ``governance.disable`` names them; a global policy file with a
built-in's name replaces it. A domain's policies add rules: one that takes a global policy's name (or carries a
switch such as ``disable``) does not load, for domain policies may not switch a global rule off. Names are
unique across the mesh.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from importlib.resources import files
from pathlib import Path

from tessera.errors import Problem, SpecError
from tessera.governance.policies import SWITCH_OFF, Policy, PolicySet, read_policy
from tessera.spec.bounds import read_text

__all__ = ["builtin_policies", "check_policies", "load_policies", "policy_files"]


class _Unreadable(Exception):
    """A policy file or its tests that cannot be read (too big, not UTF-8, unreadable): its problems."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(map(str, problems)))
        self.problems = problems


def _is_policy(path: Path) -> bool:
    return path.suffix in {".yaml", ".yml"} and not path.name.endswith((".tests.yaml", ".tests.yml"))


def policy_files(root: Path) -> list[tuple[Path, str | None]]:
    """Every policy file of the mesh with its domain (None: global), global ones first."""
    found: list[tuple[Path, str | None]] = []
    folders: list[tuple[Path, str | None]] = [(root / "policies", None)]
    domains = root / "domains"
    if domains.is_dir():
        folders += [(d / "policies", d.name) for d in sorted(domains.iterdir()) if d.is_dir()]
    for folder, domain in folders:
        if folder.is_dir():
            found.extend((p, domain) for p in sorted(folder.iterdir()) if p.is_file() and _is_policy(p))
    return found


def _tests(path: Path, root: Path) -> tuple[str, str] | None:
    """The sibling test file of a policy file (``NAME.tests.yaml``), as ``(file, text)``."""
    for suffix in (".tests.yaml", ".tests.yml"):
        sibling = path.with_name(path.name.rsplit(".", 1)[0] + suffix)
        if sibling.is_file():
            file = sibling.relative_to(root).as_posix()
            text, problems = read_text(sibling, file)
            if text is None:
                raise _Unreadable(problems)
            return file, text
    return None


@functools.cache
def builtin_policies() -> tuple[Policy, ...]:
    """The built-in library shipped in ``tessera/governance/library/``, compiled once per process."""
    out: list[Policy] = []
    folder = files("tessera.governance").joinpath("library")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml") or entry.name.endswith(".tests.yaml"):
            continue
        policy, problems = read_policy(
            entry.read_text(encoding="utf-8"), f"built-in:{entry.name}", builtin=True
        )
        if problems or policy is None:  # a packaging mistake, not a user's: say so loudly
            raise SpecError(problems)
        out.append(policy)
    return tuple(out)


def check_policies(root: Path, disabled: Sequence[str] = ()) -> tuple[PolicySet, list[Problem]]:
    """Read every policy of the mesh at ``root``; the policies that could be read, and every problem."""
    builtins = {p.name: p for p in builtin_policies()}
    problems: list[Problem] = []
    for index, name in enumerate(disabled):
        if name not in builtins:
            known = ", ".join(sorted(builtins))
            problems.append(
                Problem(
                    "mesh.yaml",
                    None,
                    f"governance.disable[{index}]",
                    f"no built-in policy {name!r}; built-ins: {known}",
                )
            )
    own: list[Policy] = []
    names: dict[str, str] = {}
    for path, domain in policy_files(root):
        file = path.relative_to(root).as_posix()
        try:
            text, found = read_text(path, file)
            if text is None:
                raise _Unreadable(found)
            tests = _tests(path, root)
        except _Unreadable as exc:
            problems += exc.problems
            continue
        policy, found = read_policy(text, file, domain=domain, tests=tests)
        problems += found
        if policy is None:
            continue
        clash = _clash(policy, names, builtins)
        if clash:
            problems.append(Problem(file, policy.lines.line(("name",)), "name", clash))
            continue
        names[policy.name] = file
        own.append(policy)
    replaced = {p.name for p in own if p.domain is None}
    kept = [p for p in builtins.values() if p.name not in replaced and p.name not in disabled]
    policies = tuple(kept + [p for p in own if p.domain is None] + [p for p in own if p.domain is not None])
    return PolicySet(policies, tuple(n for n in disabled if n in builtins)), problems


def _clash(policy: Policy, names: Mapping[str, str], builtins: Mapping[str, Policy]) -> str | None:
    if policy.domain is not None and (policy.name in builtins or _is_global(names, policy.name)):
        return (
            f"{SWITCH_OFF}: {policy.name!r} is a global policy; give this domain policy a name of its own "
            "(its rules add to the global ones)"
        )
    if policy.name in names:
        return f"policy name {policy.name!r} is already taken by {names[policy.name]}; names are unique"
    return None


def _is_global(names: Mapping[str, str], name: str) -> bool:
    return name in names and names[name].startswith("policies/")


def load_policies(root: Path, disabled: Sequence[str] = ()) -> PolicySet:
    """Every policy of the mesh at ``root``, compiled; raises ``SpecError`` with every problem."""
    policies, problems = check_policies(root, disabled)
    if problems:
        raise SpecError(problems)
    return policies
