"""Domains, products and the mesh they form (ODPS v1 products, Tessera domain and mesh files). Pure values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tessera.model.contract import Contract
from tessera.model.expectations import ProductExpectations

__all__ = [
    "ROLES",
    "Domain",
    "InputPort",
    "Member",
    "MeshSettings",
    "MeshSpec",
    "Product",
    "Role",
    "SourceSystem",
    "SourceTable",
    "Transform",
    "WriteMode",
    "tessera_role",
]

WriteMode = Literal["overwrite", "append", "merge"]
Role = Literal["product owner", "technical lead", "data steward", "consumer"]
ROLES: tuple[Role, ...] = ("product owner", "technical lead", "data steward", "consumer")
SourceFormat = Literal["parquet", "csv", "json", "delta"]


#: Common spellings of the ownership roles in ODPS files (whose ``role`` is free text), each mapped to the
#: Tessera role it grants. Compared after lower-casing and turning ``-``/``_`` into spaces.
ROLE_SPELLINGS: dict[str, Role] = {
    **dict.fromkeys(
        ("product owner", "owner", "data owner", "data product owner", "dpo", "business owner", "po"),
        "product owner",
    ),
    **dict.fromkeys(
        (
            "technical lead", "tech lead", "technical owner", "lead engineer", "engineering lead",
            "data engineer lead", "lead data engineer", "technical product owner", "maintainer",
        ),
        "technical lead",
    ),
    **dict.fromkeys(("data steward", "steward", "data custodian", "custodian"), "data steward"),
    **dict.fromkeys(("consumer", "data consumer", "reader"), "consumer"),
}  # fmt: skip


def tessera_role(text: str) -> Role | None:
    """The Tessera role an ODPS ``role`` text grants (``Owner``, ``data-owner`` → product owner); None for
    any other role, which is kept as information."""
    return ROLE_SPELLINGS.get(" ".join(text.strip().lower().replace("-", " ").replace("_", " ").split()))


@dataclass(frozen=True, slots=True)
class Member:
    """A team member. ``role`` is the Tessera role the file's role text maps to (``tessera_role``), or that
    text itself when it maps to none (it then grants nothing); ``declared_role`` is the text as written."""

    username: str
    role: str
    name: str | None = None
    declared_role: str | None = None


@dataclass(frozen=True, slots=True)
class SourceTable:
    system: str
    name: str
    uri: str
    format: SourceFormat

    @property
    def address(self) -> str:
        return f"source.{self.system}.{self.name}"


@dataclass(frozen=True, slots=True)
class SourceSystem:
    name: str
    description: str | None
    tables: tuple[SourceTable, ...]


@dataclass(frozen=True, slots=True)
class Domain:
    name: str
    description: str
    owner: str
    team: str | None = None
    members: tuple[Member, ...] = ()
    source_systems: tuple[SourceSystem, ...] = ()
    tags: tuple[str, ...] = ()
    path: str | None = None


@dataclass(frozen=True, slots=True)
class InputPort:
    """An upstream: another product (``sales.orders``) or a source table (``source.crm.customers``)."""

    address: str
    version: str | None = None
    contract_id: str | None = None
    #: What this product expects of the input (``tessera.expectations``, an ODCS fragment), if it says.
    expectations: ProductExpectations | None = None

    @property
    def is_source(self) -> bool:
        return self.address.startswith("source.")


@dataclass(frozen=True, slots=True)
class Transform:
    kind: Literal["sql", "python"]
    path: str
    code: str


@dataclass(frozen=True, slots=True)
class Product:
    domain: str
    name: str
    id: str
    version: str
    status: str
    contract: Contract
    description: str | None = None
    tags: tuple[str, ...] = ()
    input_ports: tuple[InputPort, ...] = ()
    members: tuple[Member, ...] = ()
    team: str | None = None
    write_mode: WriteMode = "overwrite"
    update_frequency: str | None = None
    consumers: tuple[str, ...] = ()
    custom: Mapping[str, Any] = field(default_factory=dict)
    document: Mapping[str, Any] = field(default_factory=dict)
    transform: Transform | None = None
    path: str | None = None

    @property
    def address(self) -> str:
        return f"{self.domain}.{self.name}"

    def people(self, role: str) -> tuple[str, ...]:
        return tuple(m.username for m in self.members if m.role == role)

    @property
    def owner(self) -> str | None:
        owners = self.people("product owner")
        return owners[0] if owners else None


@dataclass(frozen=True, slots=True)
class MeshSettings:
    name: str
    root: Path
    storage: str
    catalog_url: str
    engine: str = "duckdb"
    storage_options: Mapping[str, str] = field(default_factory=dict)
    lineage: Mapping[str, Any] = field(default_factory=dict)
    monitoring: Mapping[str, Any] = field(default_factory=dict)
    governance: Mapping[str, Any] = field(default_factory=dict)
    access: Mapping[str, Any] = field(default_factory=dict)
    #: Bounds on reads, queries and transforms (``limits:``; see ``tessera.access.limits``).
    limits: Mapping[str, Any] = field(default_factory=dict)
    #: ``tessera serve`` settings (``server:``): ``{"allowedHosts": [...]}``, the host names it answers to.
    server: Mapping[str, Any] = field(default_factory=dict)
    #: How people sign in besides Tessera's tokens (``auth:``: ``{"oidc": {...}}``; see ``access.oidc_config``).
    auth: Mapping[str, Any] = field(default_factory=dict)
    #: Encryption at rest the storage declares: ``{"atRest": none|filesystem|sse-s3|sse-kms, "kmsKeyId": ...}``
    #: (empty when mesh.yaml says nothing).
    encryption: Mapping[str, Any] = field(default_factory=dict)
    #: What transforms may be: ``{"python": allow|forbid, "domains": {<domain>: {"python": ...}}}``.
    transforms: Mapping[str, Any] = field(default_factory=dict)
    #: Where notifications go (``notifications:``: ``smtp``, ``channels``, ``retry``; see ``monitoring.channels``).
    notifications: Mapping[str, Any] = field(default_factory=dict)
    #: SLOs (``slo:``): ``{"window": "28d", "objectives": {"freshness": "99%", ...}}`` (``tessera.model.slo``).
    slo: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MeshSpec:
    """Everything a mesh folder declares, loaded and validated."""

    settings: MeshSettings
    domains: tuple[Domain, ...]
    products: tuple[Product, ...]
    #: Products left out of a partial load (``load_mesh(..., partial=True)``) and why: they close a cycle.
    broken: Mapping[str, str] = field(default_factory=dict)
    #: What loaded with a warning (``tessera.errors.Problem`` with severity ``warning``): shown by validate.
    warnings: tuple[Any, ...] = ()

    def product(self, address: str) -> Product | None:
        return next((p for p in self.products if p.address == address), None)

    def domain(self, name: str) -> Domain | None:
        return next((d for d in self.domains if d.name == name), None)

    def source_table(self, address: str) -> SourceTable | None:
        for domain in self.domains:
            for system in domain.source_systems:
                for table in system.tables:
                    if table.address == address:
                        return table
        return None
