"""Which checks a ``tessera test --check-id/--dimension/--tag`` run keeps (as datacontract-cli selects).

A quality rule is kept when it matches every kind of selector given (any value within a kind): its ODCS
``id``, one of its ``tags``, its ``dimension`` (or the built-in metric's, ``plan.DIMENSIONS``). Rules not kept
are not run. The built-in checks — presence and type (``conformity``), a column's own constraints
(``required`` → ``completeness``, ``unique`` → ``uniqueness``, ``enum``/``pattern``/... → ``conformity``) and
SLA checks — have no id or tags: only ``--dimension`` alone keeps them. An id that names no rule of the
contract is a typo, reported as an error rather than a run that tests nothing and passes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from tessera.model.contract import Contract, QualityRule
from tessera.model.results import Check
from tessera.quality.plan import DIMENSIONS

__all__ = ["Selection"]

#: Metrics of the checks a column's own constraints imply (not rules of the contract's ``quality``).
_CONSTRAINTS = frozenset({"required", "unique", "primaryKey", "pattern", "enum", "range", "length"})
_SLA = frozenset({"completeness", "uniqueness", "accuracy", "freshness", "latency"})
_SCHEMA = frozenset({"present", "type"})


def _lower(values: Iterable[str]) -> frozenset[str]:
    return frozenset(v.strip().lower() for v in values if v.strip())


@dataclass(frozen=True, slots=True)
class Selection:
    check_ids: frozenset[str] = frozenset()
    dimensions: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()

    @classmethod
    def of(cls, check_ids: Iterable[str], dimensions: Iterable[str], tags: Iterable[str]) -> Selection:
        return cls(frozenset(check_ids), _lower(dimensions), frozenset(tags))

    @property
    def active(self) -> bool:
        return bool(self.check_ids or self.dimensions or self.tags)

    def keeps_rule(self, rule: QualityRule) -> bool:
        if self.check_ids and rule.id not in self.check_ids:
            return False
        if self.tags and not self.tags & set(rule.tags):
            return False
        dimension = (rule.dimension or DIMENSIONS.get(rule.metric or "", "")).lower()
        return not self.dimensions or dimension in self.dimensions

    def rules_of(self, contract: Contract) -> Contract:
        """The contract with only the selected quality rules (column and table rules)."""
        if not self.active:
            return contract
        columns = tuple(
            replace(c, quality=tuple(r for r in c.quality if self.keeps_rule(r))) for c in contract.columns
        )
        return replace(
            contract, columns=columns, quality=tuple(r for r in contract.quality if self.keeps_rule(r))
        )

    def keeps_check(self, check: Check) -> bool:
        """Checks of rules pass (their rules were selected); built-in checks by dimension only."""
        if not self.active:
            return True
        built_in = (
            check.metric in _CONSTRAINTS
            or check.metric in _SCHEMA
            or (check.name.startswith("sla.") and check.metric in _SLA)
        )
        if not built_in:
            return True
        if self.check_ids or self.tags:
            return False
        return (check.dimension or DIMENSIONS.get(check.metric, "")).lower() in self.dimensions

    def unknown_ids(self, contracts: Iterable[Contract]) -> tuple[set[str], set[str]]:
        """``(ids asked for that no rule has, every rule id of the contracts)``."""
        known = {
            r.id
            for contract in contracts
            for r in (*contract.quality, *(q for c in contract.columns for q in c.quality))
            if r.id
        }
        return set(self.check_ids) - known, known
