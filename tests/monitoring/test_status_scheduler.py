"""SLA monitoring and the scheduler on a real mesh: incidents opened and resolved, webhooks announced,
products built when their schedule says."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import tessera
from tessera.platform.observability.monitor import check
from tessera.platform.publishing.schedule import run_scheduler
from tests.fixtures.meshkit import ORDERS_CONTRACT, orders_table, product_doc, write
from tests.monitoring.test_monitoring import Receiver, receiver  # noqa: F401 - the local webhook receiver fixture


def _with_freshness(mesh_dir: Path, hook: str | None = None) -> None:
    contract = json.loads(json.dumps(ORDERS_CONTRACT))
    contract["schema"][0]["properties"].append({"name": "ts", "logicalType": "timestamp"})
    contract["slaProperties"].append(
        {"property": "freshness", "value": 1, "unit": "d", "element": "orders.ts"}
    )
    write(mesh_dir / "domains/sales/products/orders/contract.odcs.yaml", contract)
    if hook:
        mesh_yaml = mesh_dir / "mesh.yaml"
        mesh_yaml.write_text(mesh_yaml.read_text() + f"monitoring:\n  webhooks:\n    - url: {hook}\n")


def _orders_at(moment: datetime, n: int = 100):  # type: ignore[no-untyped-def]
    import pyarrow as pa

    return orders_table(n).append_column("ts", pa.array([moment] * n, pa.timestamp("us", tz="UTC")))


def test_breaches_open_and_resolve_incidents_and_are_announced(mesh_dir: Path, receiver: Receiver) -> None:  # noqa: F811
    _with_freshness(mesh_dir, receiver.url)
    with tessera.open(mesh_dir) as mesh:
        mesh.publish("sales.orders", _orders_at(datetime.now(UTC) - timedelta(days=2)))
        later = datetime.now(UTC)
        [status] = check(mesh.ctx, ["sales.orders"], now=later)
        assert status.state == "breach" and "freshness" in status.breaches
        assert check(mesh.ctx, ["sales.orders"], now=later)[0].state == "breach"  # persisting: not reopened
        [incident] = mesh.ctx.catalog.incidents(open_only=True)
        assert incident["address"] == "sales.orders" and incident["kind"] == "freshness"
        mesh.publish("sales.orders", _orders_at(datetime.now(UTC), 50))
        assert check(mesh.ctx, ["sales.orders"])[0].state == "ok"
        assert mesh.ctx.catalog.incidents(open_only=True) == []
        assert mesh.ctx.catalog.incidents()[0]["resolved_at"] is not None
    sent = [json.loads(body) for _, _, body in receiver.requests]
    assert [(e["event"], e["product"], e["kind"]) for e in sent] == [
        ("incident.opened", "sales.orders", "freshness"),
        ("incident.resolved", "sales.orders", "freshness"),
    ]
    # the freshness SLO burned its budget (stale from the first publish on): not an event the old
    # monitoring.webhooks receive (a notifications channel does, tests/monitoring/test_slo.py)
    assert not [e for e in sent if e["event"] == "slo.burn"]


def test_scheduler_builds_due_products_in_dag_order_once(mesh_dir: Path) -> None:
    base = mesh_dir / "domains/sales/products/orders"
    doc = product_doc(
        "sales",
        "orders",
        ORDERS_CONTRACT,
        [{"name": "source.pos.orders", "version": "1.0.0", "contractId": "source.pos.orders"}],
    )
    doc["customProperties"].append({"property": "tessera.updateFrequency", "value": "hourly"})
    write(base / "product.odps.yaml", doc)
    lines: list[str] = []
    with tessera.open(mesh_dir) as mesh:
        built = run_scheduler(mesh.ctx, once=True, report=lines.append, sleep=lambda _: None)
        assert built == 1
        assert "1 of 3 products on a schedule; due now: sales.orders" in lines[0]
        assert [line.split()[2:4] for line in lines[1:] if "sales." in line] == [
            ["sales.orders", "published"],
            ["sales.daily", "published"],
        ]
        assert (
            run_scheduler(mesh.ctx, once=True, report=lines.append, sleep=lambda _: None) == 0
        )  # not due again
        hour_later = datetime.now(UTC) + timedelta(hours=1, minutes=1)
        again = run_scheduler(
            mesh.ctx, once=True, now=lambda: hour_later, report=lines.append, sleep=lambda _: None
        )
        assert again == 1


def test_status_can_fail_a_ci_job_on_breach(mesh_dir: Path) -> None:
    import subprocess
    import sys

    _with_freshness(mesh_dir)
    with tessera.open(mesh_dir) as mesh:
        mesh.publish("sales.orders", _orders_at(datetime.now(UTC) - timedelta(days=2)))
    cmd = [sys.executable, "-m", "tessera.cli", "-C", str(mesh_dir), "status", "sales.orders"]
    assert subprocess.run(cmd, capture_output=True, timeout=120).returncode == 0
    failing = subprocess.run([*cmd, "--fail-on-breach"], capture_output=True, text=True, timeout=120)
    assert failing.returncode == 1 and "breach" in failing.stdout
