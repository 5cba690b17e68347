"""Consumer-driven contracts: consumers' expectations of a product gate its publishes, show in ``contract
diff`` and ``plan``, and are listed by ``tessera consumers`` (CLI, SDK, REST)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml

import tessera
from tessera.errors import AccessDeniedError, NotFoundError, QualityGateError, SpecError
from tests.fixtures.meshkit import ORDERS_CONTRACT, orders_table, product_doc, run_cli, write

REVENUE_OWNER = "omar@example.com"

REVENUE_CONTRACT: dict[str, Any] = {
    "apiVersion": "v3.1.0",
    "kind": "DataContract",
    "id": "finance-revenue",
    "name": "revenue",
    "version": "1.0.0",
    "status": "active",
    "schema": [
        {
            "name": "revenue",
            "physicalType": "table",
            "properties": [
                {"name": "country", "logicalType": "string", "required": True, "primaryKey": True},
                {"name": "revenue", "logicalType": "number", "physicalType": "decimal(18,2)"},
            ],
        }
    ],
    "slaProperties": [{"property": "frequency", "value": 1, "unit": "d"}],
}

#: finance.revenue reports DE and FR only: an order from elsewhere would be left out of its figures.
EXPECTS: dict[str, Any] = {
    "properties": [
        {"name": "amount", "logicalType": "number", "required": True},
        {"name": "country", "logicalType": "string", "enum": [{"value": "DE"}, {"value": "FR"}]},
    ],
    "quality": [
        {
            "type": "sql",
            "name": "has_orders",
            "query": "SELECT count(*) FROM {object}",
            "mustBeGreaterThan": 0,
        }
    ],
}


def add_revenue(root: Path, expectations: Any = EXPECTS, *, version: str = "1.0.0") -> None:
    """finance.revenue reads sales.orders (on ``version``'s major) and declares ``expectations`` of it."""
    write(
        root / "domains/finance/domain.yaml",
        {"name": "finance", "description": "Finance", "owner": REVENUE_OWNER},
    )
    port: dict[str, Any] = {"name": "sales.orders", "version": version, "contractId": "sales-orders"}
    if expectations is not None:
        port["customProperties"] = [{"property": "tessera.expectations", "value": expectations}]
    doc = product_doc("finance", "revenue", REVENUE_CONTRACT, [port])
    doc["team"] = {"members": [{"username": REVENUE_OWNER, "role": "product owner"}]}
    base = root / "domains/finance/products/revenue"
    write(base / "contract.odcs.yaml", REVENUE_CONTRACT)
    write(base / "product.odps.yaml", doc)
    (base / "transform.sql").write_text(
        "SELECT country, CAST(sum(amount) AS DECIMAL(18, 2)) AS revenue FROM sales.orders GROUP BY country\n"
    )


def de_fr(table: pa.Table) -> pa.Table:
    """The orders with every country DE or FR: what the producer's contract allows, and finance.revenue too."""
    countries = ["DE" if c == "US" else c for c in table.column("country").to_pylist()]
    return table.set_column(table.schema.get_field_index("country"), "country", pa.array(countries))


def set_orders_contract(root: Path, contract: dict[str, Any]) -> None:
    base = root / "domains/sales/products/orders"
    inputs = [{"name": "source.pos.orders", "version": "1.0.0", "contractId": "source.pos.orders"}]
    write(base / "contract.odcs.yaml", contract)
    write(base / "product.odps.yaml", product_doc("sales", "orders", contract, inputs))


def test_a_publish_that_breaks_a_consumer_is_refused_naming_it_and_relaxing_lets_it_publish(
    mesh_on: Path,
) -> None:
    add_revenue(mesh_on)
    with tessera.open(mesh_on) as mesh:
        mesh.publish(
            "sales.orders", de_fr(orders_table())
        )  # meets the producer's contract and the consumer's
        before = mesh.ctx.catalog.versions("sales.orders")
        tried = mesh.test("sales.orders", orders_table())  # `tessera test`: the gate alone says so first
        assert [c.name for c in tried.blocking] == ["expects.finance.revenue.country.enum"]
        # US orders: within the producer's own contract (country enum DE, FR, US), outside finance.revenue's
        with pytest.raises(QualityGateError) as refused:
            mesh.publish("sales.orders", orders_table())
        message = str(refused.value)
        assert "it would break consumer finance.revenue" in message and REVENUE_OWNER in message
        assert "enum on country" in message and "Nothing was published" in message
        run = refused.value.run
        assert run is not None
        failed = [c for c in run.checks if c.blocking]
        assert [c.name for c in failed] == ["expects.finance.revenue.country.enum"]
        assert failed[0].samples and all("email" not in s for s in failed[0].samples)  # pii left out
        assert any(
            c.name == "expects.finance.revenue.table.has_orders" and c.outcome == "passed" for c in run.checks
        )
        assert mesh.ctx.catalog.versions("sales.orders") == before  # nothing committed
        latest = mesh.consumers("sales.orders").latest  # the refused run, as the product page shows it
        assert latest["finance.revenue"]["outcome"] == "failed" and not latest["finance.revenue"]["published"]
        assert "enum on country" in latest["finance.revenue"]["failed"][0]
        assert latest["sales.daily"]["outcome"] == "passed"
    relaxed = json.loads(json.dumps(EXPECTS))
    relaxed["properties"][1]["enum"].append({"value": "US"})
    add_revenue(mesh_on, relaxed)
    with tessera.open(mesh_on) as mesh:
        result = mesh.publish("sales.orders", orders_table())
        assert result.run.passed and result.delta_version == 1


def test_a_type_the_consumer_cannot_read_is_refused_and_shown_by_diff_and_plan(mesh_dir: Path) -> None:
    expects = {"properties": [{"name": "order_id", "logicalType": "integer", "physicalType": "bigint"}]}
    add_revenue(mesh_dir, expects)
    with tessera.open(mesh_dir) as mesh:
        mesh.apply()
        mesh.publish("sales.orders", orders_table())
    widened = json.loads(json.dumps(ORDERS_CONTRACT))
    widened["version"] = "1.1.0"  # integer -> number widens: compatible for the version gate
    widened["schema"][0]["properties"][0].update(logicalType="number", physicalType="double")
    set_orders_contract(mesh_dir, widened)

    result = run_cli("-C", str(mesh_dir), "contract", "diff", "sales.orders", "sales.orders")
    assert result.returncode == 1, result.stdout + result.stderr  # no breaking change, but a broken consumer
    assert "finance.revenue (product, owner omar@example.com) would break" in result.stdout
    assert "column 'order_id': expects integer, but the column is number (double)" in result.stdout
    assert "sales.daily (product, owner owner@example.com): relies on sales.orders" in result.stdout
    as_json = json.loads(
        run_cli("-C", str(mesh_dir), "contract", "diff", "sales.orders", "sales.orders", "--json").stdout
    )
    by_name = {c["consumer"]: c for c in as_json["consumers"]}
    assert by_name["sales.daily"]["breaks"] == [] and by_name["finance.revenue"]["owner"] == REVENUE_OWNER
    assert by_name["finance.revenue"]["breaks"][0].startswith("column 'order_id'")

    with tessera.open(mesh_dir) as mesh:
        plan = mesh.plan()
        assert any(s.target == "contract" and s.name == "sales.orders" for s in plan.steps)
        broken = {i.consumer: i.breaks for i in plan.consumers}
        assert set(broken) == {"finance.revenue", "sales.daily"} and broken["finance.revenue"]
        assert plan.as_dict()["consumers"][0]["address"] == "sales.orders"
        unmet = mesh.consumers("sales.orders").unmet  # what the product page shows the producer
        assert list(unmet) == ["finance.revenue"] and "order_id" in unmet["finance.revenue"][0]
        with pytest.raises(
            QualityGateError, match=r"finance.revenue \(owner omar@example.com\) expects column"
        ):
            mesh.publish("sales.orders", orders_table())
    shown = run_cli("-C", str(mesh_dir), "plan")
    assert "would break" in shown.stdout and "order_id" in shown.stdout, shown.stdout + shown.stderr


def test_a_consumer_pinned_to_a_major_does_not_block_a_new_major(mesh_dir: Path) -> None:
    add_revenue(mesh_dir, version="1.0.0")
    with tessera.open(mesh_dir) as mesh:
        mesh.publish("sales.orders", de_fr(orders_table()))
    v2 = json.loads(json.dumps(ORDERS_CONTRACT))
    v2["version"] = "2.0.0"
    v2["schema"][0]["properties"] = [p for p in v2["schema"][0]["properties"] if p["name"] != "email"]
    set_orders_contract(mesh_dir, v2)
    with tessera.open(mesh_dir) as mesh:
        assert {e.major for e in mesh.consumers("sales.orders").consumers} == {1}
        # US orders break finance.revenue's expectations of v1; v2 is a new product it has not chosen yet
        result = mesh.publish("sales.orders", orders_table().drop_columns(["email"]))
        assert result.major == 2 and not any(c.name.startswith("expects.") for c in result.run.checks)


def test_column_lineage_is_an_expectation_without_being_written(mesh_dir: Path) -> None:
    add_revenue(mesh_dir, expectations=None)  # no tessera.expectations: its SQL reads country and amount
    with tessera.open(mesh_dir) as mesh:
        mesh.publish("sales.orders", orders_table())
        listed = {c.consumer: c for c in mesh.consumers("sales.orders").consumers}
        read = {e.name: (e.column.logical_type, e.lineage) for e in listed["finance.revenue"].columns}
        assert read == {"amount": ("number", True), "country": ("string", True)}
    renamed = json.loads(json.dumps(ORDERS_CONTRACT))
    renamed["version"] = "1.1.0"  # adding a column is compatible; the consumers read "amount" by name
    renamed["schema"][0]["properties"].append({"name": "net_amount", "logicalType": "number"})
    set_orders_contract(mesh_dir, renamed)
    with tessera.open(mesh_dir) as mesh:
        result = mesh.publish(
            "sales.orders", orders_table().append_column("net_amount", pa.array([1.0] * 100))
        )
        names = {c.name for c in result.run.checks if c.name.startswith("expects.finance.revenue.")}
        assert names == {"expects.finance.revenue.amount.schema", "expects.finance.revenue.country.schema"}


def test_an_external_consumer_is_registered_gates_publishes_and_is_unregistered(
    mesh_on: Path, tmp_path: Path
) -> None:
    file = tmp_path / "risk.yaml"
    file.write_text(
        yaml.safe_dump(
            {
                "properties": [{"name": "amount", "logicalType": "number", "required": True}],
                "quality": [{"metric": "rowCount", "mustBeGreaterOrEqualTo": 50}],
            }
        )
    )
    with tessera.open(mesh_on) as mesh:
        mesh.publish("sales.orders", orders_table())
    done = run_cli(
        "-C",
        str(mesh_on),
        "consumers",
        "register",
        "risk-office",
        "--of",
        "sales.orders@1",
        "--owner",
        "risk-team",
        "--file",
        str(file),
    )
    assert done.returncode == 0 and "risk-office registered" in done.stdout, done.stdout + done.stderr
    with tessera.open(mesh_on) as mesh:
        listed = mesh.consumers("sales.orders").as_dict()
        external = next(c for c in listed["consumers"] if c["kind"] == "external")
        assert (
            external["consumer"] == "risk-office"
            and external["owner"] == "risk-team"
            and external["major"] == 1
        )
        assert external["registered_by"] == "local" and external["columns"][0]["name"] == "amount"
        with pytest.raises(QualityGateError, match=r"risk-office \(owner risk-team\) expects rowCount"):
            mesh.publish("sales.orders", orders_table(20))
        actions = [e["action"] for e in mesh.ctx.catalog.audit_events()]
        assert "consumer.register" in actions
    shown = run_cli("-C", str(mesh_on), "consumers", "sales.orders", env={"COLUMNS": "300"})
    assert "risk-office" in shown.stdout and "risk-team" in shown.stdout and "sales.daily" in shown.stdout
    gone = run_cli("-C", str(mesh_on), "consumers", "unregister", "risk-office", "--of", "sales.orders")
    assert gone.returncode == 0, gone.stderr
    with tessera.open(mesh_on) as mesh:
        assert mesh.publish("sales.orders", orders_table(20)).run.passed
        with pytest.raises(NotFoundError):
            mesh.unregister_consumer("risk-office", "sales.orders")
        assert "consumer.unregister" in [e["action"] for e in mesh.ctx.catalog.audit_events()]


def test_registering_needs_publish_rights_on_the_product(mesh_dir: Path, tmp_path: Path) -> None:
    file = tmp_path / "e.yaml"
    file.write_text("properties:\n  - name: amount\n")
    with tessera.open(mesh_dir) as mesh:
        mesh.apply()
        for name in ("eve", "pat"):
            mesh.access.add_principal(name)
        mesh.access.grant("read", "sales.orders", "eve")
        mesh.access.grant("publish", "sales.orders", "pat")
        eve, pat = (mesh.access.create_token(n)[1] for n in ("eve", "pat"))
    with tessera.open(mesh_dir, token=eve) as mesh:
        with pytest.raises(AccessDeniedError, match="publish"):
            mesh.register_consumer("bi", "sales.orders", owner="bi-team", file=file)
        assert mesh.consumers("sales.orders").consumers  # a reader sees who relies on what
    with tessera.open(mesh_dir, token=pat) as mesh:
        assert mesh.register_consumer("bi", "sales.orders", owner="bi-team", file=file).registered_by == "pat"


def test_bad_fragments_are_reported_with_file_and_line(mesh_dir: Path, tmp_path: Path) -> None:
    bad = {
        "properties": [
            {"name": "amount", "logicalType": "numbr"},
            {"name": "country", "quality": [{"metric": "nullValue", "mustBe": 0}]},
        ],
        "qualty": [],
    }
    add_revenue(mesh_dir, bad)
    with pytest.raises(SpecError) as raised:
        with tessera.open(mesh_dir) as mesh:
            mesh.validate()
    file = "domains/finance/products/revenue/product.odps.yaml"
    text = (mesh_dir / file).read_text().splitlines()
    problems = {p.key: p for p in raised.value.problems if p.file.endswith(file)}
    typo = problems["inputPorts[0].customProperties[0].value.properties[0].logicalType"]
    assert "numbr" in text[typo.line - 1] and "did you mean 'number'" in typo.message
    assert "inputPorts[0].customProperties[0].value.qualty" in problems
    assert any(k.endswith("properties[1].quality[0].metric") for k in problems)
    shown = run_cli("-C", str(mesh_dir), "validate")
    assert shown.returncode == 2 and f"{file}:{typo.line}" in shown.stdout + shown.stderr
    assert "Traceback" not in shown.stderr

    external = tmp_path / "bad.yaml"
    external.write_text("properties:\n  - name: amount\n    required: maybe\n")
    add_revenue(mesh_dir)
    done = run_cli(
        "-C",
        str(mesh_dir),
        "consumers",
        "register",
        "bi",
        "--of",
        "sales.orders",
        "--owner",
        "x",
        "--file",
        str(external),
    )
    assert done.returncode == 2 and f"{external}:3" in done.stderr + done.stdout, done.stderr
    with tessera.open(mesh_dir) as mesh:
        assert all(c.kind == "product" for c in mesh.consumers("sales.orders").consumers)  # nothing stored


def test_rest_and_the_remote_sdk_list_consumers_like_the_sdk(mesh_dir: Path) -> None:
    from tessera.server import create_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    add_revenue(mesh_dir)
    with tessera.open(mesh_dir) as mesh:
        mesh.apply()
        expected = mesh.consumers("sales.orders").as_dict()
    with TestClient(create_app(mesh_dir), base_url="http://127.0.0.1") as client:
        body = client.get("/api/v1/products/sales/orders/consumers").json()
        assert body == json.loads(json.dumps(expected, default=str))
        assert {c["consumer"] for c in body["consumers"]} == {"finance.revenue", "sales.daily"}
        revenue = next(c for c in body["consumers"] if c["consumer"] == "finance.revenue")
        assert revenue["owner"] == REVENUE_OWNER and revenue["expectations"] == EXPECTS
        assert client.get("/api/v1/products/sales/nothing/consumers").status_code == 404
    from tests.fixtures.serverkit import running_server

    with running_server(mesh_dir) as url, tessera.open(url) as remote:  # the remote SDK: the same answer
        assert json.loads(json.dumps(remote.consumers("sales.orders").as_dict(), default=str)) == body


@pytest.mark.slow
def test_the_example_mesh_declares_an_expectation_its_data_meets(tmp_path: Path) -> None:
    root = tmp_path / "example"
    for args in (("init", str(root), "--example", "--scale", "0.05"), ("-C", str(root), "apply")):
        assert run_cli(*args).returncode == 0
    built = run_cli("-C", str(root), "build", "--json")
    assert built.returncode == 0, built.stdout + built.stderr
    assert {o["status"] for o in json.loads(built.stdout)} == {"published"}
    listed = json.loads(run_cli("-C", str(root), "consumers", "sales.orders", "--json").stdout)
    revenue = next(c for c in listed["consumers"] if c["consumer"] == "finance.revenue")
    assert revenue["owner"] and revenue["expectations"]["properties"]
    assert {c["from"] for c in revenue["columns"]} == {"declared", "lineage"}


def test_validate_warns_where_an_expectation_asks_what_the_producers_contract_lacks(mesh_dir: Path) -> None:
    expects = {
        "properties": [
            {"name": "discount", "logicalType": "number"},
            {"name": "country", "logicalType": "integer"},
        ]
    }
    add_revenue(mesh_dir, expects)
    from tessera.platform.governing.validation import validate_mesh

    found = validate_mesh(mesh_dir)
    assert found.valid  # a warning: the consumer's file is fine; the producer's publishes would be refused
    file = "domains/finance/products/revenue/product.odps.yaml"
    lines = (mesh_dir / file).read_text().splitlines()
    warned = {w.key: w for w in found.warnings if w.file == file}
    gone = warned["inputPorts[0].customProperties[0].value.properties[0]"]
    assert "'discount': not in the contract" in gone.message and "discount" in lines[gone.line - 1]
    typed = warned["inputPorts[0].customProperties[0].value.properties[1]"]
    assert "expects integer, but the column is string" in typed.message
    shown = run_cli("-C", str(mesh_dir), "validate")
    assert shown.returncode == 0 and f"{file}:{gone.line}" in shown.stdout + shown.stderr


# --- hostile expectations: a consumer's SQL rules run on the producer's gate ----------------------------------
def _rule(name: str, query: str) -> dict[str, Any]:
    return {"type": "sql", "name": name, "query": query, "mustBe": 0}


def test_a_consumers_rule_cannot_change_what_the_next_rules_judge(mesh_dir: Path) -> None:
    """One SELECT a rule: a statement that replaced the candidate with no rows would make every later check
    judge nothing (and pass)."""
    empty = "CREATE OR REPLACE VIEW __tessera__.candidate AS SELECT * FROM __arrow_0 WHERE false; SELECT 0"
    rules = [_rule("empties", empty), _rule("no_rows", "SELECT count(*) FROM {object}")]
    add_revenue(mesh_dir, {"properties": [{"name": "amount", "logicalType": "number"}], "quality": rules})
    with tessera.open(mesh_dir) as mesh, pytest.raises(QualityGateError) as refused:
        mesh.publish("sales.orders", de_fr(orders_table()))
    assert refused.value.run is not None
    checks = {c.name: c for c in refused.value.run.checks}
    assert "is one SELECT, not CREATE, SELECT" in checks["expects.finance.revenue.table.empties"].message
    assert checks["expects.finance.revenue.table.no_rows"].measured == 100  # the candidate as it was


def test_a_consumers_rule_never_quotes_the_producers_values(mesh_dir: Path) -> None:
    """The consumers listing (any identified caller) and the refusal show each rule's message: a value of the
    data, least of all a sensitive one (email), must not come out through an error."""
    rules = [
        _rule("cast", "SELECT CAST(email AS INT) FROM {object}"),
        _rule("text", "SELECT email FROM {object}"),
    ]
    add_revenue(mesh_dir, {"properties": [{"name": "amount", "logicalType": "number"}], "quality": rules})
    with tessera.open(mesh_dir) as mesh:
        with pytest.raises(QualityGateError) as refused:
            mesh.publish("sales.orders", de_fr(orders_table()))
        failed = mesh.consumers("sales.orders").latest["finance.revenue"]["failed"]
    assert len(failed) == 2 and "Could not convert string '…' to INT32" in " ".join(failed)
    assert "@example.com" not in str(refused.value).replace(REVENUE_OWNER, "")
    assert not any("u1@" in m or "example.com'" in m for m in failed)
