"""Contract compatibility for quality rules and SLA properties: reported, never breaking (they bind the
producer, not the shape readers get)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tessera.model.changes import Change, ChangeWhat, compare, fine
from tessera.model.contract import Contract, QualityRule, Threshold

__all__ = ["quality_changes", "sla_changes"]

_Interval = tuple[Any, bool, Any, bool]  # (low, low inclusive, high, high inclusive)


# --- quality rules and SLA ----------------------------------------------------------------------------------

_SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}
_INF = float("inf")


def _interval(t: Threshold) -> _Interval | None:
    """The values a threshold accepts; None for the negated operators."""
    v = t.value
    if t.operator == "mustBeBetween":
        return (v[0], True, v[1], True)
    return {
        "mustBe": (v, True, v, True),
        "mustBeGreaterThan": (v, False, _INF, False),
        "mustBeGreaterOrEqualTo": (v, True, _INF, False),
        "mustBeLessThan": (-_INF, False, v, False),
        "mustBeLessOrEqualTo": (-_INF, False, v, True),
    }.get(t.operator)


def _within(a: _Interval, b: _Interval) -> bool:
    low, high = compare(a[0], b[0]), compare(a[2], b[2])
    if low is None or high is None:
        return False
    return (low > 0 or (low == 0 and (b[1] or not a[1]))) and (high < 0 or (high == 0 and (b[3] or not a[3])))


def _threshold_verdict(old: Threshold | None, new: Threshold | None) -> str:
    a, b = (_interval(old) if old else None), (_interval(new) if new else None)
    if old == new or (a and b and _within(a, b) and _within(b, a)):
        return "same"
    if a is None or b is None:
        return "changed"
    return "tightened" if _within(b, a) else "loosened" if _within(a, b) else "changed"


def _rule_key(rule: QualityRule) -> tuple[Any, ...]:
    """Named rules match by name; others by what they measure (their threshold may move)."""
    if rule.name:
        return ("name", rule.name)
    return (rule.kind, rule.metric, rule.query, repr(sorted(rule.arguments.items())))


def _rule_label(rule: QualityRule, threshold: bool = False) -> str:
    label = repr(rule.name or rule.metric or f"{rule.kind} rule")
    return f"{label} ({rule.threshold})" if threshold and rule.threshold else label


def _rule_change(scope: str, column: str | None, old: QualityRule, new: QualityRule) -> Change | None:
    verdicts: set[str] = set()
    parts: list[str] = []
    if (threshold := _threshold_verdict(old.threshold, new.threshold)) != "same":
        verdicts.add(threshold)
        parts.append(f"threshold {old.threshold or 'none'} → {new.threshold or 'none'}")
    if old.severity != new.severity:
        verdicts.add(
            "tightened" if _SEVERITY_RANK[new.severity] > _SEVERITY_RANK[old.severity] else "loosened"
        )
        parts.append(f"severity {old.severity} → {new.severity}")
    for label, a, b in (("unit", old.unit, new.unit), ("type", old.kind, new.kind)):
        if a != b:
            verdicts.add("changed")
            parts.append(f"{label} {a} → {b}")
    if (old.metric, old.query, dict(old.arguments)) != (new.metric, new.query, dict(new.arguments)):
        verdicts.add("changed")
        parts.append("metric, query or arguments changed")
    if not parts:
        return None
    verdict = verdicts.pop() if len(verdicts) == 1 else "changed"
    what: ChangeWhat = "quality-rule-changed"
    if verdict in ("tightened", "loosened"):
        what = "quality-rule-tightened" if verdict == "tightened" else "quality-rule-loosened"
    return fine(column, what, f"{scope} quality rule {_rule_label(new)} {verdict}: {'; '.join(parts)}")


def quality_changes(
    column: str | None, old: Sequence[QualityRule], new: Sequence[QualityRule]
) -> list[Change]:
    scope = f"column {column!r}" if column else "table"
    changes: list[Change] = []
    unmatched = list(new)
    for rule in old:
        twin = next((r for r in unmatched if _rule_key(r) == _rule_key(rule)), None)
        if twin is None:
            message = f"{scope} quality rule {_rule_label(rule, True)} removed"
            changes.append(fine(column, "quality-rule-removed", message))
        else:
            unmatched.remove(twin)
            changes += [c for c in [_rule_change(scope, column, rule, twin)] if c]
    for rule in unmatched:
        changes.append(
            fine(column, "quality-rule-added", f"{scope} quality rule {_rule_label(rule, True)} added")
        )
    return changes


def sla_changes(old: Contract, new: Contract) -> list[Change]:
    def text(value: Any, unit: str | None) -> str:
        return f"{value} {unit}" if unit else str(value)

    before = {(s.property, s.element): s for s in old.sla}
    after = {(s.property, s.element): s for s in new.sla}
    changes: list[Change] = []
    for key, s in before.items():
        if (t := after.get(key)) is None:
            changes.append(fine(None, "sla-removed", f"SLA {s.property} ({text(s.value, s.unit)}) removed"))
        elif (s.value, s.unit) != (t.value, t.unit):
            message = f"SLA {s.property} changed from {text(s.value, s.unit)} to {text(t.value, t.unit)}"
            changes.append(fine(None, "sla-changed", message))
    for key, t in after.items():
        if key not in before:
            changes.append(fine(None, "sla-added", f"SLA {t.property} ({text(t.value, t.unit)}) added"))
    return changes
