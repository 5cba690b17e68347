"""Results are values: a quality run with a check per rule (checks return results; a gate decides)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from tessera.model.contract import Severity

__all__ = ["Check", "CheckOutcome", "QualityRun"]

CheckOutcome = Literal["passed", "failed", "error"]


@dataclass(frozen=True, slots=True)
class Check:
    """One rule judged: what was measured, against which threshold, and what came out.

    ``name`` is stable across runs (``email.nullValues``, ``table.rowCount``, ``amount.range``) so history can
    be charted. ``samples`` holds up to five failing rows with sensitive columns left out. ``object`` is the
    contract's schema object the check judged (set by ``tessera test`` on a bare contract, which may hold
    several), ``check_id`` the ODCS rule's ``id`` and ``dimension`` its data-quality dimension."""

    name: str
    metric: str
    column: str | None
    threshold: str
    measured: float | None
    outcome: CheckOutcome
    severity: Severity
    message: str = ""
    unit: str = "rows"
    samples: tuple[Mapping[str, Any], ...] = ()
    object: str | None = None
    check_id: str | None = None
    dimension: str | None = None

    @property
    def blocking(self) -> bool:
        return self.outcome != "passed" and self.severity == "error"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "metric": self.metric,
            "column": self.column,
            "threshold": self.threshold,
            "measured": self.measured,
            "unit": self.unit,
            "outcome": self.outcome,
            "severity": self.severity,
            "message": self.message,
            "samples": [dict(s) for s in self.samples],
            "object": self.object,
            "check_id": self.check_id,
            "dimension": self.dimension,
        }


@dataclass(frozen=True, slots=True)
class QualityRun:
    run_id: str
    subject: str
    contract_version: str
    started_at: datetime
    finished_at: datetime
    row_count: int
    checks: tuple[Check, ...]

    @property
    def passed(self) -> bool:
        """True when no ``severity: error`` check failed (warnings do not refuse)."""
        return not any(c.blocking for c in self.checks)

    @property
    def blocking(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.blocking)

    @property
    def warnings(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.outcome != "passed" and not c.blocking)

    @property
    def outcome(self) -> Literal["passed", "warning", "failed"]:
        if not self.passed:
            return "failed"
        return "warning" if self.warnings else "passed"

    def summary(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "outcome": self.outcome,
            "rows": self.row_count,
            "checks": len(self.checks),
            "failed": len(self.blocking),
            "warnings": len(self.warnings),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.summary(),
            "subject": self.subject,
            "contract_version": self.contract_version,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "results": [c.as_dict() for c in self.checks],
        }
