"""Builds record column lineage in the catalog and emit OpenLineage events that validate against the spec."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import tessera
from tests.fixtures.meshkit import product_doc, write
from tests.lineage.test_openlineage import SPEC, Spec
from tests.monitoring.test_monitoring import receiver  # noqa: F401 - the local HTTP receiver fixture


def test_build_records_column_lineage_and_lineage_queries(mesh_dir: Path) -> None:
    with tessera.open(mesh_dir) as mesh:
        mesh.apply()
        mesh.build(jobs=1)
        graph = mesh.lineage("sales.daily.revenue", direction="upstream")
        assert ("sales.orders.amount", "sales.daily.revenue", "aggregation") in graph.edges
        assert ("source.pos.orders.amount", "sales.orders.amount", "identity") in graph.edges
        down = mesh.lineage("sales.orders", direction="downstream")
        assert down.nodes == {"sales.orders", "sales.daily"}
        assert "graph LR" in down.mermaid() and "digraph" in down.dot()
        assert mesh.lineage("sales.daily.revenue", direction="upstream", depth=1).nodes == {
            "sales.daily.revenue",
            "sales.orders.amount",
        }


def test_a_breaking_change_lists_the_downstream_columns_it_hits(mesh_dir: Path) -> None:
    from tessera.errors import VersionGateError
    from tests.fixtures.meshkit import ORDERS_CONTRACT

    with tessera.open(mesh_dir) as mesh:
        mesh.build(jobs=1)
    contract = json.loads(json.dumps(ORDERS_CONTRACT))
    contract["schema"][0]["properties"][3]["physicalType"] = "decimal(8,2)"
    write(mesh_dir / "domains/sales/products/orders/contract.odcs.yaml", contract)
    with tessera.open(mesh_dir) as mesh:
        [outcome] = mesh.build(["sales.orders"], jobs=1)
        assert outcome.status == "refused"
        assert "sales.daily.revenue" in outcome.message
        with pytest.raises(VersionGateError, match=r"sales\.daily\.revenue"):
            mesh.publish("sales.orders", mesh.read("sales.orders"))


def test_build_events_validate_against_the_openlineage_spec(mesh_dir: Path) -> None:
    if not SPEC.is_dir():
        pytest.skip(f"the vendored OpenLineage spec is not next to the repo ({SPEC})")
    spec = Spec(SPEC)
    (mesh_dir / "domains/sales/products/daily/transform.sql").write_text("SELECT nope FROM sales.orders\n")
    with tessera.open(mesh_dir) as mesh:
        outcomes = {o.address: o.status for o in mesh.build(jobs=1)}
    assert outcomes["sales.orders"] == "published" and outcomes["sales.daily"] == "failed"
    events = [
        json.loads(line) for line in (mesh_dir / ".tessera/openlineage.ndjson").read_text().splitlines()
    ]
    by_job = {(e["job"]["name"], e["eventType"]) for e in events}
    assert {("sales.orders.build", "START"), ("sales.orders.build", "COMPLETE")} <= by_job
    assert {("sales.daily.build", "START"), ("sales.daily.build", "FAIL")} <= by_job
    for event in events:
        spec.validate_event(event)
    complete = next(e for e in events if e["eventType"] == "COMPLETE")
    assert complete["outputs"][0]["facets"]["columnLineage"]["fields"]["amount"]["inputFields"][0][
        "name"
    ] == ("source.pos.orders")


def test_an_unreachable_lineage_endpoint_warns_and_publishes(mesh_dir: Path) -> None:
    mesh_yaml = mesh_dir / "mesh.yaml"
    mesh_yaml.write_text(mesh_yaml.read_text() + "lineage:\n  transport: http\n  url: http://127.0.0.1:9\n")
    result = subprocess.run(
        [sys.executable, "-m", "tessera.cli", "-C", str(mesh_dir), "build", "sales.orders"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("OpenLineage events not delivered") == 1  # warned once, not per event
    assert "sales.orders:" in result.stderr and "kept in .tessera/openlineage.ndjson" in result.stderr
    kept = (mesh_dir / ".tessera/openlineage.ndjson").read_text().splitlines()
    assert [json.loads(line)["eventType"] for line in kept] == ["START", "COMPLETE"]
    assert "Traceback" not in result.stderr
    with tessera.open(mesh_dir) as mesh:
        assert mesh.read("sales.orders").num_rows == 100


def test_sdk_lineage_point_in_time_and_contract_diff_impact(mesh_dir: Path) -> None:
    from tests.fixtures.meshkit import ORDERS_CONTRACT

    with tessera.open(mesh_dir) as mesh:
        mesh.build(jobs=1)
        first = mesh.product("sales.daily").lineage()
        assert {"from": "sales.orders.amount", "to": "sales.daily.revenue", "kind": "aggregation"} in first[
            "columns"
        ]
        assert first["upstream"] == ["sales.orders"]
    sql = mesh_dir / "domains/sales/products/daily/transform.sql"
    sql.write_text(
        "SELECT country, count(*) AS orders, sum(order_id) AS revenue FROM sales.orders GROUP BY country\n"
    )
    with tessera.open(mesh_dir) as mesh:
        mesh.build(["sales.daily"], jobs=1)
        now = mesh.lineage("sales.daily.revenue", direction="upstream", depth=1)
        then = mesh.lineage("sales.daily.revenue", direction="upstream", depth=1, as_of="v0")
        assert now.edges == {("sales.orders.order_id", "sales.daily.revenue", "aggregation")}
        assert then.edges == {("sales.orders.amount", "sales.daily.revenue", "aggregation")}  # as of v0
    contract = json.loads(json.dumps(ORDERS_CONTRACT))
    contract["version"] = "2.0.0"
    contract["schema"][0]["properties"] = [
        p for p in contract["schema"][0]["properties"] if p["name"] != "country"
    ]
    write(mesh_dir / "domains/sales/products/orders/contract.odcs.yaml", contract)
    inputs = [{"name": "source.pos.orders", "version": "1.0.0", "contractId": "source.pos.orders"}]
    write(
        mesh_dir / "domains/sales/products/orders/product.odps.yaml",
        product_doc("sales", "orders", contract, inputs),
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tessera.cli",
            "-C",
            str(mesh_dir),
            "contract",
            "diff",
            "sales.orders",
            "sales.orders",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert "country" in result.stdout and "sales.daily.country" in result.stdout


def test_build_events_go_to_an_http_lineage_endpoint(mesh_dir: Path, receiver) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    base = receiver.url.rsplit("/hooks", 1)[0]
    mesh_yaml = mesh_dir / "mesh.yaml"
    mesh_yaml.write_text(mesh_yaml.read_text() + f"lineage:\n  transport: http\n  url: {base}\n")
    with tessera.open(mesh_dir) as mesh:
        mesh.build(["sales.orders"], jobs=1)
    posted = [(path, json.loads(body)) for path, _, body in receiver.requests]
    assert [p for p, _ in posted] == ["/api/v1/lineage", "/api/v1/lineage"]
    assert [e["eventType"] for _, e in posted] == ["START", "COMPLETE"]
    assert posted[1][1]["outputs"][0]["name"] == "sales.orders"
