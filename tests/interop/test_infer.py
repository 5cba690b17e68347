"""Inferring an ODCS contract from data (tessera.interop.infer): types, nullability, keys, suggested rules,
personal data, the four formats, and clear refusals."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
import yaml

from tessera.errors import DataError, NotFoundError
from tessera.interop.infer import infer_contract
from tessera.spec import load_contract

ROWS = 300


def _table(rows: int = ROWS) -> pa.Table:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return pa.table(
        {
            "shipment_id": pa.array(range(rows), pa.int64()),
            "contact": [None if i % 10 == 0 else f"user{i}@example.com" for i in range(rows)],
            "phone_number": [f"+33 6 12 34 {i % 100:02d}" for i in range(rows)],
            "reference": [str(1000000 + i) for i in range(rows)],
            "status": [("created", "shipped", "delivered")[i % 3] for i in range(rows)],
            "note": [f"parcel {i} left at the door" for i in range(rows)],
            "weight": pa.array([i / 4 for i in range(rows)], pa.float64()),
            "amount": pa.array([Decimal(i) / 100 for i in range(rows)], pa.decimal128(10, 2)),
            "express": [i % 2 == 0 for i in range(rows)],
            "shipped_on": [date(2026, 1, 1) + timedelta(days=i % 30) for i in range(rows)],
            "created_at": pa.array(
                [start + timedelta(minutes=i) for i in range(rows)], pa.timestamp("us", "UTC")
            ),
            "warehouse": pa.array([i % 7 for i in range(rows)], pa.int32()),
        }
    )


def _props(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in doc["schema"][0]["properties"]}


@pytest.fixture
def parquet_file(tmp_path: Path) -> Path:
    path = tmp_path / "shipments.parquet"
    pq.write_table(_table(), path)
    return path


def test_types_nullability_keys_and_suggestions(parquet_file: Path, tmp_path: Path) -> None:
    doc = infer_contract(str(parquet_file), "parquet")
    assert doc["apiVersion"] == "v3.1.0" and doc["kind"] == "DataContract" and doc["name"] == "shipments"
    props = _props(doc)
    assert list(props) == [f.name for f in _table().schema]
    types = {n: (p["logicalType"], p["physicalType"]) for n, p in props.items()}
    assert types == {
        "shipment_id": ("integer", "bigint"),
        "contact": ("string", "varchar"),
        "phone_number": ("string", "varchar"),
        "reference": ("string", "varchar"),
        "status": ("string", "varchar"),
        "note": ("string", "varchar"),
        "weight": ("number", "double"),
        "amount": ("number", "decimal(10,2)"),
        "express": ("boolean", "boolean"),
        "shipped_on": ("date", "date"),
        "created_at": ("timestamp", "timestamp"),
        "warehouse": ("integer", "int"),
    }
    assert "required" not in props["contact"]  # it has nulls
    assert all(props[n].get("required") for n in props if n != "contact")
    key = props["shipment_id"]
    assert key["unique"] and key["primaryKey"] and key["primaryKeyPosition"] == 1
    assert not any(props[n].get("unique") for n in props if n != "shipment_id")  # weight is unique, not a key
    assert doc["schema"][0]["quality"] == [{"metric": "rowCount", "mustBeGreaterThan": 0}]
    [nulls] = props["contact"]["quality"]
    assert nulls["metric"] == "nullValues" and nulls["unit"] == "percent" and nulls["severity"] == "warning"
    assert nulls["mustBeLessOrEqualTo"] >= 10  # 10% null today: the ceiling leaves headroom
    [values] = props["status"]["quality"]
    assert values["arguments"] == {"validValues": ["created", "delivered", "shipped"]}
    assert values["severity"] == "warning"
    assert "quality" not in props["warehouse"]  # numbers get no value list and no min/max
    # the document is a valid ODCS contract for Tessera's strict loader
    path = tmp_path / "contract.odcs.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    contract = load_contract(path, strict_tessera=True)
    assert [c.name for c in contract.columns] == list(props)


def test_personal_data_by_name_and_by_value_with_a_retention(parquet_file: Path) -> None:
    doc = infer_contract(str(parquet_file), "parquet", name="deliveries")
    props = _props(doc)
    classified = {n for n, p in props.items() if p.get("classification") == "pii"}
    # contact holds emails (by value), phone_number is named so; reference is digits, note is prose
    assert classified == {"contact", "phone_number"}
    assert doc["tags"] == ["pii"]
    assert "quality" not in props["phone_number"] or all(
        q["metric"] != "invalidValues" for q in props["phone_number"]["quality"]
    )
    sla = {s["property"]: s for s in doc["slaProperties"]}
    assert sla["frequency"]["value"] == 1
    assert sla["retention"]["element"] == "deliveries.created_at"  # a time column, named like one
    assert doc["id"] == "deliveries" and doc["schema"][0]["name"] == "deliveries"


def test_one_null_in_many_rows_is_not_required(tmp_path: Path) -> None:
    """DuckDB's SUMMARIZE rounds its null percentage to 0.00 here; the profile counts nulls exactly."""
    rows = 200_000
    ids = pa.array([None if i == rows - 7 else i for i in range(rows)], pa.int64())
    pq.write_table(pa.table({"warehouse_id": ids}), tmp_path / "w.parquet")
    props = _props(infer_contract(str(tmp_path / "w.parquet"), "parquet"))
    assert "required" not in props["warehouse_id"] and "unique" not in props["warehouse_id"]


def test_duplicates_in_a_key_like_column_are_not_unique(tmp_path: Path) -> None:
    ids = list(range(1000))
    ids[500] = 499
    pq.write_table(pa.table({"order_id": ids}), tmp_path / "o.parquet")
    prop = _props(infer_contract(str(tmp_path / "o.parquet"), "parquet"))["order_id"]
    assert prop["required"] and "unique" not in prop and "primaryKey" not in prop


def test_csv_json_and_delta(tmp_path: Path) -> None:
    from deltalake import write_deltalake

    table = _table(100)
    pacsv.write_csv(table, tmp_path / "s.csv")
    records = table.to_pylist()
    lines = [json.dumps(r, default=str) for r in records]
    (tmp_path / "s.json").write_text("\n".join(lines) + "\n")
    write_deltalake(str(tmp_path / "delta"), table)
    for source, fmt in (
        (tmp_path / "s.csv", "csv"),
        (tmp_path / "s.json", "json"),
        (tmp_path / "delta", "delta"),
    ):
        props = _props(infer_contract(str(source), fmt))
        assert props["shipment_id"]["logicalType"] == "integer", fmt
        assert props["shipment_id"].get("primaryKey"), fmt
        assert props["status"]["logicalType"] == "string", fmt
        assert props["created_at"]["logicalType"] == "timestamp", fmt
        assert props["contact"].get("classification") == "pii" and "required" not in props["contact"], fmt
    with pytest.raises(DataError, match="is a Delta table"):
        infer_contract(str(tmp_path / "delta"), "parquet")
    (tmp_path / "parts").mkdir()
    pq.write_table(table.slice(0, 50), tmp_path / "parts" / "a.parquet")
    pq.write_table(table.slice(50), tmp_path / "parts" / "b.parquet")
    assert "required" not in _props(infer_contract(str(tmp_path / "parts"), "parquet"))["contact"]
    delta = _props(infer_contract(str(tmp_path / "delta"), "delta"))
    assert delta["amount"]["physicalType"] == "decimal(10,2)" and delta["shipped_on"]["logicalType"] == "date"


def test_bad_sources_are_one_clear_error(tmp_path: Path, parquet_file: Path) -> None:
    with pytest.raises(DataError, match="unknown data format 'xlsx'"):
        infer_contract(str(parquet_file), "xlsx")
    with pytest.raises(NotFoundError, match="no file"):
        infer_contract(str(tmp_path / "missing.parquet"), "parquet")
    (tmp_path / "table.parquet").write_text("id,name\n1,a\n")
    with pytest.raises(DataError, match=r"is not a readable parquet file"):
        infer_contract(str(tmp_path / "table.parquet"), "parquet")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match="empty"):
        infer_contract(str(tmp_path / "empty.csv"), "csv")
    with pytest.raises(NotFoundError, match="no Delta table"):
        infer_contract(str(tmp_path), "delta")


def test_data_inside_a_mesh_storage_root_or_tessera_folder_is_refused(tmp_path: Path) -> None:
    from tessera.scaffold import write_empty_mesh

    root = tmp_path / "m"
    write_empty_mesh(root)
    for inside in (root / "data" / "sales" / "orders" / "v1", root / ".tessera"):
        inside.mkdir(parents=True)
        pq.write_table(_table(10), inside / "part-0.parquet")
        with pytest.raises(DataError, match="lies inside the mesh"):
            infer_contract(str(inside / "part-0.parquet"), "parquet")
    pq.write_table(_table(10), root / "mine.parquet")  # the mesh folder itself is fine
    assert infer_contract(str(root / "mine.parquet"), "parquet")["name"] == "mine"
