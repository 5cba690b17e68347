"""The seed pattern's classes, working: ``DataDomain``, ``DataProduct`` and ``DataProductInterface``.

They need no mesh folder: a ``DataProduct`` builds its contract from ``define_schema`` and
``set_quality_sla``, publishes through the same quality gate and Delta commit as ``tessera publish``, and
registers itself in a catalog (a SQLite file beside the table unless ``catalog_url`` says otherwise)."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from tessera import catalog as cat
from tessera.engine import create_engine
from tessera.errors import NotFoundError, QualityGateError
from tessera.model.contract import Column, Contract, SlaProperty
from tessera.model.product import Domain, Member, Product
from tessera.platform.publishing.data import to_arrow
from tessera.storage import Provenance, TableStore, conform_table

__all__ = ["DataDomain", "DataProduct", "DataProductInterface"]

_TYPES: dict[str, tuple[str, str | None]] = {
    "string": ("string", None),
    "integer": ("integer", "bigint"),
    "int": ("integer", "bigint"),
    "long": ("integer", "bigint"),
    "decimal": ("number", "decimal(38,2)"),
    "double": ("number", "double"),
    "float": ("number", "double"),
    "number": ("number", "double"),
    "boolean": ("boolean", None),
    "date": ("date", None),
    "timestamp": ("timestamp", None),
}


def _default_catalog(storage_path: str) -> str:
    return f"sqlite:///{Path(storage_path).resolve().parent / '.tessera' / 'catalog.db'}"


class DataDomain:
    """A data domain with clear boundaries (the seed's ``DataDomain``)."""

    def __init__(self, name: str, description: str, owner: str) -> None:
        self.name, self.description, self.owner = name, description, owner
        self.data_products: list[DataProduct] = []
        self.source_systems: list[str] = []
        self.consumers: list[str] = []

    def add_data_product(self, product: DataProduct) -> None:
        self.data_products.append(product)

    def get_domain_metadata(self) -> dict[str, Any]:
        return {
            "domain_name": self.name,
            "description": self.description,
            "owner": self.owner,
            "data_products": [p.name for p in self.data_products],
            "source_systems": self.source_systems,
            "consumer_count": len(self.consumers),
        }


class DataProduct:
    """A data product with quality SLAs, published through Tessera's gates (the seed's ``DataProduct``)."""

    def __init__(self, name: str, domain: str, owner: str, catalog_url: str | None = None) -> None:
        self.name, self.domain, self.owner = name, domain, owner
        self.version = "1.0.0"
        self.schema_version = "1.0"
        self.schema: dict[str, str] = {}
        self.sla_metrics: dict[str, float] = {}
        self.catalog_url = catalog_url

    def define_schema(self, schema_definition: dict[str, str]) -> DataProduct:
        unknown = sorted(t for t in schema_definition.values() if t.lower() not in _TYPES)
        if unknown:
            raise ValueError(f"unknown column types {unknown}; use {', '.join(sorted(_TYPES))}")
        self.schema = dict(schema_definition)
        return self

    def set_quality_sla(self, metric: str, threshold: float) -> DataProduct:
        self.sla_metrics[metric] = threshold
        return self

    def contract(self) -> Contract:
        columns = tuple(
            Column(name=name, logical_type=_TYPES[t.lower()][0], physical_type=_TYPES[t.lower()][1])  # type: ignore[arg-type]
            for name, t in self.schema.items()
        )
        sla = tuple(SlaProperty(property=k, value=v) for k, v in self.sla_metrics.items())
        document = {
            "name": self.name,
            "version": self.version,
            "schema": self.schema,
            "sla": self.sla_metrics,
        }
        digest = hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()
        return Contract(
            id=f"{self.domain}.{self.name}",
            version=self.version,
            status="active",
            table=self.name,
            columns=columns,
            sla=sla,
            document=document,
            hash=digest,
            domain=self.domain,
            data_product=self.name,
        )

    def publish(self, df: Any, storage_path: str) -> str:
        """Validate against the SLAs (refusing with the failed checks), add the seed's metadata columns, write
        the Delta table, and register it in the catalog. Returns the storage path."""
        from tessera.quality import run_quality

        contract = self.contract()
        data = to_arrow(df)
        table = conform_table(data, contract) if self.schema else data
        engine = create_engine("duckdb")
        try:
            engine.register_arrow("seed.candidate", table)
            run = run_quality(
                contract,
                engine,
                "seed.candidate",
                subject=f"{self.domain}.{self.name}",
                run_id=uuid.uuid4().hex,
            )
        finally:
            engine.close()
        catalog = cat.Catalog.open(self.catalog_url or _default_catalog(storage_path))
        try:
            address = f"{self.domain}.{self.name}"
            if not run.passed:
                with catalog.transaction() as conn:
                    self._register(conn, contract, storage_path)
                    cat.record_quality_run(conn, address, run, published=False)
                raise QualityGateError(f"Quality SLA violations: {[c.message for c in run.blocking]}", run)
            now = datetime.now(UTC)
            provenance = Provenance(
                self.name,
                self.domain,
                self.version,
                contract.version,
                contract.hash,
                run.run_id,
                run.summary(),
                now,
            )
            version = TableStore().commit(storage_path, table, provenance)
            with catalog.transaction() as conn:
                self._register(conn, contract, storage_path)
                cat.record_major(conn, address, contract.major, storage_path, contract.deprecation_days)
                cat.record_version(
                    conn,
                    cat.VersionRecord(
                        address,
                        contract.major,
                        version,
                        storage_path,
                        contract.version,
                        contract.hash,
                        self.version,
                        run.run_id,
                        run.row_count,
                        "overwrite",
                        now,
                    ),
                )
                cat.record_quality_run(conn, address, run, published=True)
                cat.append_audit(conn, "local", "publish", address, {"delta_version": version})
        finally:
            catalog.close()
        return storage_path

    def _register(self, conn: Any, contract: Contract, storage_path: str) -> None:
        domain = Domain(name=self.domain, description=f"{self.domain} domain", owner=self.owner)
        cat.register_domain(conn, domain, {"name": self.domain, "owner": self.owner}, self.owner)
        product = Product(
            domain=self.domain,
            name=self.name,
            id=contract.id,
            version=self.version,
            status="active",
            contract=contract,
            members=(Member(self.owner, "product owner"),),
            document={"name": self.name},
        )
        cat.register_product(conn, product, storage_path, contract.hash)


class DataProductInterface:
    """The standardised consumer interface (the seed's ``DataProductInterface``)."""

    def __init__(self, product_name: str, catalog_url: str) -> None:
        self.catalog = cat.Catalog.open(catalog_url)
        rows = [
            p for p in self.catalog.products() if p["address"] == product_name or p["name"] == product_name
        ]
        if not rows:
            raise NotFoundError(f"no product {product_name!r} in the catalog at {catalog_url}")
        self.product_name = rows[0]["address"]
        self.metadata = self.catalog.product(self.product_name) or {}

    def read(self, version: str | int = "latest") -> pa.Table:
        versions = self.catalog.versions(self.product_name)
        if not versions:
            raise NotFoundError(f"{self.product_name} has no published version yet")
        wanted = (
            versions[-1]
            if version == "latest"
            else next(
                (
                    v
                    for v in versions
                    if str(v["delta_version"]) == str(version).lstrip("v")
                    or v["contract_version"] == str(version)
                ),
                None,
            )
        )
        if wanted is None:
            raise NotFoundError(f"{self.product_name} has no version {version}")
        table: pa.Table = TableStore().open(wanted["table_uri"], wanted["delta_version"]).to_pyarrow_table()
        return table

    def get_schema(self) -> dict[str, str]:
        return {c["name"]: c["physical_type"] or c["logical_type"] for c in self.metadata.get("columns", [])}

    def get_sla(self) -> dict[str, Any]:
        row = self.catalog.last_contract(self.product_name)
        return dict((row or {}).get("document", {}).get("sla", {}))

    def get_lineage(self) -> dict[str, Any]:
        return {
            "product": self.product_name,
            "upstream": self.metadata.get("upstream", []),
            "downstream": self.metadata.get("downstream", []),
        }
