"""Hostile data files: a Parquet decompression bomb (under 1 MB on disk, 8 GB unpacked) missing a contract
column is refused from its footer, before 1 GB of RSS, by ``tessera publish`` and by ``tessera test`` on a bare
contract; a file that does match is read in bounded batches."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from tessera.errors import DataError
from tessera.platform.publishing.data import read_file
from tessera.spec.contract import load_contract
from tests.fixtures.hostilekit import Measured, parquet_bomb, run_measured
from tests.fixtures.meshkit import CUSTOMERS_CONTRACT, ORDERS_CONTRACT, make_mesh

PEAK_MB = 1000


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = parquet_bomb(tmp_path_factory.mktemp("bomb") / "bomb.parquet")
    assert path.stat().st_size < 2 * 1024 * 1024
    assert pq.ParquetFile(path).metadata.num_rows == 20_000_000
    return path


def _refused_early(result: Measured) -> None:
    assert not result.killed, "the command hung"
    assert result.returncode == 1, result.stderr + result.stdout
    assert "Traceback" not in result.stderr + result.stdout
    assert "column 'order_id' is missing (the contract declares it)" in result.stderr, result.stderr
    assert result.peak_mb < PEAK_MB, f"peaked at {result.peak_mb:.0f} MB"


def test_publish_refuses_a_bomb_missing_a_column_from_its_footer(tmp_path: Path, bomb: Path) -> None:
    mesh = make_mesh(tmp_path / "mesh")
    result = run_measured("-C", str(mesh), "publish", "sales.orders", "--from", str(bomb))
    _refused_early(result)
    assert result.stderr.startswith("error: sales.orders: the data does not conform to the contract")
    history = run_measured("-C", str(mesh), "history", "sales.orders")
    assert "no published version" in history.stdout + history.stderr


def test_bare_contract_test_refuses_a_bomb_from_its_footer(tmp_path: Path, bomb: Path) -> None:
    doc = dict(
        ORDERS_CONTRACT,
        servers=[{"server": "local", "type": "local", "path": str(bomb), "format": "parquet"}],
    )
    (tmp_path / "contract.odcs.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    _refused_early(run_measured("test", str(tmp_path / "contract.odcs.yaml")))


def test_a_matching_file_that_unpacks_too_far_is_refused_while_reading(tmp_path: Path, bomb: Path) -> None:
    (tmp_path / "c.odcs.yaml").write_text(yaml.safe_dump(CUSTOMERS_CONTRACT, sort_keys=False))
    contract = load_contract(tmp_path / "c.odcs.yaml")
    with pytest.raises(DataError, match=r"unpacks to more than 64.0 MB in memory \(from .* on disk\)"):
        read_file(bomb, contract=contract, max_bytes=64 * 1024 * 1024)


def test_csv_header_is_checked_before_reading(tmp_path: Path) -> None:
    (tmp_path / "c.odcs.yaml").write_text(yaml.safe_dump(CUSTOMERS_CONTRACT, sort_keys=False))
    contract = load_contract(tmp_path / "c.odcs.yaml")
    (tmp_path / "wrong.csv").write_text("customer_id,colour\nC1,red\n")
    with pytest.raises(DataError) as caught:
        read_file(tmp_path / "wrong.csv", contract=contract)
    assert "column 'segment' is missing" in str(caught.value)
    assert "columns not in the contract: 'colour'" in str(caught.value)
    (tmp_path / "right.csv").write_text("customer_id,segment\nC1,retail\nC2,\n")
    table = read_file(tmp_path / "right.csv", contract=contract)
    assert table.num_rows == 2
    assert table.column("segment").to_pylist() == ["retail", None]


def test_reading_in_batches_keeps_every_row(tmp_path: Path) -> None:
    table = pa.table({"customer_id": [f"C{i}" for i in range(200_000)], "segment": ["s"] * 200_000})
    pq.write_table(table, tmp_path / "many.parquet")
    assert read_file(tmp_path / "many.parquet").equals(table)
