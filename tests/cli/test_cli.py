"""The CLI as a user runs it: clear messages and exit codes, never a traceback, nothing changed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.fixtures.meshkit import orders_table


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tessera.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def assert_clean_failure(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode in (1, 2), result.stderr + result.stdout
    assert "Traceback" not in result.stderr + result.stdout
    for needle in needles:
        assert needle in result.stderr, result.stderr


def test_help_lists_commands() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in (
        "init",
        "validate",
        "plan",
        "apply",
        "build",
        "publish",
        "test",
        "read",
        "query",
        "catalog",
    ):
        assert command in result.stdout


def test_publish_read_history_query_from_files(mesh_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "orders.parquet"
    pq.write_table(orders_table(), data)
    assert run("-C", str(mesh_dir), "apply").returncode == 0
    result = run("-C", str(mesh_dir), "publish", "sales.orders", "--from", str(data), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["delta_version"] == 0
    csv = tmp_path / "orders.csv"
    csv.write_text(
        run(
            "-C",
            str(mesh_dir),
            "read",
            "sales.orders",
            "--format",
            "csv",
            "--columns",
            "order_id,amount,customer_id,email,ordered_at,country",
        ).stdout
    )
    assert run("-C", str(mesh_dir), "publish", "sales.orders", "--from", str(csv)).returncode == 0
    out = run("-C", str(mesh_dir), "read", "sales.orders@v0", "--format", "json", "--limit", "3")
    assert len(out.stdout.strip().splitlines()) == 3
    history = json.loads(run("-C", str(mesh_dir), "history", "sales.orders", "--json").stdout)
    assert [h["release"] for h in history] == ["sales.orders@v0", "sales.orders@v1"]
    out = run("-C", str(mesh_dir), "query", "select count(*) as n from sales.orders", "--format", "json")
    assert json.loads(out.stdout.strip()) == {"n": 100}


def test_bad_inputs_give_one_clear_message(mesh_dir: Path, tmp_path: Path) -> None:
    fake = tmp_path / "fake.parquet"
    fake.write_text("this is not parquet")
    assert_clean_failure(
        run("-C", str(mesh_dir), "publish", "sales.orders", "--from", str(fake)), "not a readable parquet"
    )
    assert_clean_failure(run("-C", str(mesh_dir), "read", "sales.orders"), "no published version yet")
    assert_clean_failure(run("-C", str(mesh_dir), "read", "nope"), "not a product address")
    assert_clean_failure(run("-C", str(mesh_dir), "read", "sales.nothing"), "no product")
    bad = tmp_path / "bad.parquet"
    pq.write_table(orders_table(bad=True), bad)
    assert_clean_failure(
        run("-C", str(mesh_dir), "publish", "sales.orders", "--from", str(bad)), "quality gate", "customer_id"
    )
    assert not (mesh_dir / "data" / "sales" / "orders" / "v1" / "_delta_log").exists()


def test_malformed_yaml_unknown_key_and_wrong_type(mesh_dir: Path) -> None:
    domain = mesh_dir / "domains/crm/domain.yaml"
    domain.write_text(domain.read_text() + "descripton: typo\n")
    contract = mesh_dir / "domains/sales/products/daily/contract.odcs.yaml"
    contract.write_text(contract.read_text().replace("required: true", "required: maybe", 1))
    result = run("-C", str(mesh_dir), "validate")
    assert_clean_failure(result, "domains/crm/domain.yaml:", "descripton", "contract.odcs.yaml:")
    assert result.returncode == 2
    (mesh_dir / "mesh.yaml").write_text("name: [unclosed\n")
    assert_clean_failure(run("-C", str(mesh_dir), "validate"), "mesh.yaml:")


def test_not_a_mesh(tmp_path: Path) -> None:
    assert_clean_failure(run("-C", str(tmp_path), "plan"), "tessera init")


@pytest.mark.parametrize("target", ["contract"])
def test_bare_contract_test_outside_a_mesh(tmp_path: Path, target: str) -> None:
    import yaml

    from tests.fixtures.meshkit import ORDERS_CONTRACT

    pq.write_table(orders_table(), tmp_path / "orders.parquet")
    doc = dict(
        ORDERS_CONTRACT,
        servers=[{"server": "local", "type": "local", "path": "orders.parquet", "format": "parquet"}],
    )
    (tmp_path / "contract.odcs.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    ok = run("test", str(tmp_path / "contract.odcs.yaml"), "--output", "json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["outcome"] == "passed"
    pq.write_table(orders_table(bad=True), tmp_path / "bad.parquet")
    junit = run(
        "test",
        str(tmp_path / "contract.odcs.yaml"),
        "--data",
        str(tmp_path / "bad.parquet"),
        "--output",
        "junit",
    )
    assert junit.returncode == 1
    assert "<failure" in junit.stdout and "customer_id" in junit.stdout


def test_contract_diff_exit_codes(tmp_path: Path) -> None:
    import yaml

    from tests.fixtures.meshkit import ORDERS_CONTRACT

    old = tmp_path / "old.odcs.yaml"
    old.write_text(yaml.safe_dump(ORDERS_CONTRACT, sort_keys=False))
    new_doc = json.loads(json.dumps(ORDERS_CONTRACT))
    new_doc["version"] = "2.0.0"
    new_doc["schema"][0]["properties"] = new_doc["schema"][0]["properties"][:-1]
    new_doc["schema"][0]["properties"].append({"name": "channel", "logicalType": "string"})
    new = tmp_path / "new.odcs.yaml"
    new.write_text(yaml.safe_dump(new_doc, sort_keys=False))
    result = run("contract", "diff", str(old), str(new))
    assert result.returncode == 1, result.stderr
    assert "country" in result.stdout and "breaking" in result.stdout.lower()
    same = run("contract", "diff", str(old), str(old))
    assert same.returncode == 0


def test_query_fast_path_matches_the_catalog_path(mesh_dir: Path) -> None:
    import tessera
    from tessera.platform.reading.quick import quick_query

    with tessera.open(mesh_dir) as mesh:
        assert (
            quick_query(mesh_dir, "select count(*) as n from sales.orders") is None
        )  # never published: full path
        mesh.publish("sales.orders", orders_table())
        mesh.publish("sales.orders", orders_table(40))
        sql = "select country, count(*) as n, sum(amount) as s from sales.orders group by 1 order by 1"
        assert quick_query(mesh_dir, sql) == mesh.query(sql).to_pylist()
        mesh.build(["sales.daily"])
        join = "select count(*) as n from sales.orders o join sales.daily d using (country)"  # DuckDB binds USING
        assert quick_query(mesh_dir, join) == mesh.query(join).to_pylist() == [{"n": 40}]
    assert_clean_failure(
        run("-C", str(mesh_dir), "query", "select * from crm.customers"), "no published version yet"
    )
    assert_clean_failure(run("-C", str(mesh_dir), "query", "select nope from sales.orders"), "nope")


def test_transform_reading_an_undeclared_product_is_caught(mesh_dir: Path) -> None:
    sql = mesh_dir / "domains/sales/products/daily/transform.sql"
    sql.write_text(
        "SELECT c.country, count(*) AS orders, sum(o.amount) AS revenue\n"
        "FROM sales.orders o JOIN crm.customers c ON o.customer_id = c.customer_id GROUP BY 1\n"
    )
    result = run("-C", str(mesh_dir), "validate")
    assert_clean_failure(
        result, "domains/sales/products/daily/transform.sql:2", "crm.customers", "inputPorts"
    )
    assert_clean_failure(run("-C", str(mesh_dir), "build", "sales.daily"), "crm.customers")
    sql.write_text("SELECT FROM WHERE (\n")
    assert_clean_failure(run("-C", str(mesh_dir), "validate"), "does not parse")


def test_misspelt_contract_description_key_and_unknown_status(mesh_dir: Path) -> None:
    contract = mesh_dir / "domains/crm/products/customers/contract.odcs.yaml"
    contract.write_text(contract.read_text() + "description:\n  usag: typo\n")
    product = mesh_dir / "domains/crm/products/customers/product.odps.yaml"
    product.write_text(product.read_text().replace("status: active", "status: activ"))
    result = run("-C", str(mesh_dir), "validate")
    assert_clean_failure(result, "usag", "did you mean 'usage'", "activ")


def test_lineage_and_status_name_what_does_not_exist(mesh_dir: Path) -> None:
    assert run("-C", str(mesh_dir), "build", "sales.orders").returncode == 0
    assert_clean_failure(run("-C", str(mesh_dir), "lineage", "sales.orders.nocol"), "nocol")
    assert_clean_failure(run("-C", str(mesh_dir), "status", "sales.nope"), "sales.nope")
    ok = run("-C", str(mesh_dir), "lineage", "sales.orders.amount", "--as-of", "@v0", "--format", "json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["root"] == "sales.orders.amount"
    mesh_yaml = mesh_dir / "mesh.yaml"
    mesh_yaml.write_text(mesh_yaml.read_text() + "lineage:\n  transport: http\n")
    assert_clean_failure(run("-C", str(mesh_dir), "validate"), "lineage", "url")
