"""Governance use cases: the policy gate and report, validation, identity and access, consumers' contracts."""
