"""CSV downloads neutralise formula cells on request: REST ``safe_csv=true``, CLI ``--safe-csv``; without the
flag the values are exactly the data."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import warnings
from pathlib import Path

import pyarrow as pa
import pytest

import tessera
from tessera.platform.csv_cells import neutralise_table, neutralise_value
from tessera.server import create_app
from tests.fixtures.meshkit import make_mesh

with warnings.catch_warnings():  # starlette's TestClient announces its move to httpx2 on import
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

SEGMENTS = ['=HYPERLINK("http://evil","x")', "+1", "-2", "@SUM(A1)", "\tcmd", "\rcmd", "plain", None]
SAFE = ["'" + s if s and s[0] in "=+-@\t\r" else s for s in SEGMENTS]


@pytest.fixture(scope="module")
def mesh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_mesh(tmp_path_factory.mktemp("csv") / "mesh")
    with tessera.open(root) as m:
        m.apply()
        ids = [f"C{i}" for i in range(len(SEGMENTS))]
        m.publish("crm.customers", pa.table({"customer_id": ids, "segment": SEGMENTS}))
    return root


def _segments(text: str) -> list[str | None]:
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    return [r["segment"] if r["segment"] != "" else None for r in rows]


def test_neutralise_table_touches_only_text_that_a_spreadsheet_would_run() -> None:
    table = pa.table({"t": SEGMENTS, "n": list(range(-4, 4))})
    out = neutralise_table(table)
    assert out.column("t").to_pylist() == SAFE
    assert out.column("n").to_pylist() == list(range(-4, 4))
    plain = pa.table({"t": ["a", "b"]})
    assert neutralise_table(plain) is plain
    assert neutralise_value(-3) == -3 and neutralise_value("=1") == "'=1"


def test_rest_csv_is_neutralised_on_request(mesh: Path) -> None:
    with TestClient(create_app(mesh), base_url="http://127.0.0.1") as api:
        url = "/api/v1/products/crm/customers/data"
        raw = api.get(url, params={"format": "csv"})
        assert raw.status_code == 200, raw.text
        assert _segments(raw.text) == SEGMENTS
        safe = api.get(url, params={"format": "csv", "safe_csv": "true"})
        assert safe.status_code == 200, safe.text
        assert _segments(safe.text) == SAFE
        query = api.post(
            "/api/v1/query",
            json={
                "sql": "SELECT customer_id, segment FROM crm.customers ORDER BY 1",
                "format": "csv",
                "safe_csv": True,
            },
        )
        assert query.status_code == 200, query.text
        assert _segments(query.text) == SAFE
        as_json = api.get(url, params={"format": "json", "safe_csv": "true"})
        assert [r["segment"] for r in as_json.json()] == SEGMENTS  # only CSV changes


def _cli(*args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "tessera.cli", *args], capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.decode()  # bytes as written: a text pipe would turn the payload's \r into \n


def test_cli_read_and_query_neutralise_with_safe_csv(mesh: Path) -> None:
    assert _segments(_cli("-C", str(mesh), "read", "crm.customers", "--format", "csv")) == SEGMENTS
    assert _segments(_cli("-C", str(mesh), "read", "crm.customers", "--format", "csv", "--safe-csv")) == SAFE
    sql = "SELECT customer_id, segment FROM crm.customers ORDER BY customer_id"
    fast = _cli("-C", str(mesh), "query", sql, "--format", "csv", "--safe-csv")  # the fast path
    assert _segments(fast) == SAFE
