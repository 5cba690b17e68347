"""Evaluating policies on product documents. Checks return results; a gate decides from them.

Policies fail closed: a rule whose expression errors on a product (a field that is not there, a function that
does not exist, a type mismatch) or returns anything but a bool is a violation that shows the error, never a
pass. ``sample_problems`` runs every expression on the complete ``SAMPLE_DOCUMENT`` so such mistakes surface
in ``tessera validate``, before any publish; ``run_cases`` runs a policy's own test cases.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tessera.errors import Problem
from tessera.governance.celpy import cel, stdlib
from tessera.governance.policies import Policy, PolicySet, Rule, Severity
from tessera.governance.sample import SAMPLE_DOCUMENT, complete_document

__all__ = [
    "CaseResult",
    "Violation",
    "evaluate",
    "evaluate_policies",
    "run_cases",
    "sample_problems",
]

_ORDER = {"error": 0, "warning": 1, "info": 2}

#: Functions an expression may call: CEL's own (cel-rust) and the extension library registered on every
#: evaluation (``cel.stdlib``: join, lowerAscii, split, math.greatest, ...). Operators and macros (all, exists,
#: exists_one, map, filter, has) are not calls.
_CEL_FUNCTIONS = frozenset(
    {
        "size", "contains", "startsWith", "endsWith", "matches", "int", "uint", "double", "string", "bytes",
        "bool", "timestamp", "duration", "dyn", "type", "max", "min", "getFullYear", "getMonth", "getDate",
        "getDayOfMonth", "getDayOfWeek", "getDayOfYear", "getHours", "getMinutes", "getSeconds",
        "getMilliseconds", "of", "ofNonZeroValue", "none", "hasValue", "value", "or", "orValue",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Violation:
    """One rule a product does not satisfy. ``failed``: the expression could not be evaluated (fail closed)."""

    address: str
    policy: str
    rule: str
    severity: Severity
    message: str
    failed: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "product": self.address,
            "policy": self.policy,
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "failed": self.failed,
        }

    def __str__(self) -> str:
        return f"{self.policy}.{self.rule} ({self.severity}): {self.message}"


def _context(document: Mapping[str, Any]) -> Any:
    context = cel.Context(variables=dict(document))
    stdlib.add_stdlib_to_context(context)
    return context


def _describe(exc: Exception) -> str:
    """The error of a CEL evaluation in one line."""
    if isinstance(exc, KeyError):
        name = exc.args[0] if exc.args else "?"
        return f"no field {name!r} in the product document"
    text = " ".join(str(exc).split()) or type(exc).__name__
    first = text.split(". ", 1)[0].rstrip(".")
    if isinstance(exc, TypeError):
        return f"{first} (a field may be null on this product: guard it, e.g. `x != null && ...`)"
    return first


def _shape(value: Any) -> str:
    if value is None:
        return "null"
    names = {str: "string", int: "int", float: "double", list: "list", dict: "map", bytes: "bytes"}
    name = names.get(type(value), type(value).__name__)
    shown = repr(value)
    return f"{name} ({shown[:40]}{'...' if len(shown) > 40 else ''})"


def _run(program: Any, context: Any) -> tuple[bool | None, str | None]:
    """``(verdict, None)`` for a bool, ``(None, why)`` when the expression fails or is not a bool."""
    try:
        value = program.execute(context)
    except Exception as exc:  # any failure of a policy is a violation, whatever raised it
        return (
            None,
            f"expression failed, so the rule counts as violated (policies fail closed): {_describe(exc)}",
        )
    if isinstance(value, bool):
        return value, None
    return None, f"policy output has the wrong shape: expected bool, got {_shape(value)}"


def _message(rule: Rule, context: Any) -> str:
    fallback = rule.message or f"rule {rule.id} is not satisfied"
    if rule.message_program is None:
        return fallback
    try:
        value = rule.message_program.execute(context)
    except Exception as exc:
        return f"{fallback} (messageExpression failed: {_describe(exc)})"
    if not isinstance(value, str):
        return f"{fallback} (messageExpression gave {_shape(value)}, not a string)"
    return value


def evaluate_policies(
    policies: Iterable[Policy], document: Mapping[str, Any], *, context: Any = None
) -> list[Violation]:
    """Every violation of ``policies`` by one product document, errors first."""
    context = context if context is not None else _context(document)
    address = str(_get(document, "product", "address") or "?")
    out: list[Violation] = []
    for policy in policies:
        if policy.match_program is not None:
            applies, why = _run(policy.match_program, context)
            if why is not None:
                out.append(Violation(address, policy.name, "match", "error", f"match: {why}", failed=True))
                continue
            if not applies:
                continue
        for rule in policy.rules:
            holds, why = _run(rule.program, context)
            if why is not None:
                out.append(Violation(address, policy.name, rule.id, rule.severity, why, failed=True))
            elif not holds:
                out.append(Violation(address, policy.name, rule.id, rule.severity, _message(rule, context)))
    out.sort(key=lambda v: _ORDER[v.severity])
    return out


def evaluate(policy_set: PolicySet, document: Mapping[str, Any]) -> list[Violation]:
    """The violations of one product document: the global policies and its domain's."""
    domain = str(_get(document, "product", "domain") or "")
    return evaluate_policies(policy_set.applicable(domain), document)


def _get(document: Mapping[str, Any], *keys: str) -> Any:
    node: Any = document
    for key in keys:
        node = node.get(key) if isinstance(node, Mapping) else None
    return node


# -- checking policies before they meet a product ------------------------------------------------------------


def sample_problems(policy_set: PolicySet) -> list[Problem]:
    """Every expression evaluated on ``SAMPLE_DOCUMENT`` (every field present): a misspelt field, an unknown
    function, a type mismatch or a non-bool result is a problem at the expression's file and line."""
    context = _context(SAMPLE_DOCUMENT)
    problems: list[Problem] = []
    for policy in policy_set.policies:
        expressions: list[tuple[str, Any, str | None, bool]] = []
        if policy.match_program is not None:
            expressions.append(("match", policy.match_program, policy.match, True))
        for index, rule in enumerate(policy.rules):
            expressions.append((f"rules[{index}].expression", rule.program, rule.expression, True))
            if rule.message_program is not None:
                key = f"rules[{index}].messageExpression"
                expressions.append((key, rule.message_program, rule.message_expression, False))
        for key, program, _source, boolean in expressions:
            problem = _sample_problem(program, context, boolean)
            if problem:
                line = policy.lines.line(_path(key))
                problems.append(Problem(policy.file, line, key, problem))
    return problems


def _path(key: str) -> tuple[str | int, ...]:
    out: list[str | int] = []
    for part in key.replace("]", "").split("."):
        name, _, index = part.partition("[")
        out.append(name)
        if index:
            out.append(int(index))
    return tuple(out)


def _sample_problem(program: Any, context: Any, boolean: bool) -> str | None:
    unknown = sorted(
        f
        for f in program.functions()
        if f[:1].isalpha() and f not in _CEL_FUNCTIONS and not _stdlib_has(f, context)
    )
    if unknown:
        return f"unknown function {', '.join(map(repr, unknown))} (not a CEL function or extension)"
    try:
        value = program.execute(context)
    except Exception as exc:
        return f"fails on the sample product document: {_describe(exc)}"
    if boolean and not isinstance(value, bool):
        return f"policy output has the wrong shape: expected bool, got {_shape(value)}"
    if not boolean and not isinstance(value, str):
        return f"messageExpression must give a string, got {_shape(value)}"
    return None


def _stdlib_has(name: str, context: Any) -> bool:
    registered = context.functions
    return name in registered or any(f.endswith(f".{name}") for f in registered)


# -- a policy's own test cases -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CaseResult:
    policy: str
    case: str
    expected: tuple[str, ...]
    actual: tuple[str, ...]
    violations: tuple[Violation, ...]

    @property
    def passed(self) -> bool:
        return set(self.expected) == set(self.actual)

    @property
    def missing(self) -> tuple[str, ...]:
        """Expected to be violated, but passed."""
        return tuple(sorted(set(self.expected) - set(self.actual)))

    @property
    def unexpected(self) -> tuple[str, ...]:
        """Violated, but not expected."""
        return tuple(sorted(set(self.actual) - set(self.expected)))

    def as_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "case": self.case,
            "passed": self.passed,
            "expected": list(self.expected),
            "actual": list(self.actual),
            "missing": list(self.missing),
            "unexpected": list(self.unexpected),
            "violations": [v.as_dict() for v in self.violations],
        }


def run_cases(policy: Policy) -> list[CaseResult]:
    """Each test case's document completed over the sample, evaluated on this policy alone."""
    results: list[CaseResult] = []
    for case in policy.cases:
        violations = evaluate_policies([policy], complete_document(case.document))
        actual = tuple(sorted({v.rule for v in violations}))
        results.append(
            CaseResult(policy.name, case.name, tuple(sorted(case.expect)), actual, tuple(violations))
        )
    return results
