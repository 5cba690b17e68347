"""Policies as code: YAML files of CEL rules, read, checked and compiled once.

One policy per file (the shape of a Kubernetes ValidatingAdmissionPolicy)::

    name: gdpr_compliance                 # unique across the mesh
    description: ...
    match: "product.domain != 'sandbox'"  # optional CEL condition: false -> the policy does not apply
    rules:
      - id: pii_classified
        severity: error                   # error (refuses a publish) | warning | info
        expression: "columns.all(c, !c.looksPersonal || c.classification != null)"
        message: "..."                    # or messageExpression: a CEL string built from the document
    tests:                                # optional (or a sibling NAME.tests.yaml): documents and the rule ids
      - name: ...                         # they are expected to violate
        document: {...}
        expect: [pii_classified]

Every problem names its file, line and key; CEL syntax errors also the line and column in the expression.
Which files apply where (the scopes) is ``tessera.governance.scopes``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from tessera.errors import Problem
from tessera.governance.celpy import cel
from tessera.spec.yaml_lines import KeyPath, LineMap, Report, key_path, parse_yaml

__all__ = [
    "SEVERITIES",
    "SWITCH_OFF",
    "Policy",
    "PolicyCase",
    "PolicySet",
    "Rule",
    "Severity",
    "read_policy",
]

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_CEL_POSITION = re.compile(r"<input>:(\d+):(\d+):\s*(.*)")
_POLICY_KEYS = ("name", "description", "match", "rules", "tests")
_RULE_KEYS = ("id", "severity", "expression", "message", "messageExpression")
_CASE_KEYS = ("name", "document", "expect")
_SWITCHES = frozenset({"disable", "disabled", "enabled", "override", "overrides", "replaces", "scope"})
SWITCH_OFF = "domain policies may not switch a global rule off"


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    severity: Severity
    expression: str
    program: Any  # cel.Program
    message: str | None = None
    message_expression: str | None = None
    message_program: Any = None
    line: int | None = None


@dataclass(frozen=True, slots=True)
class PolicyCase:
    """One test case: a (partial) product document and the rule ids it is expected to violate."""

    name: str
    document: Mapping[str, Any]
    expect: tuple[str, ...]
    file: str
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    rules: tuple[Rule, ...]
    file: str  # relative to the mesh root, or ``built-in:<name>.yaml``
    description: str | None = None
    domain: str | None = None  # None: global
    builtin: bool = False
    match: str | None = None
    match_program: Any = None
    cases: tuple[PolicyCase, ...] = ()
    lines: LineMap = field(default_factory=LineMap, repr=False, compare=False)

    @property
    def scope(self) -> str:
        return "global" if self.domain is None else f"domain:{self.domain}"

    @property
    def source(self) -> str:
        return "built-in" if self.builtin else self.file


@dataclass(frozen=True, slots=True)
class PolicySet:
    """The policies of one mesh: the built-ins it keeps, its global files, and each domain's."""

    policies: tuple[Policy, ...] = ()
    #: Built-ins switched off in mesh.yaml (``governance.disable``).
    disabled: tuple[str, ...] = ()

    def applicable(self, domain: str) -> tuple[Policy, ...]:
        """The global policies and ``domain``'s own."""
        return tuple(p for p in self.policies if p.domain is None or p.domain == domain)

    def named(self, name: str) -> Policy | None:
        return next((p for p in self.policies if p.name == name), None)


# -- reading one file ----------------------------------------------------------------------------------------


def read_policy(
    text: str,
    file: str,
    *,
    domain: str | None = None,
    builtin: bool = False,
    tests: tuple[str, str] | None = None,
) -> tuple[Policy | None, list[Problem]]:
    """Read, check and compile one policy file; ``tests`` is its sibling ``NAME.tests.yaml`` as ``(file,
    text)``, if any. Returns the policy (None when it cannot be used) and every problem found."""
    doc, lines, problems = parse_yaml(text, file)
    if problems:
        return None, problems
    report = Report(file, lines)
    if not isinstance(doc, dict):
        report.add((), "a policy must be a mapping: name, rules (and description, match, tests)")
        return None, report.problems
    _unknown_keys(doc, (), _POLICY_KEYS, report, domain)
    name = doc.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        what = "missing name" if name is None else f"name {name!r} is not lower snake_case ([a-z][a-z0-9_]*)"
        report.add(("name",), f"{what}: every policy has a name, unique across the mesh")
    description = doc.get("description")
    if description is not None and not isinstance(description, str):
        report.add(("description",), "description must be text")
    match_text, match_program = _expression(doc, ("match",), text, report, required=False)
    rules = _rules(doc.get("rules"), text, report)
    cases = _cases(doc.get("tests"), ("tests",), report, {r.id for r in rules})
    if tests is not None:
        cases += _sibling_cases(tests[1], tests[0], {r.id for r in rules}, report.problems)
    if report.problems:
        return None, report.problems
    policy = Policy(
        name=cast(str, name),
        rules=rules,
        file=file,
        description=description,
        domain=domain,
        builtin=builtin,
        match=match_text,
        match_program=match_program,
        cases=cases,
        lines=lines,
    )
    return policy, []


def _unknown_keys(
    doc: Mapping[str, Any], path: KeyPath, known: Sequence[str], report: Report, domain: str | None = None
) -> None:
    for key in doc:
        if key in known:
            continue
        if domain is not None and not path and key in _SWITCHES:
            report.add((key,), f"{SWITCH_OFF}: {key!r} has no place in a domain policy")
            continue
        close = difflib.get_close_matches(str(key), known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else f"; expected one of: {', '.join(known)}"
        report.add((*path, key), f"unknown key {key!r}{hint}")


def _rules(items: Any, text: str, report: Report) -> tuple[Rule, ...]:
    if not isinstance(items, list) or not items:
        report.add(("rules",), "a policy needs rules: a list of {id, severity, expression, message}")
        return ()
    out: list[Rule] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        path: KeyPath = ("rules", index)
        if not isinstance(item, dict):
            report.add(path, "a rule is a mapping: id, severity, expression, message or messageExpression")
            continue
        before = len(report.problems)
        _unknown_keys(item, path, _RULE_KEYS, report)
        rule_id = item.get("id")
        if not isinstance(rule_id, str) or not _NAME.match(rule_id):
            what = "missing id" if rule_id is None else f"id {rule_id!r} is not lower snake_case"
            report.add((*path, "id"), f"{what}: each rule has an id, unique in its policy")
        elif rule_id in seen:
            report.add((*path, "id"), f"duplicate rule id {rule_id!r}")
        seen.add(rule_id if isinstance(rule_id, str) else "")
        severity = item.get("severity", "error")
        if severity not in SEVERITIES:
            report.add((*path, "severity"), f"severity {severity!r} is not one of: {', '.join(SEVERITIES)}")
        expression, program = _expression(item, (*path, "expression"), text, report, required=True)
        message = item.get("message")
        if message is not None and not isinstance(message, str):
            report.add((*path, "message"), "message must be text")
        template, message_program = _expression(
            item, (*path, "messageExpression"), text, report, required=False
        )
        if message is None and template is None:
            report.add(path, "a rule needs message or messageExpression: what is wrong and how to fix it")
        if len(report.problems) == before:
            out.append(
                Rule(
                    id=rule_id,  # type: ignore[arg-type]
                    severity=severity,
                    expression=expression or "",
                    program=program,
                    message=message,
                    message_expression=template,
                    message_program=message_program,
                    line=report.lines.line(path),
                )
            )
    return tuple(out)


def _expression(
    doc: Mapping[str, Any], path: KeyPath, text: str, report: Report, *, required: bool
) -> tuple[str | None, Any]:
    key = path[-1]
    value = doc.get(str(key))
    if value is None:
        if required:
            report.add(path[:-1], f"missing {key}: a CEL expression over the product document")
        return None, None
    if not isinstance(value, str) or not value.strip():
        report.add(path, f"{key} must be a CEL expression (text)")
        return None, None
    try:
        return value, cel.compile(value)
    except (ValueError, RuntimeError, TypeError) as exc:  # what cel.compile raises on bad CEL
        line, column, detail = _syntax_error(str(exc))
        file_line = _file_line(text, path, line) or report.lines.line(path)
        report.problems.append(
            Problem(
                report.file,
                file_line,
                key_path(path),
                f"CEL does not parse (line {line}, column {column} of the expression): {detail}",
            )
        )
        return None, None


def _syntax_error(message: str) -> tuple[int, int, str]:
    """``(line, column, what)`` of a CEL compile error (``<input>:LINE:COL: what``)."""
    found = _CEL_POSITION.search(message)
    if not found:
        return 1, 1, message.strip().splitlines()[0] if message.strip() else "does not parse"
    detail = found[3].strip().splitlines()[0]
    return int(found[1]), int(found[2]), detail


def _file_line(text: str, path: KeyPath, expression_line: int) -> int | None:
    """The file line of an expression's ``expression_line``: a block scalar (``|``, ``>``) starts on the line
    after its key, a quoted or plain one on the key's line."""
    import yaml

    try:
        node: Any = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return None
    for part in path:
        if isinstance(part, int) and isinstance(node, yaml.SequenceNode) and part < len(node.value):
            node = node.value[part]
        elif isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
        else:
            return None
        if node is None:
            return None
    first = int(node.start_mark.line) + 1
    if node.style in ("|", ">"):
        return first + expression_line
    return first + expression_line - 1


def _cases(items: Any, path: KeyPath, report: Report, rule_ids: set[str]) -> tuple[PolicyCase, ...]:
    if items is None:
        return ()
    if not isinstance(items, list):
        report.add(path, "tests is a list of {name, document, expect}")
        return ()
    out: list[PolicyCase] = []
    for index, item in enumerate(items):
        where: KeyPath = (*path, index)
        if not isinstance(item, dict):
            report.add(where, "a test case is a mapping: name, document, expect")
            continue
        before = len(report.problems)
        _unknown_keys(item, where, _CASE_KEYS, report)
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            report.add((*where, "name"), "a test case needs a name")
        document = item.get("document", {})
        if not isinstance(document, dict):
            report.add((*where, "document"), "document is a mapping: the fields that differ from the sample")
        expect = item.get("expect")
        if not isinstance(expect, list) or not all(isinstance(e, str) for e in expect):
            report.add((*where, "expect"), "expect is a list of the rule ids violated ([] when it passes)")
        else:
            for position, rule_id in enumerate(expect):
                if rule_id not in rule_ids and rule_id != "match":
                    known = ", ".join(sorted(rule_ids))
                    report.add((*where, "expect", position), f"no rule {rule_id!r} in this policy ({known})")
        if len(report.problems) == before:
            out.append(
                PolicyCase(
                    name=cast(str, name),
                    document=document,
                    expect=tuple(cast(list[str], expect)),
                    file=report.file,
                    line=report.lines.line(where),
                )
            )
    return tuple(out)


def _sibling_cases(
    text: str, file: str, rule_ids: set[str], problems: list[Problem]
) -> tuple[PolicyCase, ...]:
    doc, lines, found = parse_yaml(text, file)
    if found:
        problems.extend(found)
        return ()
    report = Report(file, lines, problems)
    if isinstance(doc, dict):
        _unknown_keys(doc, (), ("tests",), report)
        return _cases(doc.get("tests"), ("tests",), report, rule_ids)
    return _cases(doc, (), report, rule_ids)
