"""A one-product bench mesh whose contract carries ten rules over the 10M-row table."""

from __future__ import annotations

from pathlib import Path

import yaml

from bench_quality import COUNTRIES

CONTRACT = {
    "apiVersion": "v3.1.0",
    "kind": "DataContract",
    "id": "bench-orders",
    "version": "1.0.0",
    "status": "active",
    "schema": [
        {
            "name": "orders",
            "properties": [
                {
                    "name": "id",
                    "logicalType": "integer",
                    "physicalType": "bigint",
                    "required": True,
                    "unique": True,
                },
                {
                    "name": "customer_id",
                    "logicalType": "integer",
                    "physicalType": "bigint",
                    "required": True,
                    "logicalTypeOptions": {"minimum": 0},
                },
                {
                    "name": "email",
                    "logicalType": "string",
                    "logicalTypeOptions": {"pattern": "^[a-z0-9._%+-]+@[a-z0-9.-]+\\.[a-z]{2,}$"},
                    "classification": "pii",
                    "quality": [{"metric": "nullValues", "mustBeLessOrEqualTo": 3, "unit": "percent"}],
                },
                {
                    "name": "amount",
                    "logicalType": "number",
                    "physicalType": "decimal(10,2)",
                    "logicalTypeOptions": {"minimum": 0, "maximum": 10000},
                },
                {
                    "name": "country",
                    "logicalType": "string",
                    "quality": [
                        {
                            "metric": "invalidValues",
                            "mustBe": 0,
                            "arguments": {"validValues": list(COUNTRIES)},
                        }
                    ],
                },
                {"name": "ts", "logicalType": "timestamp", "required": True},
            ],
            "quality": [{"metric": "rowCount", "mustBeGreaterThan": 1000}],
        }
    ],
    "slaProperties": [
        {"property": "completeness", "value": 0.95},
        {"property": "frequency", "value": 1, "unit": "d"},
        {"property": "retention", "value": 2, "unit": "y", "element": "orders.ts"},
    ],
}


def make_bench_mesh(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "mesh.yaml").write_text("name: bench\nstorage: data\nencryption: {atRest: filesystem}\n")
    domain = root / "domains/bench"
    (domain / "products/orders").mkdir(parents=True, exist_ok=True)
    (domain / "domain.yaml").write_text("name: bench\ndescription: Benchmarks\nowner: bench@example.com\n")
    (domain / "products/orders/contract.odcs.yaml").write_text(yaml.safe_dump(CONTRACT, sort_keys=False))
    product = {
        "apiVersion": "v1.0.0",
        "kind": "DataProduct",
        "id": "bench.orders",
        "name": "orders",
        "domain": "bench",
        "version": "1.0.0",
        "status": "active",
        "description": {"purpose": "Ten million generated orders for the benchmarks."},
        "team": {"members": [{"username": "bench@example.com", "role": "product owner"}]},
        "outputPorts": [
            {"name": "orders", "type": "tables", "version": "1.0.0", "contractId": "bench-orders"}
        ],
    }
    (domain / "products/orders/product.odps.yaml").write_text(yaml.safe_dump(product, sort_keys=False))
    return root
