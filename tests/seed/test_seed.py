"""The seed's Python examples, run against their Tessera counterparts."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from tessera.errors import QualityGateError
from tessera.seed import DataDomain, DataProduct, DataProductInterface


def customers(n: int = 100, null_emails: int = 2) -> pa.Table:
    return pa.table(
        {
            "customer_id": [f"C{i}" for i in range(n)],
            "email": [None if i < null_emails else f"c{i}@example.com" for i in range(n)],
            "total_orders": list(range(n)),
            "lifetime_value": pa.array([Decimal(f"{i}.25") for i in range(n)], pa.decimal128(38, 2)),
        }
    )


def test_domain_metadata() -> None:
    customer_domain = DataDomain(
        name="customer_experience",
        description="All customer-related data products and analytics",
        owner="customer-analytics-team@company.com",
    )
    product = DataProduct(name="customer_360_view", domain="customer_experience", owner="cx-team@company.com")
    customer_domain.add_data_product(product)
    meta = customer_domain.get_domain_metadata()
    assert meta == {
        "domain_name": "customer_experience",
        "description": "All customer-related data products and analytics",
        "owner": "customer-analytics-team@company.com",
        "data_products": ["customer_360_view"],
        "source_systems": [],
        "consumer_count": 0,
    }


def test_product_publish_and_interface(tmp_path: Path) -> None:
    customer_product = DataProduct(
        name="customer_360_view", domain="customer_experience", owner="cx-team@company.com"
    )
    customer_product.set_quality_sla("completeness", 0.95).set_quality_sla("uniqueness", 0.99).define_schema(
        {"customer_id": "string", "email": "string", "total_orders": "integer", "lifetime_value": "decimal"}
    )
    path = str(tmp_path / "data-products/customer-experience/customer-360")
    assert customer_product.publish(customers(), path) == path
    catalog_url = f"sqlite:///{tmp_path / 'data-products/customer-experience/.tessera/catalog.db'}"
    customer_360 = DataProductInterface(product_name="customer_360_view", catalog_url=catalog_url)
    df = customer_360.read()
    assert df.num_rows == 100 and "_publish_timestamp" in df.schema.names
    assert customer_360.get_schema()["lifetime_value"] == "decimal(38,2)"
    assert customer_360.get_sla() == {"completeness": 0.95, "uniqueness": 0.99}
    assert customer_360.read(version=0).num_rows == 100
    assert customer_360.get_lineage()["product"] == "customer_experience.customer_360_view"
    with pytest.raises(QualityGateError, match="completeness"):
        customer_product.publish(customers(null_emails=20), path)
    assert DataProductInterface("customer_360_view", catalog_url).read().num_rows == 100
