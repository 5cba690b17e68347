"""What a consumer expects of a product it reads (consumer-driven contracts). Pure values.

An expectation is an ODCS fragment — ``properties`` (the columns it reads: name, type, ``required``, the
column's own constraints and rules) and table-level ``quality`` rules — declared on a consuming product's
input port (``tessera.expectations``) or registered for an external consumer (``tessera consumers
register``). Columns a consuming product's transform reads according to its column lineage are expected too,
with the type it saw, without being written (``lineage=True``). The producer's publish is gated by them
(docs/architecture.md, "The publish path")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from tessera.model.contract import Column, Contract, QualityRule

__all__ = ["ConsumerKind", "Expectations", "ExpectedColumn", "ProductExpectations"]

ConsumerKind = Literal["product", "external"]


@dataclass(frozen=True, slots=True)
class ExpectedColumn:
    """A column a consumer reads. ``column.typed`` is False when the consumer named no type (presence only);
    ``lineage`` is True when it comes from the consumer's column lineage rather than its own words."""

    column: Column
    lineage: bool = False

    @property
    def name(self) -> str:
        return self.column.name


@dataclass(frozen=True, slots=True)
class ProductExpectations:
    """The ODCS fragment as written: its columns and table-level rules (``document`` keeps the original)."""

    columns: tuple[Column, ...] = ()
    quality: tuple[QualityRule, ...] = ()
    document: Mapping[str, Any] = field(default_factory=dict)
    #: Where each column is written (file, line, key), for problems found across files (``tessera validate``).
    places: tuple[tuple[str, int | None, str], ...] = field(default=(), compare=False)


@dataclass(frozen=True, slots=True)
class Expectations:
    """One consumer's expectations of one product (``address``), on ``major`` (None: whichever is newest)."""

    consumer: str
    kind: ConsumerKind
    owner: str | None
    address: str
    major: int | None
    columns: tuple[ExpectedColumn, ...] = ()
    quality: tuple[QualityRule, ...] = ()
    document: Mapping[str, Any] = field(default_factory=dict)
    registered_at: str | None = None
    registered_by: str | None = None

    def applies_to(self, major: int) -> bool:
        """A consumer pinned to another major is not judged by this one (a new major is a new product)."""
        return self.major is None or self.major == major

    @property
    def who(self) -> str:
        return f"{self.consumer} (owner {self.owner or 'unknown'})"

    def unmet_by(self, contract: Contract) -> tuple[str, ...]:
        """What of these expectations ``contract`` cannot meet, judged without data: a column it lacks, or of
        a type the consumer cannot read as it expects (data rules are judged at publish)."""
        from tessera.model.compat import reads_as

        out = []
        for expected in self.columns:
            actual = contract.column(expected.name)
            why = "not in the contract" if actual is None else reads_as(actual, expected.column)
            if why and actual is not None:
                why = f"expects {why}"
            if why:
                read = " (read by its transform)" if expected.lineage else ""
                out.append(f"column {expected.name!r}: {why}{read}")
        return tuple(out)

    def as_contract(self, producer: Contract) -> Contract:
        """The expectations as a contract over the producer's table, for the quality layer to judge: the same
        rules, the same engine, the same sealed connection as the producer's own."""
        return Contract(
            id=f"{producer.id}:{self.consumer}",
            version=producer.version,
            status="active",
            table=producer.table,
            columns=tuple(e.column for e in self.columns),
            quality=self.quality,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "consumer": self.consumer,
            "kind": self.kind,
            "owner": self.owner,
            "address": self.address,
            "major": self.major,
            "columns": [
                {
                    "name": e.name,
                    "logicalType": e.column.logical_type if e.column.typed else None,
                    "physicalType": e.column.physical_type or None,
                    "required": e.column.required,
                    "from": "lineage" if e.lineage else "declared",
                    "rules": len(e.column.quality),
                }
                for e in self.columns
            ],
            "quality": [
                {"name": r.name, "kind": r.kind, "metric": r.metric, "severity": r.severity}
                for r in self.quality
            ],
            "expectations": dict(self.document),
            "registered_at": self.registered_at,
            "registered_by": self.registered_by,
        }
