"""Governance use cases: the publish gate, the mesh report (``tessera govern``), the policy list and the
policies' own tests (``tessera policy``), and the policy checks ``tessera validate`` adds.

The mesh's policies are read and compiled once and kept while their files are unchanged (keyed by the
content of every policy file and the built-ins switched off), so the gate costs about a millisecond."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tessera.errors import NotFoundError, PolicyViolationError, Problem

if TYPE_CHECKING:
    from tessera.governance import CaseResult, Policy, PolicySet, Violation
    from tessera.model.product import MeshSettings, Product
    from tessera.model.results import QualityRun
    from tessera.platform.context import Context

__all__ = [
    "GovernReport",
    "PolicyTests",
    "gate",
    "govern",
    "list_policies",
    "policy_fingerprint",
    "policy_problems",
    "policy_set",
    "run_policy_tests",
]

_CACHE: dict[tuple[str, tuple[str, ...], str], PolicySet] = {}
_CACHE_SIZE = 16


def _disabled(settings: MeshSettings) -> tuple[str, ...]:
    names = settings.governance.get("disable")
    return tuple(str(n) for n in names) if isinstance(names, list) else ()


def policy_fingerprint(root: Path) -> str:
    """A digest of every file in the mesh's policy folders (policies and their test files)."""
    digest = hashlib.sha256()
    folders = [root / "policies"]
    if (root / "domains").is_dir():
        folders += sorted(d / "policies" for d in (root / "domains").iterdir() if d.is_dir())
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.is_file() and path.suffix in {".yaml", ".yml"}:
                digest.update(path.relative_to(root).as_posix().encode() + b"\0")
                digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def policy_set(settings: MeshSettings) -> PolicySet:
    """The mesh's policies, compiled; raises ``SpecError`` with every problem in every policy file."""
    from tessera.governance import load_policies

    disabled = _disabled(settings)
    key = (str(settings.root), disabled, policy_fingerprint(settings.root))
    found = _CACHE.get(key)
    if found is None:
        found = load_policies(settings.root, disabled)
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = found
    return found


# -- the publish gate ----------------------------------------------------------------------------------------


def gate(ctx: Context, product: Product, run: QualityRun | None = None) -> list[Violation]:
    """Evaluate the global and domain policies on ``product`` (with the quality ``run`` of the publish being
    gated). Any ``error`` violation refuses: ``PolicyViolationError`` lists every violation, and the refusal
    is audited; a pass is audited as a decision with its counts. Returns the (warning, info) violations."""
    from tessera.governance import evaluate, product_document

    policies = policy_set(ctx.settings)
    document = product_document(
        product, ctx.spec.domain(product.domain), ctx.settings, ctx.catalog, quality=run
    )
    violations = evaluate(policies, document)
    errors = [v for v in violations if v.severity == "error"]
    applied = policies.applicable(product.domain)
    details: dict[str, Any] = {
        "policies": len(applied),
        "rules": sum(len(p.rules) for p in applied),
        **_counts(violations),
        "violations": [f"{v.policy}.{v.rule}" for v in violations],
    }
    from tessera.catalog import append_audit

    with ctx.catalog.transaction() as conn:
        action = "policy.refused" if errors else "policy.decision"
        append_audit(conn, ctx.actor, action, product.address, {"outcome": _outcome(errors), **details})
    if errors:
        raise PolicyViolationError(_refusal(product.address, violations), violations)
    return violations


def _outcome(errors: Sequence[Violation]) -> str:
    return "refused" if errors else "passed"


def _counts(violations: Sequence[Violation]) -> dict[str, int]:
    return {s: sum(1 for v in violations if v.severity == s) for s in ("error", "warning", "info")}


def _refusal(address: str, violations: Sequence[Violation]) -> str:
    errors = sum(1 for v in violations if v.severity == "error")
    lines = [
        f"{address}: publish refused by governance ({errors} policy violation{'s' if errors != 1 else ''}):"
    ]
    for v in violations:
        mark = {"error": "✗", "warning": "!", "info": "i"}[v.severity]
        suffix = "" if v.severity == "error" else f" ({v.severity})"
        lines.append(f"  {mark} {v.policy}.{v.rule}: {v.message}{suffix}")
    lines.append(
        "Nothing was published; readers keep the previous version. `tessera govern` shows every product."
    )
    return "\n".join(lines)


# -- tessera govern ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GovernReport:
    products: tuple[str, ...]
    policies: tuple[str, ...]
    violations: tuple[Violation, ...]

    @property
    def counts(self) -> dict[str, int]:
        return _counts(self.violations)

    @property
    def passed(self) -> bool:
        return self.counts["error"] == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "products": len(self.products),
            "policies": list(self.policies),
            "summary": self.counts,
            "violations": [v.as_dict() for v in self.violations],
        }


def govern(ctx: Context, addresses: Sequence[str] = ()) -> GovernReport:
    """Evaluate every policy on every product (or on ``addresses``); the report is audited with its counts."""
    from tessera.governance import CatalogFacts, evaluate, product_document

    spec = ctx.spec
    products = [ctx.product(a) for a in addresses] if addresses else list(spec.products)
    policies = policy_set(spec.settings)
    facts = CatalogFacts.load(ctx.catalog, [p.address for p in products] if addresses else None)
    violations: list[Violation] = []
    for product in products:
        document = product_document(product, spec.domain(product.domain), spec.settings, facts)
        violations.extend(evaluate(policies, document))
    report = GovernReport(
        tuple(p.address for p in products), tuple(p.name for p in policies.policies), tuple(violations)
    )
    subject = addresses[0] if len(addresses) == 1 else "mesh"
    from tessera.catalog import append_audit

    with ctx.catalog.transaction() as conn:
        details = {"outcome": "passed" if report.passed else "violations", "products": len(products)}
        append_audit(conn, ctx.actor, "policy.report", subject, {**details, **report.counts})
    return report


# -- tessera policy list | test ------------------------------------------------------------------------------


def list_policies(settings: MeshSettings) -> list[dict[str, Any]]:
    """Every policy the mesh applies, then the built-ins it switched off or replaced."""
    from tessera.governance import builtin_policies

    policies = policy_set(settings)
    rows = [_row(p, "applied") for p in policies.policies]
    active = {p.name: p for p in policies.policies}
    for builtin in builtin_policies():
        if builtin.name in policies.disabled:
            rows.append(_row(builtin, "disabled in mesh.yaml"))
        elif active.get(builtin.name) is not builtin:
            rows.append(_row(builtin, f"replaced by {active[builtin.name].file}"))
    return rows


def _row(policy: Policy, status: str) -> dict[str, Any]:
    return {
        "name": policy.name,
        "scope": policy.scope,
        "source": policy.source,
        "rules": [r.id for r in policy.rules],
        "tests": len(policy.cases),
        "status": status,
        "description": policy.description,
    }


@dataclass(frozen=True, slots=True)
class PolicyTests:
    results: tuple[CaseResult, ...]
    untested: tuple[str, ...]  # policies without test cases

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)


def run_policy_tests(settings: MeshSettings, names: Sequence[str] = ()) -> PolicyTests:
    """Run the test cases of every policy the mesh applies, or of the ``names`` given (built-ins the mesh
    switched off may be named too)."""
    from tessera.governance import builtin_policies, run_cases

    policies = policy_set(settings)
    chosen: list[Policy] = list(policies.policies)
    if names:
        known = {p.name: p for p in builtin_policies()} | {p.name: p for p in policies.policies}
        missing = [n for n in names if n not in known]
        if missing:
            raise NotFoundError(
                f"no policy {', '.join(map(repr, missing))} in this mesh (known: {', '.join(sorted(known))})"
            )
        chosen = [known[n] for n in names]
    results = tuple(r for p in chosen for r in run_cases(p))
    return PolicyTests(results, tuple(p.name for p in chosen if not p.cases))


# -- tessera validate ----------------------------------------------------------------------------------------


def policy_problems(settings: MeshSettings) -> list[Problem]:
    """What is wrong with the mesh's policies: every loading problem (file:line: key), then every expression
    that fails on the complete sample document (a misspelt field or function, a type mismatch, a non-bool)."""
    from tessera.governance import check_policies, sample_problems

    policies, problems = check_policies(settings.root, _disabled(settings))
    return problems + sample_problems(policies)
