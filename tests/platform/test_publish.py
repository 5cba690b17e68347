"""The publish path end to end on real Delta tables and a real catalog (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from deltalake import DeltaTable

import tessera
from tessera.errors import DataError, NotFoundError, QualityGateError, VersionGateError
from tests.fixtures.meshkit import ORDERS_CONTRACT, orders_table, product_doc, write


def test_build_publishes_in_dependency_order(mesh_on: Path) -> None:
    with tessera.open(mesh_on) as mesh:
        mesh.apply()
        outcomes = mesh.build()
        assert [(o.address, o.status) for o in outcomes] == [
            ("crm.customers", "skipped"),
            ("sales.orders", "published"),
            ("sales.daily", "published"),
        ]
        daily = mesh.product("sales.daily").read()
        assert sorted(daily.column("country").to_pylist()) == ["DE", "FR", "US"]
        assert sum(daily.column("orders").to_pylist()) == 100
        orders = mesh.product("sales.orders")
        assert orders.history()[0]["release"] == "sales.orders@v0"
        assert (
            mesh.query("select count(*) as n, sum(amount) as s from sales.orders").to_pylist()[0]["n"] == 100
        )


def test_commit_carries_provenance(mesh_dir: Path) -> None:
    with tessera.open(mesh_dir) as mesh:
        result = mesh.publish("sales.orders", orders_table())
        table = DeltaTable(result.table_uri)
        commit = table.history()[0]
        assert commit["tessera.product"] == "sales.orders"
        assert commit["tessera.contractVersion"] == "1.0.0"
        assert commit["tessera.contractHash"] == mesh.spec.product("sales.orders").contract.hash
        assert commit["tessera.runId"] == result.run.run_id
        assert json.loads(commit["tessera.quality"])["outcome"] == "passed"
        data = mesh.read("sales.orders")
        assert {"_product_name", "_product_version", "_domain", "_publish_timestamp"} <= set(
            data.schema.names
        )
        assert set(data.column("_domain").to_pylist()) == {"sales"}


def test_provenance_columns_hold_the_commits_values_on_every_row(mesh_dir: Path) -> None:
    from datetime import datetime

    with tessera.open(mesh_dir) as mesh:
        result = mesh.publish("sales.orders", orders_table())
        commit = DeltaTable(result.table_uri).history()[0]
        data = mesh.read("sales.orders")
    published = datetime.fromisoformat(commit["tessera.publishedAt"])
    assert data.num_rows == 100
    assert set(data.column("_product_name").to_pylist()) == {"orders"}
    assert set(data.column("_product_version").to_pylist()) == {commit["tessera.productVersion"]}
    assert set(data.column("_domain").to_pylist()) == {"sales"}
    assert set(data.column("_publish_timestamp").to_pylist()) == {published}


def test_refused_publish_leaves_nothing(mesh_dir: Path) -> None:
    with tessera.open(mesh_dir) as mesh:
        first = mesh.publish("sales.orders", orders_table())
        with pytest.raises(QualityGateError) as refused:
            mesh.publish("sales.orders", orders_table(bad=True))
        message = str(refused.value)
        assert "customer_id" in message and "pattern" in message.lower()
        assert "@example.com" not in message  # the pii column is left out of samples
        assert DeltaTable(first.table_uri).version() == first.delta_version
        assert len(mesh.product("sales.orders").history()) == 1
        runs = mesh.product("sales.orders").quality()
        assert [r["published"] for r in runs] == [False, True]
        assert mesh.read("sales.orders").num_rows == 100


def test_refused_build_leaves_the_catalog_as_it_was(mesh_dir: Path) -> None:
    """A contract edited in a breaking way without a bump: refused, and the catalog still shows the published one."""
    with tessera.open(mesh_dir) as mesh:
        mesh.build(["sales.orders"])
        before = mesh.show("sales.orders")
    contract = json.loads(json.dumps(ORDERS_CONTRACT))
    contract["schema"][0]["properties"][3]["physicalType"] = "decimal(8,2)"
    write(mesh_dir / "domains/sales/products/orders/contract.odcs.yaml", contract)
    with tessera.open(mesh_dir) as mesh:
        [outcome] = mesh.build(["sales.orders"])
        assert outcome.status == "refused" and "narrowed" in outcome.message
        after = mesh.show("sales.orders")
        assert after["contract_hash"] == before["contract_hash"]
        assert [c["physical_type"] for c in after["columns"]] == [
            c["physical_type"] for c in before["columns"]
        ]


def test_publish_from_pandas_and_polars(mesh_dir: Path) -> None:
    pd = pytest.importorskip("pandas")
    pl = pytest.importorskip("polars")
    with tessera.open(mesh_dir) as mesh:
        mesh.publish("sales.orders", orders_table().to_pandas())
        mesh.publish("sales.orders", pl.from_arrow(orders_table(10)))
        assert mesh.read("sales.orders").num_rows == 10
        assert mesh.product("sales.orders").read("v0").num_rows == 100
        assert isinstance(mesh.read("sales.orders").to_pandas(), pd.DataFrame)


def test_data_that_does_not_conform_is_refused(mesh_dir: Path) -> None:
    import pyarrow as pa

    with tessera.open(mesh_dir) as mesh:
        with pytest.raises(DataError, match="amount"):
            mesh.publish("sales.orders", orders_table().drop_columns(["amount"]))
        bad = orders_table().set_column(0, "order_id", pa.array([f"x{i}" for i in range(100)]))
        with pytest.raises(DataError, match="order_id"):
            mesh.publish("sales.orders", bad)


def test_merge_judges_the_table_after_commit(mesh_dir: Path) -> None:
    import pyarrow as pa

    with tessera.open(mesh_dir) as mesh:
        mesh.publish("crm.customers", pa.table({"customer_id": ["C1", "C2"], "segment": ["a", "b"]}))
        mesh.publish("crm.customers", pa.table({"customer_id": ["C2", "C3"], "segment": ["z", "c"]}))
        rows = sorted(
            mesh.read("crm.customers").select(["customer_id", "segment"]).to_pylist(),
            key=lambda r: r["customer_id"],
        )
        assert rows == [
            {"customer_id": "C1", "segment": "a"},
            {"customer_id": "C2", "segment": "z"},
            {"customer_id": "C3", "segment": "c"},
        ]


def test_breaking_change_needs_major_bump_and_old_major_stays_readable(mesh_dir: Path) -> None:
    with tessera.open(mesh_dir) as mesh:
        mesh.publish("sales.orders", orders_table())
    contract = json.loads(json.dumps(ORDERS_CONTRACT))
    contract["schema"][0]["properties"] = [
        p for p in contract["schema"][0]["properties"] if p["name"] != "country"
    ]
    contract["version"] = "1.1.0"
    base = mesh_dir / "domains/sales/products/orders"
    write(base / "contract.odcs.yaml", contract)
    inputs = [{"name": "source.pos.orders", "version": "1.0.0", "contractId": "source.pos.orders"}]
    write(base / "product.odps.yaml", product_doc("sales", "orders", contract, inputs))
    with tessera.open(mesh_dir) as mesh:
        with pytest.raises(VersionGateError, match="country"):
            mesh.publish("sales.orders", orders_table().drop_columns(["country"]))
    contract["version"] = "2.0.0"
    write(base / "contract.odcs.yaml", contract)
    write(base / "product.odps.yaml", product_doc("sales", "orders", contract, inputs))
    with tessera.open(mesh_dir) as mesh:
        result = mesh.publish("sales.orders", orders_table().drop_columns(["country"]))
        assert result.major == 2
        assert "country" not in mesh.read("sales.orders").schema.names
        with pytest.warns(tessera.platform.DeprecatedVersionWarning, match="deprecated"):
            old = mesh.read("sales.orders@1")
        assert "country" in old.schema.names
        with pytest.warns(tessera.platform.DeprecatedVersionWarning):
            assert mesh.read("sales.orders@1.0.0", limit=5).num_rows == 5
        releases = [h["release"] for h in mesh.product("sales.orders").history()]
        assert releases == ["sales.orders@1/v0", "sales.orders@v0"]  # each major is its own table
        with pytest.warns(tessera.platform.DeprecatedVersionWarning):
            assert "country" in mesh.read("sales.orders@1/v0").schema.names
        assert "country" not in mesh.read("sales.orders@v0").schema.names
        majors = {m["major"]: m for m in mesh.ctx.catalog.majors("sales.orders")}
        assert majors[1]["status"] == "deprecated" and majors[1]["successor"] == 2
        assert (majors[1]["retire_after"] - majors[1]["deprecated_at"]).days == 30
        # the deprecation window passes: reading the old major now fails and names its successor
        from datetime import UTC, datetime, timedelta

        from sqlalchemy import update

        from tessera.catalog import tables
        from tessera.errors import RetiredError

        with mesh.ctx.catalog.transaction() as conn:
            conn.execute(
                update(tables.majors)
                .where(tables.majors.c.major == 1)
                .values(retire_after=datetime.now(UTC) - timedelta(seconds=1))
            )
        with pytest.raises(RetiredError, match=r"sales.orders@2"):
            mesh.read("sales.orders@1")
        assert mesh.read("sales.orders").num_rows == 100


def test_unknown_address_and_missing_version(mesh_dir: Path) -> None:
    with tessera.open(mesh_dir) as mesh:
        with pytest.raises(NotFoundError, match="no published version yet"):
            mesh.read("sales.orders")
        mesh.publish("sales.orders", orders_table())
        with pytest.raises(NotFoundError, match="no such version"):
            mesh.read("sales.orders@v9")
        with pytest.raises(NotFoundError, match="no product"):
            mesh.read("sales.nothing")


def test_casts_are_judged_on_values(mesh_dir: Path) -> None:
    """Whole-number ints and decimal strings conform to decimal(10,2); floats that would round are refused."""
    import pyarrow as pa

    base = orders_table(3).drop_columns(["amount"])
    with tessera.open(mesh_dir) as mesh:
        mesh.publish("sales.orders", base.append_column("amount", pa.array([461, 5, 0], pa.int64())))
        mesh.publish("sales.orders", base.append_column("amount", pa.array(["461.49", "1.5", "0"])))
        mesh.publish("sales.orders", base.append_column("amount", pa.array([1.5, 2.25, 3.0])))
        assert [str(v) for v in mesh.read("sales.orders").column("amount").to_pylist()] == [
            "1.50",
            "2.25",
            "3.00",
        ]
        with pytest.raises(DataError, match=r"1\.23456.*without rounding"):
            mesh.publish("sales.orders", base.append_column("amount", pa.array([1.23456, 2.0, 3.0])))
        with pytest.raises(DataError, match="amount"):
            mesh.publish("sales.orders", base.append_column("amount", pa.array(["12.345", "1", "2"])))
        with pytest.raises(DataError, match="amount"):
            mesh.publish("sales.orders", base.append_column("amount", pa.array([10**12, 1, 2], pa.int64())))
        assert len(mesh.product("sales.orders").history()) == 3


def test_every_row_of_every_batch_carries_its_publish_provenance(tmp_path: Path) -> None:
    """Batches of unequal length each get the four columns; an append leaves the earlier rows' values."""
    from dataclasses import replace
    from datetime import UTC, datetime

    import pyarrow as pa

    from tessera.storage import Provenance, TableStore

    store, uri = TableStore(), str(tmp_path / "orders")
    batches = [
        pa.record_batch({"id": list(range(start, start + n))}) for start, n in ((0, 3), (3, 5), (8, 2))
    ]
    first = Provenance(
        "orders", "sales", "1.0.0", "1.0.0", "h", "run-1", {}, datetime(2026, 1, 1, tzinfo=UTC)
    )
    second = replace(
        first, product_version="1.1.0", run_id="run-2", published_at=datetime(2026, 2, 1, tzinfo=UTC)
    )
    assert store.commit(uri, pa.Table.from_batches(batches), first) == 0
    assert store.commit(uri, pa.table({"id": [10]}), second, "append") == 1
    rows = sorted(DeltaTable(uri).to_pyarrow_table().to_pylist(), key=lambda row: row["id"])
    assert [row["id"] for row in rows] == list(range(11))
    assert {(row["_product_name"], row["_domain"]) for row in rows} == {("orders", "sales")}
    assert [row["_product_version"] for row in rows] == ["1.0.0"] * 10 + ["1.1.0"]
    assert [row["_publish_timestamp"] for row in rows] == [first.published_at] * 10 + [second.published_at]
