"""A small mesh written by hand for the platform tests: two domains, a source, three products."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

ORDERS_CONTRACT: dict[str, Any] = {
    "apiVersion": "v3.1.0",
    "kind": "DataContract",
    "id": "sales-orders",
    "name": "orders",
    "version": "1.0.0",
    "status": "active",
    "domain": "sales",
    "dataProduct": "orders",
    "schema": [
        {
            "name": "orders",
            "physicalType": "table",
            "properties": [
                {
                    "name": "order_id",
                    "logicalType": "integer",
                    "physicalType": "bigint",
                    "required": True,
                    "primaryKey": True,
                    "unique": True,
                    "description": "Order identifier",
                },
                {
                    "name": "customer_id",
                    "logicalType": "string",
                    "required": True,
                    "logicalTypeOptions": {"pattern": "^C[0-9]+$"},
                },
                {
                    "name": "email",
                    "logicalType": "string",
                    "classification": "pii",
                    "quality": [{"metric": "nullValues", "mustBeLessOrEqualTo": 50, "unit": "percent"}],
                },
                {
                    "name": "amount",
                    "logicalType": "number",
                    "physicalType": "decimal(10,2)",
                    "required": True,
                    "logicalTypeOptions": {"minimum": 0},
                },
                {
                    "name": "ordered_at",
                    "logicalType": "timestamp",
                    "description": "When the order was placed",
                },
                {
                    "name": "country",
                    "logicalType": "string",
                    "enum": [{"value": "DE"}, {"value": "FR"}, {"value": "US"}],
                },
            ],
            "quality": [{"metric": "rowCount", "mustBeGreaterThan": 0}],
        }
    ],
    "slaProperties": [
        {"property": "completeness", "value": 0.5},
        {"property": "frequency", "value": 1, "unit": "d"},
        {"property": "retention", "value": 10, "unit": "y", "element": "orders.ordered_at"},
    ],
}

CUSTOMERS_CONTRACT: dict[str, Any] = {
    "apiVersion": "v3.1.0",
    "kind": "DataContract",
    "id": "crm-customers",
    "name": "customers",
    "version": "1.0.0",
    "status": "active",
    "schema": [
        {
            "name": "customers",
            "physicalType": "table",
            "properties": [
                {"name": "customer_id", "logicalType": "string", "required": True, "primaryKey": True},
                {"name": "segment", "logicalType": "string"},
            ],
        }
    ],
    "slaProperties": [{"property": "frequency", "value": 1, "unit": "d"}],
}

DAILY_CONTRACT: dict[str, Any] = {
    "apiVersion": "v3.1.0",
    "kind": "DataContract",
    "id": "sales-daily",
    "name": "daily",
    "version": "1.0.0",
    "status": "active",
    "schema": [
        {
            "name": "daily",
            "physicalType": "table",
            "properties": [
                {"name": "country", "logicalType": "string", "required": True, "primaryKey": True},
                {"name": "orders", "logicalType": "integer", "required": True},
                {"name": "revenue", "logicalType": "number", "physicalType": "decimal(18,2)"},
            ],
        }
    ],
    "slaProperties": [{"property": "frequency", "value": 1, "unit": "d"}],
}


def product_doc(
    domain: str, name: str, contract: dict[str, Any], inputs: list[dict[str, str]], mode: str = "overwrite"
) -> dict[str, Any]:
    return {
        "apiVersion": "v1.0.0",
        "kind": "DataProduct",
        "id": f"{domain}.{name}",
        "name": name,
        "domain": domain,
        "version": "1.0.0",
        "status": "active",
        "description": {"purpose": f"The {name} of {domain}."},
        "tags": [domain],
        "inputPorts": inputs,
        "outputPorts": [
            {"name": name, "type": "tables", "version": contract["version"], "contractId": contract["id"]}
        ],
        "team": {"members": [{"username": "owner@example.com", "role": "product owner"}]},
        "customProperties": [{"property": "tessera.writeMode", "value": mode}],
    }


def write(path: Path, doc: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def orders_table(n: int = 100, *, bad: bool = False) -> pa.Table:
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal

    start = datetime(2025, 1, 1, tzinfo=UTC)
    return pa.table(
        {
            "order_id": list(range(1, n + 1)),
            "customer_id": [f"C{i % 10}" if not (bad and i == 3) else "X3" for i in range(1, n + 1)],
            "email": [None if i % 4 == 0 else f"u{i}@example.com" for i in range(1, n + 1)],
            "amount": pa.array([Decimal(f"{i}.50") for i in range(1, n + 1)], pa.decimal128(10, 2)),
            "ordered_at": pa.array(
                [start + timedelta(hours=i) for i in range(1, n + 1)], pa.timestamp("us", tz="UTC")
            ),
            "country": [["DE", "FR", "US"][i % 3] for i in range(1, n + 1)],
        }
    )


def make_mesh(root: Path, *, catalog: str | None = None) -> Path:
    mesh: dict[str, Any] = {"name": "testmesh", "storage": "data", "encryption": {"atRest": "filesystem"}}
    if catalog:
        mesh["catalog"] = catalog
    write(root / "mesh.yaml", mesh)
    write(
        root / "domains/sales/domain.yaml",
        {
            "name": "sales",
            "description": "Sales",
            "owner": "sales@example.com",
            "sourceSystems": [
                {
                    "name": "pos",
                    "tables": [{"name": "orders", "path": "sources/pos/orders.parquet", "format": "parquet"}],
                }
            ],
        },
    )
    write(root / "domains/crm/domain.yaml", {"name": "crm", "description": "CRM", "owner": "crm@example.com"})
    (root / "sources/pos").mkdir(parents=True)
    pq.write_table(orders_table(), root / "sources/pos/orders.parquet")
    base = root / "domains/sales/products/orders"
    write(base / "contract.odcs.yaml", ORDERS_CONTRACT)
    write(
        base / "product.odps.yaml",
        product_doc(
            "sales",
            "orders",
            ORDERS_CONTRACT,
            [{"name": "source.pos.orders", "version": "1.0.0", "contractId": "source.pos.orders"}],
        ),
    )
    (base / "transform.sql").write_text("SELECT * FROM source.pos.orders\n")
    base = root / "domains/sales/products/daily"
    write(base / "contract.odcs.yaml", DAILY_CONTRACT)
    write(
        base / "product.odps.yaml",
        product_doc(
            "sales",
            "daily",
            DAILY_CONTRACT,
            [{"name": "sales.orders", "version": "1.0.0", "contractId": "sales-orders"}],
        ),
    )
    (base / "transform.sql").write_text(
        "SELECT country, count(*) AS orders, sum(amount) AS revenue FROM sales.orders GROUP BY country\n"
    )
    base = root / "domains/crm/products/customers"
    write(base / "contract.odcs.yaml", CUSTOMERS_CONTRACT)
    write(base / "product.odps.yaml", product_doc("crm", "customers", CUSTOMERS_CONTRACT, [], mode="merge"))
    return root


def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``tessera ARGS`` as a user runs it: a whole process, its output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "tessera.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        env={**os.environ, **(env or {})},
    )
