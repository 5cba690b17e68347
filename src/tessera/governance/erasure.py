"""Right to erasure: which columns of which products hold a data subject, from contracts and column lineage.

A subject is ``KEY=VALUE`` (``customer_id=C123``). KEY must be classified by at least one contract — a column
named KEY with a sensitive classification (pii, sensitive, confidential, restricted, secret, or masked), or a
column declaring ``tessera.subjectKey: KEY`` under any name — else the request is refused before anything is
touched. From those columns the plan follows the column lineage's identity edges (a column passed through,
renamed or not), upstream and downstream, to every column holding the same values:
``crm.customers.customer_id`` → ``sales.vip.cust_id``. Those products' rows with the value are deleted.

A product reached from a subject column by any other edge (aggregation, transformation, filter, join) holds
no copy of the key, so no row of it can be found by the value: it is listed as derived, with the edge kind,
so the report shows where the subject's data went. Source tables holding the key are listed too: they live
outside the mesh and must be erased there, or the next build brings the subject back. Pure."""

from __future__ import annotations

import hashlib
import re
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tessera.errors import ErasureError
from tessera.model.address import NAME_PATTERN
from tessera.model.contract import Contract

__all__ = [
    "DERIVED_NOTES",
    "Derived",
    "ErasurePlan",
    "LineageEdge",
    "Subject",
    "SubjectColumn",
    "classified_keys",
    "plan_erasure",
]

_KEY = re.compile(rf"^{NAME_PATTERN}$")

#: What a derived product holds of the subject, by the kind of edge that reaches it.
DERIVED_NOTES: dict[str, str] = {
    "aggregation": "derived, no subject rows: the key is aggregated away",
    "transformation": "derived: holds a value computed from the key, which the value cannot find; "
    "declare tessera.subjectKey on that column if it identifies the subject",
    "filter": "derived: the key decides which rows exist; rows of the subject may remain without the key",
    "join": "derived: joined on the key; rows of the subject may remain without the key",
}


@dataclass(frozen=True, slots=True)
class Subject:
    """The data subject to erase: a key and its value (kept as given; typed per column when deleting)."""

    key: str
    value: str

    @classmethod
    def parse(cls, text: str) -> Subject:
        key, sep, value = text.partition("=")
        key = key.strip()
        if not sep or not key or not value:
            raise ErasureError(f"--subject {text!r}: expected KEY=VALUE, e.g. customer_id=C123")
        if not _KEY.match(key):
            raise ErasureError(f"--subject {text!r}: the key {key!r} is not a column name ([a-z][a-z0-9_]*)")
        return cls(key, value)

    @property
    def digest(self) -> str:
        """The sha256 of the value: what the audit log keeps, so the log does not itself hold the subject."""
        return hashlib.sha256(self.value.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class LineageEdge:
    """One column lineage edge as the catalog keeps it: ``source.source_column`` → ``target.target_column``."""

    target: str
    source: str
    source_column: str
    target_column: str | None
    kind: str


@dataclass(frozen=True, slots=True)
class SubjectColumn:
    """A product column holding the subject key, and why it was chosen."""

    address: str
    column: str
    found: str


@dataclass(frozen=True, slots=True)
class Derived:
    """A product computed from a subject column without copying it."""

    address: str
    via: str
    kind: str

    @property
    def note(self) -> str:
        return DERIVED_NOTES.get(self.kind, f"derived ({self.kind})")


@dataclass(frozen=True, slots=True)
class ErasurePlan:
    subject: Subject
    columns: tuple[SubjectColumn, ...]
    derived: tuple[Derived, ...]
    sources: tuple[str, ...]

    def by_product(self) -> dict[str, tuple[str, ...]]:
        """Each product holding the subject and its subject columns."""
        out: dict[str, list[str]] = {}
        for c in self.columns:
            out.setdefault(c.address, []).append(c.column)
        return {address: tuple(sorted(set(cols))) for address, cols in sorted(out.items())}

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.subject.key,
            "columns": [{"product": c.address, "column": c.column, "found": c.found} for c in self.columns],
            "derived": [
                {"product": d.address, "via": d.via, "kind": d.kind, "note": d.note} for d in self.derived
            ],
            "sources": list(self.sources),
        }


def _classifies(column: Any, key: str) -> str | None:
    if column.subject_key == key:
        return f"tessera.subjectKey: {key}"
    if column.name == key and column.sensitive:
        return f"classified {column.classification or 'masked'}"
    return None


def classified_keys(contracts: Iterable[Contract]) -> list[str]:
    """Every key an erasure may name: sensitive column names and declared subject keys."""
    keys = set()
    for contract in contracts:
        for column in contract.columns:
            if column.subject_key:
                keys.add(column.subject_key)
            if column.sensitive:
                keys.add(column.name)
    return sorted(keys)


def plan_erasure(
    subject: Subject, contracts: Mapping[str, Contract], edges: Iterable[LineageEdge]
) -> ErasurePlan:
    """The product columns holding ``subject``, the products derived from them and the sources copying them.
    Raises ErasureError when no contract classifies the key."""
    found: dict[tuple[str, str], str] = {}
    for address, contract in sorted(contracts.items()):
        for column in contract.columns:
            why = _classifies(column, subject.key)
            if why:
                found[(address, column.name)] = why
    if not found:
        keys = classified_keys(contracts.values())
        shown = ", ".join(keys[:20]) + (f" and {len(keys) - 20} more" if len(keys) > 20 else "")
        raise ErasureError(
            f"no contract classifies {subject.key!r}: erasure needs a column named {subject.key} classified as "
            f"personal data (classification: pii) or a column declaring tessera.subjectKey: {subject.key}; "
            f"nothing was changed (classified keys: {shown or 'none'})"
        )
    edges = list(edges)
    same: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for e in edges:
        if e.kind == "identity" and e.target_column:
            a, b = (e.source, e.source_column), (e.target, e.target_column)
            same.setdefault(a, set()).add(b)
            same.setdefault(b, set()).add(a)
    queue = deque(sorted(found))
    while queue:
        node = queue.popleft()
        for nxt in sorted(same.get(node, ())):
            if nxt not in found:
                found[nxt] = f"identity lineage from {node[0]}.{node[1]}"
                queue.append(nxt)
    products = {address for (address, _) in found if address in contracts}
    derived = {
        Derived(e.target, f"{e.source}.{e.source_column}", e.kind)
        for e in edges
        if (e.source, e.source_column) in found
        and e.kind != "identity"
        and e.target in contracts
        and e.target not in products
    }
    return ErasurePlan(
        subject=subject,
        columns=tuple(
            SubjectColumn(address, column, why)
            for (address, column), why in sorted(found.items())
            if address in contracts
        ),
        derived=tuple(sorted(derived, key=lambda d: (d.address, d.via, d.kind))),
        sources=tuple(sorted({f"{a}.{c}" for (a, c) in found if a.startswith("source.")})),
    )
