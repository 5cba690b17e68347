"""Python transforms: ``transform.py`` gets its inputs as DuckDB relations, Arrow tables or Polars frames,
returns a frame, declares its column lineage, and fails with a message naming the product and file:line."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import tessera
from tessera.errors import SpecError
from tessera.platform.publishing.build import build_one
from tests.fixtures.meshkit import DAILY_CONTRACT, product_doc, write

FILE = "domains/sales/products/summary/transform.py"
ODPS = "domains/sales/products/summary/product.odps.yaml"
ORDERS = {"name": "sales.orders", "version": "1.0.0", "contractId": "sales-orders"}
SOURCE = {"name": "source.pos.orders", "version": "1.0.0", "contractId": "source.pos.orders"}
BY_COUNTRY = """\
import duckdb


def transform(sales_orders):
    assert isinstance(sales_orders, duckdb.DuckDBPyRelation), type(sales_orders)
    paid = sales_orders.filter("amount > 0")
    return paid.query(
        "paid", "SELECT country, count(*) AS orders, sum(amount) AS revenue FROM paid GROUP BY country"
    )
"""
LINEAGE = [
    {"column": "country", "from": ["sales.orders.country"], "kind": "identity"},
    {"column": "orders", "from": ["sales.orders.*"], "kind": "aggregation"},
    {"column": "revenue", "from": ["sales.orders.amount"], "kind": "aggregation"},
    {"from": ["sales.orders.amount"], "kind": "filter"},
]


def add_summary(
    root: Path, code: str, *, inputs: list[dict[str, str]] | None = None, lineage: Any = None
) -> Path:
    """``sales.summary``: orders and revenue per country, built by ``code`` (the daily product in Python)."""
    contract = copy.deepcopy(DAILY_CONTRACT)
    contract.update(id="sales-summary", name="summary")
    contract["schema"][0]["name"] = "summary"
    base = root / "domains/sales/products/summary"
    write(base / "contract.odcs.yaml", contract)
    doc = product_doc("sales", "summary", contract, inputs if inputs is not None else [ORDERS])
    if lineage is not None:
        doc["customProperties"].append({"property": "tessera.lineage", "value": lineage})
    write(base / "product.odps.yaml", doc)
    (base / "transform.py").write_text(code)
    return base


def by_country(mesh: Any, address: str) -> dict[str, tuple[int, Any]]:
    table = mesh.read(address).to_pylist()
    return {r["country"]: (r["orders"], r["revenue"]) for r in table}


def built(mesh: Any) -> dict[str, Any]:
    return {o.address: o for o in mesh.build(jobs=1)}


def test_inputs_are_duckdb_relations_by_default(mesh_dir: Path) -> None:
    base = add_summary(mesh_dir, BY_COUNTRY)
    with tessera.open(mesh_dir) as mesh:
        outcomes = built(mesh)
        assert outcomes["sales.summary"].status == "published", outcomes["sales.summary"].message
        assert by_country(mesh, "sales.summary") == by_country(mesh, "sales.daily")
    assert sorted(p.name for p in base.iterdir()) == [
        "contract.odcs.yaml",
        "product.odps.yaml",
        "transform.py",
    ]


def test_arrow_inputs_through_one_inputs_mapping(mesh_dir: Path) -> None:
    code = """\
import pyarrow as pa

INPUT_FORMAT = "arrow"


def transform(inputs):
    assert sorted(inputs) == ["sales.orders", "source.pos.orders"], sorted(inputs)
    orders = inputs["sales.orders"]
    assert isinstance(orders, pa.Table) and isinstance(inputs["source.pos.orders"], pa.Table)
    grouped = orders.group_by("country").aggregate([("order_id", "count"), ("amount", "sum")])
    frame = grouped.to_pandas()
    return frame.rename(columns={"order_id_count": "orders", "amount_sum": "revenue"})
"""
    add_summary(mesh_dir, code, inputs=[ORDERS, SOURCE])
    with tessera.open(mesh_dir) as mesh:
        outcomes = built(mesh)
        assert outcomes["sales.summary"].status == "published", outcomes["sales.summary"].message
        assert by_country(mesh, "sales.summary") == by_country(mesh, "sales.daily")


def test_polars_inputs_by_parameter_name(mesh_dir: Path) -> None:
    code = """\
import polars as pl

INPUT_FORMAT = "polars"


def transform(sales_orders, source_pos_orders):
    assert isinstance(sales_orders, pl.DataFrame) and isinstance(source_pos_orders, pl.DataFrame)
    assert source_pos_orders.height == sales_orders.height
    return sales_orders.group_by("country").agg(
        pl.len().cast(pl.Int64).alias("orders"), pl.col("amount").sum().alias("revenue")
    )
"""
    add_summary(mesh_dir, code, inputs=[ORDERS, SOURCE])
    with tessera.open(mesh_dir) as mesh:
        outcomes = built(mesh)
        assert outcomes["sales.summary"].status == "published", outcomes["sales.summary"].message
        assert by_country(mesh, "sales.summary") == by_country(mesh, "sales.daily")


def test_declared_lineage_is_stored_as_column_edges(mesh_dir: Path) -> None:
    add_summary(mesh_dir, BY_COUNTRY, lineage=LINEAGE)
    with tessera.open(mesh_dir) as mesh:
        assert built(mesh)["sales.summary"].status == "published"
        up = mesh.lineage("sales.summary.revenue", direction="upstream")
        assert ("sales.orders.amount", "sales.summary.revenue", "aggregation") in up.edges
        assert ("source.pos.orders.amount", "sales.orders.amount", "identity") in up.edges
        down = mesh.lineage("sales.orders.amount", direction="downstream", depth=1).edges
        assert ("sales.orders.amount", "sales.summary", "filter") in down
        assert ("sales.orders.*", "sales.summary.orders", "aggregation") in mesh.lineage(
            "sales.summary.orders", direction="upstream"
        ).edges


def test_without_declared_lineage_only_product_edges_exist(mesh_dir: Path) -> None:
    add_summary(mesh_dir, BY_COUNTRY)
    with tessera.open(mesh_dir) as mesh:
        built(mesh)
        assert mesh.lineage("sales.summary.revenue", direction="upstream").edges == set()
        assert "sales.orders" in mesh.lineage("sales.summary", direction="upstream").nodes


def test_the_module_is_loaded_fresh_each_build(mesh_dir: Path) -> None:
    base = add_summary(mesh_dir, BY_COUNTRY)
    with tessera.open(mesh_dir) as mesh:
        built(mesh)
    (base / "transform.py").write_text(BY_COUNTRY.replace("amount > 0", "country = 'DE'"))
    with tessera.open(mesh_dir) as mesh:
        assert built(mesh)["sales.summary"].status == "published"
        assert set(by_country(mesh, "sales.summary")) == {"DE"}


@pytest.mark.parametrize(
    ("code", "line", "needles"),
    [
        ("def transform(sales_orders):\n    return sales_orders.filter(\n", 2, ["does not compile"]),
        ("def build(sales_orders):\n    return sales_orders\n", None, ["defines no function transform"]),
        (
            "def transform(orders):\n    return orders\n",
            1,
            ["parameter 'orders' is not an input", "sales_orders"],
        ),
    ],
    ids=["syntax", "no-function", "unknown-parameter"],
)
def test_a_transform_that_cannot_be_called_is_refused_before_anything_builds(
    mesh_dir: Path, code: str, line: int | None, needles: list[str]
) -> None:
    add_summary(mesh_dir, code)
    where = f"{FILE}:{line}" if line else FILE
    with tessera.open(mesh_dir) as mesh:
        outcomes = {o.address: o for o in mesh.build(jobs=1)}
        summary = outcomes["sales.summary"]
        assert summary.status == "failed" and where in summary.message
        for needle in needles:
            assert needle in summary.message
        assert outcomes["sales.orders"].status == "published"  # the independent rest still builds
        # the loader says the same when the build is asked for directly
        outcome = build_one(mesh.ctx, mesh.ctx.product("sales.summary"))
        assert outcome.status == "failed"
        assert outcome.message.startswith(f"sales.summary: {where}: ")
        for needle in needles:
            assert needle in outcome.message
        assert mesh.ctx.catalog.versions("sales.summary") == []


@pytest.mark.parametrize(
    ("code", "line", "needles"),
    [
        (
            "def transform(sales_orders):\n    totals = {}\n    return totals['revenue']\n",
            3,
            ["transform() raised KeyError: 'revenue'", "\n    return totals['revenue']"],
        ),
        (
            "def transform(sales_orders):\n    return sales_orders.query('t', 'SELECT nope FROM t')\n",
            2,
            ["transform() raised BinderException", '"nope"'],
        ),
        (
            "def transform(sales_orders):\n    return sales_orders.fetchall()\n",
            1,
            ["transform() returned a list, not a frame", "pyarrow Table"],
        ),
        (
            "def transform(sales_orders):\n    sales_orders.filter('amount > 0')\n",
            1,
            ["returned None (a missing return?)"],
        ),
    ],
    ids=["exception", "duckdb-error", "not-a-frame", "none"],
)
def test_a_failing_transform_names_the_line_and_publishes_nothing(
    mesh_dir: Path, code: str, line: int, needles: list[str]
) -> None:
    add_summary(mesh_dir, code)
    with tessera.open(mesh_dir) as mesh:
        outcomes = built(mesh)
        summary = outcomes["sales.summary"]
        assert summary.status == "failed"
        assert summary.message.startswith(f"sales.summary: {FILE}:{line}: "), summary.message
        for needle in needles:
            assert needle in summary.message
        assert "Traceback" not in summary.message
        assert mesh.ctx.catalog.versions("sales.summary") == []
        assert outcomes["sales.daily"].status == "published"  # the independent rest still builds


def test_declared_lineage_is_checked_against_the_contract_and_the_inputs(mesh_dir: Path) -> None:
    lineage = [
        {"column": "profit", "from": ["sales.orders.amount"], "kind": "transformation"},
        {"column": "revenue", "from": ["crm.customers.segment"], "kind": "aggregation"},
        {"column": "country", "from": ["sales.orders.nation"], "kind": "identity"},
    ]
    add_summary(mesh_dir, BY_COUNTRY, lineage=lineage)
    with tessera.open(mesh_dir) as mesh:
        summary = {o.address: o for o in mesh.build(jobs=1)}["sales.summary"]
    text = summary.message
    assert summary.status == "failed" and f"{ODPS}:" in text
    assert "column 'profit' is not in the contract (columns: country, orders, revenue)" in text
    assert "'crm.customers' is not an input port of sales.summary (inputs: sales.orders)" in text
    assert "sales.orders has no column 'nation'" in text
    assert text.count(f"{ODPS}:") == 3


def test_declared_lineage_shape_errors_fail_the_load(mesh_dir: Path) -> None:
    lineage = [
        {"column": "country", "from": ["sales.orders.country"], "kind": "filter"},
        {"column": "revenue", "from": ["amount"], "kind": "aggregation"},
        {"column": "orders", "from": ["sales.orders.*"], "kind": "count"},
    ]
    add_summary(mesh_dir, BY_COUNTRY, lineage=lineage)
    with tessera.open(mesh_dir) as mesh, pytest.raises(SpecError) as caught:
        mesh.spec  # loading the mesh checks every file
    text = str(caught.value)
    assert "a filter entry names the input columns that decide which rows exist" in text
    assert "'amount' names no input column" in text
    assert "'count' is not allowed; expected one of: identity" in text


def test_declared_lineage_of_a_source_column_is_checked_at_build(mesh_dir: Path) -> None:
    code = "def transform(source_pos_orders):\n    return source_pos_orders\n"
    lineage = [{"column": "country", "from": ["source.pos.orders.nation"], "kind": "identity"}]
    add_summary(mesh_dir, code, inputs=[SOURCE], lineage=lineage)
    with tessera.open(mesh_dir) as mesh:
        summary = built(mesh)["sales.summary"]
        assert summary.status == "failed"
        assert f"{ODPS}:" in summary.message and "source.pos.orders has no column 'nation'" in summary.message
        assert mesh.ctx.catalog.versions("sales.summary") == []


def test_sql_transforms_do_not_declare_lineage(mesh_dir: Path) -> None:
    add_summary(mesh_dir, BY_COUNTRY, lineage=LINEAGE)
    base = mesh_dir / "domains/sales/products/summary"
    (base / "transform.py").unlink()
    (base / "transform.sql").write_text("SELECT country, count(*) AS orders FROM sales.orders GROUP BY 1\n")
    with tessera.open(mesh_dir) as mesh:
        summary = {o.address: o for o in mesh.build(jobs=1)}["sales.summary"]
    assert summary.status == "failed" and "whose lineage is read from the SQL" in summary.message


def test_validate_reports_a_bad_signature_with_file_and_line(mesh_dir: Path) -> None:
    code = 'INPUT_FORMAT = "pandas"\n\n\ndef transform(sales_orders, orders):\n    return sales_orders\n'
    add_summary(mesh_dir, code)
    result = subprocess.run(
        [sys.executable, "-m", "tessera.cli", "-C", str(mesh_dir), "validate"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert f"{FILE}:4: transform: parameter 'orders' is not an input" in result.stderr
    assert f"{FILE}:1: INPUT_FORMAT: INPUT_FORMAT 'pandas' is not one of" in result.stderr
