"""The output contract of a product (ODCS v3), reduced to what Tessera acts on. Pure values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from tessera.errors import Problem

__all__ = [
    "OPERATORS",
    "SENSITIVE_CLASSIFICATIONS",
    "UNIT_SECONDS",
    "Column",
    "Contract",
    "LibraryMetric",
    "LogicalType",
    "Operator",
    "QualityRule",
    "RuleKind",
    "Severity",
    "SlaProperty",
    "Threshold",
    "Unit",
]

LogicalType = Literal[
    "string", "date", "timestamp", "time", "number", "integer", "object", "array", "boolean", "map", "vector"
]
Severity = Literal["info", "warning", "error"]
RuleKind = Literal["library", "sql", "text", "custom"]
LibraryMetric = Literal["nullValues", "missingValues", "invalidValues", "duplicateValues", "rowCount"]
Unit = Literal["rows", "percent"]
Operator = Literal[
    "mustBe",
    "mustNotBe",
    "mustBeGreaterThan",
    "mustBeGreaterOrEqualTo",
    "mustBeLessThan",
    "mustBeLessOrEqualTo",
    "mustBeBetween",
    "mustNotBeBetween",
]
OPERATORS: tuple[Operator, ...] = (
    "mustBe",
    "mustNotBe",
    "mustBeGreaterThan",
    "mustBeGreaterOrEqualTo",
    "mustBeLessThan",
    "mustBeLessOrEqualTo",
    "mustBeBetween",
    "mustNotBeBetween",
)
_SYMBOLS: dict[str, str] = {
    "mustBe": "=",
    "mustNotBe": "!=",
    "mustBeGreaterThan": ">",
    "mustBeGreaterOrEqualTo": ">=",
    "mustBeLessThan": "<",
    "mustBeLessOrEqualTo": "<=",
}

#: Seconds in each unit an SLA duration may use (freshness, latency): shared by the gate and the monitor.
UNIT_SECONDS: dict[str, int] = {
    "s": 1, "sec": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
}  # fmt: skip

#: Column classifications whose values are left out of failing samples and masked for readers without clearance.
SENSITIVE_CLASSIFICATIONS = frozenset({"pii", "sensitive", "confidential", "restricted", "secret"})


@dataclass(frozen=True, slots=True)
class Threshold:
    """An ODCS comparison: ``mustBeLessOrEqualTo: 5`` and friends."""

    operator: Operator
    value: Any

    def holds(self, measured: float | int | None) -> bool:
        if measured is None:
            return False
        op, v = self.operator, self.value
        if op == "mustBe":
            return bool(measured == v)
        if op == "mustNotBe":
            return bool(measured != v)
        if op == "mustBeGreaterThan":
            return bool(measured > v)
        if op == "mustBeGreaterOrEqualTo":
            return bool(measured >= v)
        if op == "mustBeLessThan":
            return bool(measured < v)
        if op == "mustBeLessOrEqualTo":
            return bool(measured <= v)
        low, high = v
        inside = bool(low <= measured <= high)
        return inside if op == "mustBeBetween" else not inside

    def __str__(self) -> str:
        if self.operator in _SYMBOLS:
            return f"{_SYMBOLS[self.operator]} {self.value}"
        low, high = self.value
        return f"{'' if self.operator == 'mustBeBetween' else 'not '}between {low} and {high}"


@dataclass(frozen=True, slots=True)
class QualityRule:
    """One ODCS quality rule, on a column (``column`` set) or on the table."""

    kind: RuleKind
    metric: LibraryMetric | None = None
    threshold: Threshold | None = None
    unit: Unit = "rows"
    arguments: Mapping[str, Any] = field(default_factory=dict)
    query: str | None = None
    column: str | None = None
    name: str | None = None
    description: str | None = None
    dimension: str | None = None
    severity: Severity = "error"
    #: The rule's ODCS ``id`` and ``tags``, by which ``tessera test --check-id/--tag`` selects rules.
    id: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    logical_type: LogicalType
    physical_type: str | None = None
    description: str | None = None
    business_name: str | None = None
    required: bool = False
    unique: bool = False
    primary_key: bool = False
    primary_key_position: int | None = None
    classification: str | None = None
    tags: tuple[str, ...] = ()
    enum: tuple[Any, ...] | None = None
    pattern: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    minimum: Any = None
    maximum: Any = None
    exclusive_minimum: Any = None
    exclusive_maximum: Any = None
    precision: int | None = None
    scale: int | None = None
    masking: str | None = None
    #: The data subject key this column holds under its own name (``tessera.subjectKey``), for erasure.
    subject_key: str | None = None
    quality: tuple[QualityRule, ...] = ()
    #: False when the contract gives neither logicalType nor physicalType (ODCS requires only a name): the
    #: column is read as string, but its data may be of any type, so ``tessera test`` checks only presence.
    typed: bool = True

    @property
    def sensitive(self) -> bool:
        return (self.classification or "").lower() in SENSITIVE_CLASSIFICATIONS or self.masking is not None

    @property
    def has_validity_constraint(self) -> bool:
        return any(
            x is not None
            for x in (
                self.enum,
                self.pattern,
                self.min_length,
                self.max_length,
                self.minimum,
                self.maximum,
                self.exclusive_minimum,
                self.exclusive_maximum,
            )
        )


@dataclass(frozen=True, slots=True)
class SlaProperty:
    """An ODCS ``slaProperties`` entry. Tessera acts on ``completeness``, ``uniqueness``, ``accuracy`` (ratios),
    ``freshness``/``latency`` (value + unit, ``element`` = the time column), ``retention`` and ``frequency``."""

    property: str
    value: Any
    unit: str | None = None
    element: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Contract:
    id: str
    version: str
    status: str
    table: str
    columns: tuple[Column, ...]
    name: str | None = None
    domain: str | None = None
    data_product: str | None = None
    description: str | None = None
    #: The schema object's own ``description`` (what the table holds), searchable in the catalog.
    table_description: str | None = None
    quality: tuple[QualityRule, ...] = ()
    sla: tuple[SlaProperty, ...] = ()
    tags: tuple[str, ...] = ()
    servers: tuple[Mapping[str, Any], ...] = ()
    custom: Mapping[str, Any] = field(default_factory=dict)
    document: Mapping[str, Any] = field(default_factory=dict)
    hash: str = ""
    path: str | None = None
    #: What was read but is not the standard (``Problem.severity == "warning"``), e.g. datacontract-cli's
    #: server keys: reported by the CLI, refused only with ``--strict``.
    warnings: tuple[Problem, ...] = field(default=(), compare=False)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def primary_key(self) -> tuple[str, ...]:
        keys = [c for c in self.columns if c.primary_key]
        keys.sort(key=lambda c: c.primary_key_position if c.primary_key_position is not None else 1 << 30)
        return tuple(c.name for c in keys)

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])

    def sla_property(self, *names: str) -> SlaProperty | None:
        return next((s for s in self.sla if s.property in names), None)

    @property
    def deprecation_days(self) -> int:
        return int(self.custom.get("tessera.deprecationDays", 30))

    @property
    def sensitive_columns(self) -> frozenset[str]:
        return frozenset(c.name for c in self.columns if c.sensitive)
