"""Which checks a ``tessera test --check-id/--dimension/--tag`` run keeps.

A quality rule is kept when it matches every kind of selector given (any value within a kind): its ODCS
``id``, one of its ``tags``, its ``dimension`` (or the built-in metric's, ``plan.DIMENSIONS``). Rules not kept
are not run. The checks a column's own constraints imply (``required``, ``unique``, ``enum``, ...) and the SLA
checks have no id or tags: they are kept only by ``--dimension`` alone. Presence and type checks always run,
since every other check stands on them."""

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
_ALWAYS = frozenset({"present", "type"})


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
        """Checks of rules pass (their rules were selected); constraint and SLA checks by dimension only."""
        if not self.active or check.metric in _ALWAYS:
            return True
        built_in = check.metric in _CONSTRAINTS or (check.name.startswith("sla.") and check.metric in _SLA)
        if not built_in:
            return True
        if self.check_ids or self.tags:
            return False
        return (check.dimension or DIMENSIONS.get(check.metric, "")).lower() in self.dimensions
