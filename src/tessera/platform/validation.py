"""``tessera validate``: every problem of a mesh folder (or one contract file) at once, warnings apart.

A mesh's problems are its files' (``tessera.spec``), its transforms', its policy files', and the violations of
every policy rule that needs no data: rules that read neither the quality run nor the grants are evaluated on
each product that loaded, so a publish is not the first to say that a product has no owner. Warnings (what
others' tools write that the standards refuse, a policy rule of severity warning) refuse nothing; with
``strict`` the standards' warnings are errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tessera.errors import Problem, SpecError

if TYPE_CHECKING:
    from tessera.governance import Policy
    from tessera.model.product import MeshSpec

__all__ = ["Validation", "policy_violations", "validate_contract", "validate_mesh"]

#: A rule that reads one of these fields of the product document needs data (a quality run, live grants):
#: ``tessera validate`` leaves it to the publish gate and ``tessera govern``.
_NEEDS_DATA = re.compile(r"\b(?:quality|grants)\b")


@dataclass(frozen=True, slots=True)
class Validation:
    """What ``tessera validate`` found: ``subject`` (the mesh's name or the contract file), the errors and the
    warnings (each a ``Problem`` with its file:line:key), and counts of what was read."""

    subject: str
    errors: tuple[Problem, ...]
    warnings: tuple[Problem, ...]
    domains: int = 0
    products: int = 0

    @property
    def valid(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "mesh": self.subject,
            "domains": self.domains,
            "products": self.products,
            "valid": self.valid,
            "problems": [_problem(p) for p in self.errors],
            "warnings": [_problem(p) for p in self.warnings],
        }


def _problem(p: Problem) -> dict[str, Any]:
    return {"file": p.file, "line": p.line, "key": p.key, "message": p.message, "severity": p.severity}


def validate_mesh(root: str | Path | None, *, strict: bool = False) -> Validation:
    """Every problem of the mesh in ``root``. Problems in mesh.yaml or a domain.yaml stop the walk (raised as
    ``SpecError``); problems in a product's files do not stop the other products' policy checks."""
    from tessera.platform.govern import policy_problems
    from tessera.spec import load_mesh
    from tessera.spec.todos import todo_notes
    from tessera.spec.transforms import transform_problems

    where = root if root is not None else "."
    problems: list[Problem] = []
    try:
        spec = load_mesh(where, strict=strict)
    except SpecError as exc:
        problems = list(exc.problems)
        try:
            spec = load_mesh(where, strict=strict, partial=True)  # the products that did load
        except SpecError:
            raise exc from None
    problems += transform_problems(spec.products, settings=spec.settings)
    found = policy_problems(spec.settings)
    problems += found
    if not found:
        problems += policy_violations(spec)
    problems += [replace(note, severity="warning") for note in todo_notes(spec)]
    return Validation(
        subject=spec.settings.name,
        errors=tuple(_ordered(p for p in problems if p.is_error)),
        warnings=tuple(_ordered([*spec.warnings, *(p for p in problems if not p.is_error)])),
        domains=len(spec.domains),
        products=len(spec.products),
    )


def validate_contract(path: str | Path, *, strict: bool = False) -> Validation:
    """One ODCS file as the standard reads it (outside any mesh): its errors and warnings."""
    from tessera.spec.contract import check_contract
    from tessera.spec.yaml_lines import read_yaml

    file = str(path)
    if not Path(path).is_file():
        raise SpecError([Problem(file, None, "", "no such file")])
    doc, lines, problems = read_yaml(Path(path), file)
    if not problems:
        _, problems = check_contract(doc, path=file, lines=lines)
    if strict:
        problems = [replace(p, severity="error") for p in problems]
    return Validation(
        subject=file,
        errors=tuple(p for p in problems if p.is_error),
        warnings=tuple(p for p in problems if not p.is_error),
    )


def policy_violations(spec: MeshSpec) -> list[Problem]:
    """The violations of every policy rule that needs no data, on every product of ``spec``, each as a problem
    of the product's file (warnings for rules of severity warning or info)."""
    from tessera.governance import evaluate_policies, product_document
    from tessera.platform.govern import policy_set

    policies = policy_set(spec.settings)
    out: list[Problem] = []
    for product in spec.products:
        chosen = [p for p in map(_without_data, policies.applicable(product.domain)) if p is not None]
        document = product_document(product, spec.domain(product.domain), spec.settings)
        file = f"{product.path}/product.odps.yaml" if product.path else product.address
        for violation in evaluate_policies(chosen, document):
            key = f"policy {violation.policy}.{violation.rule}"
            problem = Problem(file, None, key, violation.message)
            out.append(problem if violation.severity == "error" else replace(problem, severity="warning"))
    return out


def _without_data(policy: Policy) -> Policy | None:
    """``policy`` with only its rules that need no data; None when none is left or its match needs data."""
    if policy.match and _NEEDS_DATA.search(policy.match):
        return None
    rules = tuple(
        r for r in policy.rules if not _NEEDS_DATA.search(f"{r.expression}\n{r.message_expression or ''}")
    )
    return replace(policy, rules=rules) if rules else None


def _ordered(problems: Any) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.file, p.line or 0))
