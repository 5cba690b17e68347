"""Governance: policies as code (CEL rules in YAML) evaluated over product documents.

    load_policies(root, disabled)      the mesh's policies: built-ins, global files, domain files (SpecError)
    check_policies(root, disabled)     the same, with the problems returned instead of raised
    product_document(product, ...)     what a policy sees of one product
    evaluate(policy_set, document)     the violations of one product (policies fail closed)
    sample_problems(policy_set)        every expression run on SAMPLE_DOCUMENT (for ``tessera validate``)
    run_cases(policy)                  a policy's own test cases

The gate that refuses a publish, the ``govern`` report and the audit entries live in ``tessera.platform``.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tessera.governance.document import CatalogFacts, looks_personal, product_document
    from tessera.governance.evaluation import (
        CaseResult,
        Violation,
        evaluate,
        evaluate_policies,
        run_cases,
        sample_problems,
    )
    from tessera.governance.policies import Policy, PolicyCase, PolicySet, Rule, read_policy
    from tessera.governance.sample import SAMPLE_DOCUMENT, complete_document
    from tessera.governance.scopes import builtin_policies, check_policies, load_policies, policy_files

__all__ = [
    "SAMPLE_DOCUMENT",
    "CaseResult",
    "CatalogFacts",
    "Policy",
    "PolicyCase",
    "PolicySet",
    "Rule",
    "Violation",
    "builtin_policies",
    "check_policies",
    "complete_document",
    "evaluate",
    "evaluate_policies",
    "load_policies",
    "looks_personal",
    "policy_files",
    "product_document",
    "read_policy",
    "run_cases",
    "sample_problems",
]

_HOMES = {
    **dict.fromkeys(("CatalogFacts", "looks_personal", "product_document"), "document"),
    **dict.fromkeys(("SAMPLE_DOCUMENT", "complete_document"), "sample"),
    **dict.fromkeys(
        ("CaseResult", "Violation", "evaluate", "evaluate_policies", "run_cases", "sample_problems"),
        "evaluation",
    ),
    **dict.fromkeys(("Policy", "PolicyCase", "PolicySet", "Rule", "read_policy"), "policies"),
    **dict.fromkeys(("builtin_policies", "check_policies", "load_policies", "policy_files"), "scopes"),
}


def __getattr__(name: str) -> Any:
    """Names load with their module: the CEL engine is imported only by what evaluates policies."""
    if name in _HOMES:
        return getattr(import_module(f"tessera.governance.{_HOMES[name]}"), name)
    raise AttributeError(f"module 'tessera.governance' has no attribute {name!r}")
