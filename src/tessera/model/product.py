"""Domains, products and the mesh they form (ODPS v1 products, Tessera domain and mesh files). Pure values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tessera.model.contract import Contract

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
]

WriteMode = Literal["overwrite", "append", "merge"]
Role = Literal["product owner", "technical lead", "data steward", "consumer"]
ROLES: tuple[Role, ...] = ("product owner", "technical lead", "data steward", "consumer")
SourceFormat = Literal["parquet", "csv", "json", "delta"]


@dataclass(frozen=True, slots=True)
class Member:
    username: str
    role: str
    name: str | None = None


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
    #: Encryption at rest the storage declares: ``{"atRest": none|filesystem|sse-s3|sse-kms, "kmsKeyId": ...}``
    #: (empty when mesh.yaml says nothing).
    encryption: Mapping[str, Any] = field(default_factory=dict)
    #: What transforms may be: ``{"python": allow|forbid, "domains": {<domain>: {"python": ...}}}``.
    transforms: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MeshSpec:
    """Everything a mesh folder declares, loaded and validated."""

    settings: MeshSettings
    domains: tuple[Domain, ...]
    products: tuple[Product, ...]
    #: Products left out of a partial load (``load_mesh(..., partial=True)``) and why: they close a cycle.
    broken: Mapping[str, str] = field(default_factory=dict)

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
