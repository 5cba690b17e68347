"""Airflow: the generated DAG and the operator run with the real Apache Airflow (docs/orchestrators.md, Airflow).

Airflow has its own virtualenv (``bash scripts/setup-airflow``; ``.ci/run`` runs this file there). Its tests run
``dag.test()`` in a child process whose ``AIRFLOW_HOME`` (SQLite metadata database, DAGs folder, OpenLineage
file) is a temporary folder; where Airflow is not installed they skip, saying so. The scheduling rule
(``tessera.integrations.due``) is tested everywhere."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

import tessera
from tessera.errors import TesseraError
from tessera.integrations.due import combined_crons, is_due

REPO = Path(__file__).resolve().parents[2]
DOC = (REPO / "docs/orchestrators.md").read_text()
HAS_AIRFLOW = importlib.util.find_spec("airflow") is not None
needs_airflow = pytest.mark.skipif(
    not HAS_AIRFLOW,
    reason="Apache Airflow is not installed in this interpreter: bash scripts/setup-airflow, then "
    ".venv-airflow/bin/python -m pytest tests/integrations/test_airflow.py (CI runs it there)",
)


def _airflow_snippets() -> list[str]:
    section = DOC.split("## Airflow", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def _example_mesh(where: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "tessera", "init", "--example", "--scale", "0.05", str(where)],
        check=True,
        capture_output=True,
    )
    return where


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _example_mesh(tmp_path_factory.mktemp("due") / "mesh")


# -- the scheduling rule, without Airflow ------------------------------------------------------------------


def test_the_example_meshs_hourly_and_daily_products_run_hourly(example: Path) -> None:
    products = tessera.open(example).spec.products
    assert {p.update_frequency for p in products} == {"hourly", "daily"}
    assert combined_crons(products) == ("0 * * * *",)


def test_schedules_that_do_not_nest_are_kept_apart(example: Path) -> None:
    orders, revenue, *rest = tessera.open(example).spec.products
    products = [
        dataclasses.replace(orders, update_frequency="30 6 * * *"),
        dataclasses.replace(revenue, update_frequency="0 */2 * * *"),
        *[dataclasses.replace(p, update_frequency="0 0 * * *") for p in rest],  # inside every two hours
    ]
    assert combined_crons(products) == ("0 */2 * * *", "30 6 * * *")
    assert combined_crons([dataclasses.replace(p, update_frequency=None) for p in products]) == ()


def test_a_wrong_schedule_is_an_error_naming_the_product(example: Path) -> None:
    product = tessera.open(example).spec.products[0]
    with pytest.raises(
        TesseraError, match=rf"{re.escape(product.address)}: invalid schedule '0 25 \* \* \*'"
    ):
        combined_crons([dataclasses.replace(product, update_frequency="0 25 * * *")])


def test_a_product_is_due_at_its_own_times_after_its_upstream_or_by_hand(example: Path) -> None:
    product = tessera.open(example).spec.products[0]
    daily = dataclasses.replace(product, update_frequency="daily")
    midnight, one = datetime(2026, 12, 7, 0, 0, 30, tzinfo=UTC), datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
    assert is_due(daily, midnight, upstream_built=False, manual=False)
    assert not is_due(daily, one, upstream_built=False, manual=False)
    assert is_due(daily, one, upstream_built=True, manual=False)
    assert is_due(daily, one, upstream_built=False, manual=True)
    unscheduled = dataclasses.replace(product, update_frequency=None)
    assert not is_due(unscheduled, midnight, upstream_built=False, manual=False)
    assert is_due(unscheduled, midnight, upstream_built=True, manual=False)


def test_without_airflow_the_module_says_how_to_install_it() -> None:
    block = (
        "import sys\nclass Block:\n    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'airflow':\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from tessera.errors import TesseraError\n"
        "try:\n    import tessera.integrations.airflow\nexcept TesseraError as exc:\n    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", block], capture_output=True, text=True, check=True).stdout
    assert "pip install 'tessera[airflow]'" in out and "Apache Airflow 3.1" in out


# -- with the real Airflow ------------------------------------------------------------------------------------

_RUNNER = """
import json, os, runpy, sys
from datetime import datetime
dag = runpy.run_path(sys.argv[1])["dag"]
if len(sys.argv) > 2:
    # dag.test() always makes a manual run; make it the run the scheduler would make at that time
    import airflow.models.dagrun as dagrun
    from airflow.utils.types import DagRunType
    manual = dagrun.get_or_create_dagrun
    def scheduled(**kwargs):
        run = manual(**kwargs)
        run.run_type = DagRunType.SCHEDULED
        kwargs["session"].commit()
        return run
    dagrun.get_or_create_dagrun = scheduled
    at = datetime.fromisoformat(sys.argv[2])
    run = dag.test(logical_date=at, run_after=at)
else:
    run = dag.test()
from airflow.models.xcom import XComModel
from airflow.utils.session import create_session
with create_session() as session:
    rows = session.query(XComModel).filter(
        XComModel.dag_id == run.dag_id, XComModel.run_id == run.run_id, XComModel.key == "return_value"
    ).all()
    xcoms = {row.task_id: row.value for row in rows}
state = lambda s: getattr(s, "value", s)
tis = run.get_task_instances()
tasks = {ti.task_id: state(ti.state) for ti in tis}
tries = {ti.task_id: ti.try_number for ti in tis}
result = {"state": state(run.state), "tasks": tasks, "tries": tries, "xcoms": xcoms}
with open(os.environ["TESSERA_TEST_RESULT"], "w") as out:  # not stdout: Airflow's loggers write there too
    json.dump(result, out, default=str)
"""


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An AIRFLOW_HOME with a migrated SQLite metadata database, shared by the module's runs."""
    home = tmp_path_factory.mktemp("airflow")
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        env=_env(home, home / "dags"),
        check=True,
        capture_output=True,
    )
    yield home


def _env(home: Path, dags: Path) -> dict[str, str]:
    return {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
            {"type": "file", "log_file_path": str(dags / "openlineage.json"), "append": True}
        ),
    }


def _dag_test(
    home: Path, name: str, source: str, *, scheduled_at: str | None = None
) -> tuple[dict[str, object], str, Path]:
    """Run ``dag.test()`` of the DAG file ``source`` in a child process (as a scheduled run at ``scheduled_at``
    if given): its result, its output, its folder."""
    dags = home / name
    dags.mkdir(exist_ok=True)
    dag_file = dags / f"dag_{name}.py"
    dag_file.write_text(source)
    runner = dags / "run_dag_test.py.txt"  # not a .py file: Airflow's DAG processor does not parse it
    runner.write_text(_RUNNER)
    result = dags / "result.json"
    result.unlink(missing_ok=True)
    proc = subprocess.run(
        [sys.executable, str(runner), str(dag_file), *([scheduled_at] if scheduled_at else [])],
        env={**_env(home, dags), "TESSERA_TEST_RESULT": str(result)},
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0 and result.exists(), output[-6000:]
    return json.loads(result.read_text()), output, dags


def _names(datasets: list[dict[str, str]]) -> list[str]:
    return sorted(f"{d['namespace']}/{d['name']}" for d in datasets)


def _lineage(dags: Path) -> dict[str, tuple[list[str], list[str]]]:
    text, decoder, events, at = (dags / "openlineage.json").read_text(), json.JSONDecoder(), [], 0
    while (at := len(text) - len(text[at:].lstrip())) < len(text):
        event, at = decoder.raw_decode(text, at)
        events.append(event)
    return {
        e["job"]["name"]: (_names(e.get("inputs", [])), _names(e.get("outputs", [])))
        for e in events
        if e["eventType"] == "COMPLETE"
    }


@needs_airflow
@pytest.mark.slow
def test_the_generated_dag_builds_the_example_mesh(airflow_home: Path, tmp_path: Path) -> None:
    mesh = _example_mesh(tmp_path / "example")
    snippet = _airflow_snippets()[0]
    assert "dag_from_mesh(" in snippet
    result, output, dags = _dag_test(
        airflow_home, "whole_mesh", snippet.replace("/srv/meshes/example", str(mesh))
    )
    with tessera.open(mesh) as opened:
        addresses = sorted(p.address for p in opened.spec.products)
        assert result["state"] == "success", output[-6000:]
        assert result["tasks"] == dict.fromkeys(addresses, "success")
        for address in addresses:  # published through the gates: the catalog has its version
            versions = opened.ctx.catalog.versions(address)
            assert versions, address
            summary = result["xcoms"][address]  # type: ignore[index]
            entry = summary["products"][0]
            assert (entry["address"], entry["status"], entry["version"]) == (address, "published", 0)
            assert entry["rows"] == versions[-1]["row_count"] > 0
    lineage = _lineage(dags)
    assert lineage["tessera_example.finance.revenue"] == (
        ["tessera://example/finance.invoices", "tessera://example/sales.orders"],
        ["tessera://example/finance.revenue"],
    )
    assert lineage["tessera_example.sales.orders"] == (
        ["tessera://example/source.pos.orders"],
        ["tessera://example/sales.orders"],
    )


@needs_airflow
@pytest.mark.slow
def test_a_refused_product_fails_its_task_and_stops_what_reads_it(airflow_home: Path, tmp_path: Path) -> None:
    mesh = _example_mesh(tmp_path / "broken")
    contract = mesh / "domains/sales/products/orders/contract.odcs.yaml"
    text = contract.read_text()
    assert "{minimum: 0, maximum: 10000}" in text
    contract.write_text(text.replace("{minimum: 0, maximum: 10000}", "{minimum: 0, maximum: 1}"))
    source = (
        "from datetime import timedelta\n\nfrom tessera.integrations.airflow import dag_from_mesh\n\n"
        f"dag = dag_from_mesh({str(mesh)!r}, dag_id='tessera_broken',\n"
        "                    task_kwargs={'retries': 2, 'retry_delay': timedelta(seconds=1)})\n"
    )
    result, output, _ = _dag_test(airflow_home, "broken", source)
    tasks = result["tasks"]
    assert result["state"] == "failed"
    assert tasks["sales.orders"] == "failed"  # type: ignore[index]
    for downstream in ("sales.sales_performance", "finance.revenue", "customer_experience.customer_360_view"):
        assert tasks[downstream] == "upstream_failed", downstream  # type: ignore[index]
    for independent in (
        "customer_experience.customers",
        "finance.invoices",
        "customer_experience.web_engagement",
    ):
        assert tasks[independent] == "success", independent  # type: ignore[index]
    # the gate's message, naming the product, the rule and the column; not retried despite retries=2
    assert "sales.orders: publish refused by the quality gate" in output
    assert "amount.range: range on amount (minimum 0; maximum 1)" in output
    assert result["tries"]["sales.orders"] == 1, result["tries"]  # type: ignore[index]
    assert "AirflowFailException" in output
    with tessera.open(mesh) as opened:
        assert opened.ctx.catalog.versions("sales.orders") == []
        assert opened.ctx.catalog.versions("finance.revenue") == []


@needs_airflow
@pytest.mark.slow
def test_the_operator_snippet_builds_a_domain(airflow_home: Path, tmp_path: Path) -> None:
    mesh = _example_mesh(tmp_path / "operator")
    snippet = _airflow_snippets()[1]
    assert "TesseraBuildOperator(" in snippet
    result, output, _ = _dag_test(airflow_home, "operator", snippet.replace("/srv/meshes/example", str(mesh)))
    assert result["tasks"] == {"sales": "success"}, output[-6000:]
    summary = result["xcoms"]["sales"]  # type: ignore[index]
    assert {p["address"]: p["status"] for p in summary["products"]} == {
        "customer_experience.customers": "published",
        "sales.orders": "published",
        "sales.sales_performance": "published",
    }
    with tessera.open(mesh) as opened:
        assert opened.ctx.catalog.versions("finance.revenue") == []  # outside the selection


@needs_airflow
@pytest.mark.slow
def test_a_scheduled_run_builds_only_what_is_due(airflow_home: Path, tmp_path: Path) -> None:
    mesh = _example_mesh(tmp_path / "scheduled")
    source = (
        "from tessera.integrations.airflow import dag_from_mesh\n\n"
        f"dag = dag_from_mesh({str(mesh)!r}, dag_id='tessera_scheduled')\n"
    )
    first, output, _ = _dag_test(airflow_home, "scheduled", source)  # by hand: everything
    assert set(first["tasks"].values()) == {"success"}, output[-6000:]  # type: ignore[attr-defined]
    for name in ("sales/products/orders", "customer_experience/products/customers"):
        product = mesh / "domains" / name / "product.odps.yaml"
        product.write_text(product.read_text().replace("value: hourly", "value: daily"))
    result, output, _ = _dag_test(airflow_home, "scheduled", source, scheduled_at="2026-12-07T01:00:00+00:00")
    assert result["tasks"] == {
        "sales.orders": "skipped",  # daily: not at 01:00
        "customer_experience.customers": "skipped",
        "sales.sales_performance": "skipped",  # daily, and neither input was built
        "customer_experience.web_engagement": "success",  # hourly
        "finance.invoices": "success",
        "customer_experience.customer_360_view": "success",  # hourly, after a skipped input
        "finance.revenue": "success",  # daily, but it reads invoices, built in this run
    }, output[-6000:]
    assert "sales.orders: not due at 2026-12-07" in output


@needs_airflow
def test_a_wrong_selector_fails_the_task_with_tesseras_message(airflow_home: Path, example: Path) -> None:
    code = (
        "from tessera.integrations.airflow import AirflowFailException\n"
        "from tessera.integrations.airflow import TesseraBuildOperator\n"
        f"op = TesseraBuildOperator(task_id='t', selector='sales.ordrs', mesh_path={str(example)!r})\n"
        "try:\n    op.execute({})\nexcept AirflowFailException as exc:\n    print('FAILED', exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=_env(airflow_home, airflow_home / "dags"),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "FAILED selector 'sales.ordrs'" in done.stdout and "sales.orders" in done.stdout, done.stdout
