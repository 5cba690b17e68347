"""The Dagster integration with the real ``dagster`` package: the example mesh materialised in process through
Tessera's build, its gate checks as asset checks, a refused build failing its asset with the gate's message,
and the sensor that runs downstream products when an upstream product gets a new version."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import tessera
from tessera.scaffold import write_example_mesh

dg = pytest.importorskip(
    "dagster", reason="dagster is not installed: pip install -e '.[dagster]' (CI has it)"
)

from tessera.integrations.dagster import SENSOR_NAME, asset_key, definitions  # noqa: E402

ORDERS = asset_key("sales.orders")
DOWNSTREAM_OF_ORDERS = {
    asset_key("customer_experience.customer_360_view"),
    asset_key("finance.revenue"),
    asset_key("sales.sales_performance"),
}


@pytest.fixture
def example(tmp_path: Path) -> Path:
    root = tmp_path / "example"
    write_example_mesh(root, scale=0.05)
    return root


def _assets(defs: Any) -> list[Any]:
    return list(defs.assets or [])


def test_the_example_mesh_materialises_through_the_build_with_its_checks(example: Path) -> None:
    defs = definitions(example)
    graph = defs.resolve_asset_graph()
    assert graph.get(asset_key("finance.revenue")).parent_keys == {ORDERS, asset_key("finance.invoices")}
    assert asset_key("source.pos.orders") in graph.get(ORDERS).parent_keys  # a source outside the mesh
    assert not graph.get(asset_key("source.pos.orders")).is_materializable
    assert {k.name for k in graph.get(ORDERS).check_keys} >= {"table.rowCount", "amount.range"}

    result = dg.materialize(_assets(defs), raise_on_error=False)

    assert result.success
    evaluations = result.get_asset_check_evaluations()
    on_orders = {e.check_name: e for e in evaluations if e.asset_key == ORDERS}
    assert {"table.rowCount", "order_id.primaryKey", "table.completed_orders_have_amount"} <= set(on_orders)
    assert all(e.passed for e in evaluations), [e.check_name for e in evaluations if not e.passed]
    rowcount = on_orders["table.rowCount"]
    assert rowcount.metadata["measured"].value > 0 and rowcount.severity == dg.AssetCheckSeverity.ERROR
    assert on_orders["table.cancellation_rate"].severity == dg.AssetCheckSeverity.WARN  # severity: warning
    materialised = {m.asset_key: m for m in result.get_asset_materialization_events()}
    assert set(materialised) == {asset_key(p.address) for p in tessera.open(example).spec.products}
    metadata = {k: v.value for k, v in materialised[ORDERS].materialization.metadata.items()}
    with tessera.open(example) as mesh:
        rows = mesh.read("sales.orders").num_rows
        owner = mesh.spec.product("sales.orders").owner  # type: ignore[union-attr]
    assert metadata["version"] == "sales.orders@v0" and metadata["rows"] == rows
    assert metadata["quality"] == "passed" and metadata["owner"] == owner and owner
    blocking = {s.name: s.blocking for s in defs.resolve_assets_def(ORDERS).check_specs}
    assert blocking["table.rowCount"] and not blocking["table.cancellation_rate"]

    again = dg.materialize(_assets(defs), selection=[ORDERS], raise_on_error=False)  # nothing changed
    [event] = again.get_asset_materialization_events()
    assert event.materialization.metadata["status"].value == "unchanged"
    assert all(e.passed for e in again.get_asset_check_evaluations())


def test_a_refused_build_fails_its_asset_with_the_gates_message(example: Path) -> None:
    contract_file = example / "domains/sales/products/orders/contract.odcs.yaml"
    contract = yaml.safe_load(contract_file.read_text())
    [rowcount] = [r for r in contract["schema"][0]["quality"] if r.get("metric") == "rowCount"]
    rowcount["mustBeGreaterOrEqualTo"] = 10**9  # more rows than the example has: the gate refuses
    contract_file.write_text(yaml.safe_dump(contract, sort_keys=False))
    defs = definitions(example)

    result = dg.materialize(_assets(defs), raise_on_error=False)

    assert not result.success
    [failure] = result.get_step_failure_events()
    assert failure.step_key == ORDERS.to_python_identifier()
    message = failure.step_failure_data.user_failure_data.description
    assert message.startswith("sales.orders: publish refused by the quality gate")
    assert "table.rowCount" in message and "1000000000" in message
    with tessera.open(example) as mesh:
        assert not mesh.ctx.catalog.versions("sales.orders")  # the gate decided: nothing published
    failed_check = next(
        e for e in result.get_asset_check_evaluations() if e.asset_key == ORDERS and not e.passed
    )
    assert failed_check.check_name == "table.rowCount"
    built = {m.asset_key for m in result.get_asset_materialization_events()}
    assert ORDERS not in built and not (DOWNSTREAM_OF_ORDERS & built)
    assert asset_key("customer_experience.customers") in built  # the independent rest still builds


def test_the_sensor_runs_the_downstream_products_of_a_new_upstream_version(example: Path) -> None:
    with tessera.open(example) as mesh:
        mesh.build(jobs=1)
    defs = definitions(example)
    sensor = defs.resolve_sensor_def(SENSOR_NAME)

    first = dg.build_sensor_context(cursor=None)
    skipped = sensor(first)
    assert isinstance(skipped, dg.SkipReason) and "first tick" in (skipped.skip_message or "")
    cursor = first.cursor
    assert cursor and '"sales.orders": "1.0"' in cursor

    quiet = dg.build_sensor_context(cursor=cursor)
    assert isinstance(sensor(quiet), dg.SkipReason)

    with tessera.open(example) as mesh:
        mesh.publish("sales.orders", mesh.read("sales.orders"))  # a new version, pushed outside Dagster
    tick = dg.build_sensor_context(cursor=cursor)
    request = sensor(tick)
    assert isinstance(request, dg.RunRequest)
    assert set(request.asset_selection or ()) == DOWNSTREAM_OF_ORDERS
    assert request.run_key == "sales.orders@1.1"
    assert '"sales.orders": "1.1"' in (tick.cursor or "")
    assert isinstance(sensor(dg.build_sensor_context(cursor=tick.cursor)), dg.SkipReason)


def test_a_pushed_product_is_external_and_its_new_version_runs_what_reads_it(mesh_dir: Path) -> None:
    from tests.fixtures.meshkit import orders_table

    (mesh_dir / "domains/sales/products/orders/transform.sql").unlink()  # sales.orders is now pushed
    defs = definitions(mesh_dir)
    graph = defs.resolve_asset_graph()
    assert not graph.get(ORDERS).is_materializable
    assert graph.get(asset_key("sales.daily")).parent_keys == {ORDERS}
    sensor = defs.resolve_sensor_def(SENSOR_NAME)
    first = dg.build_sensor_context(cursor=None)
    sensor(first)
    assert first.cursor == "{}"  # nothing published yet

    with tessera.open(mesh_dir) as mesh:
        mesh.publish("sales.orders", orders_table())
    tick = dg.build_sensor_context(cursor=first.cursor)
    request = sensor(tick)
    assert isinstance(request, dg.RunRequest)
    assert list(request.asset_selection or ()) == [asset_key("sales.daily")]

    result = dg.materialize(_assets(defs), selection=[asset_key("sales.daily")], raise_on_error=False)
    assert result.success
    [event] = result.get_asset_materialization_events()
    assert event.materialization.metadata["version"].value == "sales.daily@v0"


def test_refused_then_unchanged_on_each_catalog(mesh_on: Path) -> None:
    """The refused run's checks and an up-to-date product's checks come back from the catalog, on SQLite and
    PostgreSQL alike."""
    defs = definitions(mesh_on)
    first = dg.materialize(_assets(defs), selection=[ORDERS], raise_on_error=False)
    assert first.success
    again = dg.materialize(_assets(defs), selection=[ORDERS], raise_on_error=False)
    [event] = again.get_asset_materialization_events()
    assert event.materialization.metadata["status"].value == "unchanged"
    checks = again.get_asset_check_evaluations()
    assert checks and all(e.passed for e in checks)
    assert {e.check_name for e in checks} == {e.check_name for e in first.get_asset_check_evaluations()}

    contract_file = mesh_on / "domains/sales/products/orders/contract.odcs.yaml"
    contract = yaml.safe_load(contract_file.read_text())
    contract["schema"][0]["quality"] = [{"metric": "rowCount", "mustBeGreaterThan": 10**6}]
    contract["version"] = "1.1.0"  # else the version gate refuses first
    contract_file.write_text(yaml.safe_dump(contract, sort_keys=False))
    refused = dg.materialize(_assets(definitions(mesh_on)), selection=[ORDERS], raise_on_error=False)
    assert not refused.success
    [failed] = [e for e in refused.get_asset_check_evaluations() if not e.passed]
    assert failed.check_name == "table.rowCount" and failed.severity == dg.AssetCheckSeverity.ERROR


def test_without_dagster_the_integration_says_how_to_install_it(example: Path) -> None:
    code = f"""
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "dagster":
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, Block())
from tessera.errors import TesseraError
from tessera.integrations.dagster import definitions
try:
    definitions({str(example)!r})
except TesseraError as exc:
    print(exc)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "pip install 'tessera[dagster]'" in result.stdout


# ---- docs/orchestrators.md, "Dagster": its snippets run ------------------------------------------------------

DOCS = Path(__file__).resolve().parents[2] / "docs" / "orchestrators.md"


def _blocks(lang: str) -> list[str]:
    section = DOCS.read_text().split("## Dagster\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(rf"```{lang}\n(.*?)```", section, re.S)


@pytest.mark.slow
def test_the_documented_code_location_loads_in_dagster(tmp_path: Path) -> None:
    write_example_mesh(tmp_path / "my-mesh", scale=0.05)
    location, _ = _blocks("python")
    (tmp_path / "definitions.py").write_text(location)
    [validate] = [c.split("  #")[0].split() for c in _blocks("bash")[0].splitlines() if "validate" in c]
    dagster_cli = str(Path(sys.executable).parent / "dagster")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run(
        [dagster_cli, *validate[1:]], cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation successful" in result.stderr + result.stdout


def test_the_documented_script_materialises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_example_mesh(tmp_path / "my-mesh", scale=0.05)
    monkeypatch.chdir(tmp_path)
    _, script = _blocks("python")
    scope: dict[str, Any] = {}
    exec(compile(script, str(DOCS), "exec"), scope)
    assert scope["result"].success and all(e.passed for e in scope["result"].get_asset_check_evaluations())
    built = {e.asset_key for e in scope["again"].get_asset_materialization_events()}
    assert built == {ORDERS, *DOWNSTREAM_OF_ORDERS}
