"""Building the DAG: selectors, skipping what is unchanged, parallel workers, failures that stop a branch."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import tessera
from tessera.errors import DataError
from tessera.platform.publishing.selectors import select


def statuses(outcomes: list) -> dict[str, str]:
    return {o.address: o.status for o in outcomes}


def test_selectors(mesh_dir: Path) -> None:
    with tessera.open(mesh_dir) as mesh:
        spec = mesh.spec
        assert select(spec, ["sales.orders"]) == {"sales.orders"}
        assert select(spec, ["sales.orders+"]) == {"sales.orders", "sales.daily"}
        assert select(spec, ["+sales.daily"]) == {"sales.orders", "sales.daily"}
        assert select(spec, ["domain:crm"]) == {"crm.customers"}
        assert select(spec, ["tag:sales"]) == {"sales.orders", "sales.daily"}
        # graph operators apply to domain and tag selectors as well
        assert select(spec, ["+domain:sales"]) == select(spec, ["+sales.daily"])
        assert select(spec, ["tag:sales+"]) == {"sales.orders", "sales.daily"}
        assert select(spec, ["crm.customers+"]) == select(spec, ["domain:crm+"])
        for bad in ("sales.nope+", "domain:nope", "tag:nope", "+tag:nope+"):
            with pytest.raises(DataError, match="nope"):
                select(spec, [bad])


def test_jobs_must_be_positive(mesh_dir: Path) -> None:
    with tessera.open(mesh_dir) as mesh, pytest.raises(DataError, match="--jobs must be 1 or more"):
        mesh.build(jobs=0)


def test_unchanged_products_are_skipped_until_something_changes(mesh_dir: Path) -> None:
    with tessera.open(mesh_dir) as mesh:
        first = statuses(mesh.build(jobs=1))
        assert first == {"crm.customers": "skipped", "sales.orders": "published", "sales.daily": "published"}
        assert statuses(mesh.build(jobs=1))["sales.daily"] == "unchanged"
        assert statuses(mesh.build(["sales.daily"], full_refresh=True, jobs=1))["sales.daily"] == "published"
    sql = mesh_dir / "domains/sales/products/daily/transform.sql"
    sql.write_text(sql.read_text().replace("GROUP BY country", "GROUP BY country ORDER BY country"))
    with tessera.open(mesh_dir) as mesh:
        again = statuses(mesh.build(jobs=1))
        assert again["sales.orders"] == "unchanged" and again["sales.daily"] == "published"


def test_a_failed_product_stops_its_branch_only(mesh_dir: Path) -> None:
    (mesh_dir / "domains/sales/products/orders/transform.sql").write_text(
        "SELECT order_id, customer_id, email, amount, country / 0 AS country FROM source.pos.orders\n"
    )
    with tessera.open(mesh_dir) as mesh:
        outcomes = {o.address: o for o in mesh.build(jobs=1)}
        assert outcomes["sales.orders"].status == "failed"
        assert "sales.orders" in outcomes["sales.orders"].message
        assert (
            outcomes["sales.daily"].status == "skipped" and "sales.orders" in outcomes["sales.daily"].message
        )
        assert mesh.ctx.catalog.versions("sales.orders") == []


@pytest.mark.slow
def test_independent_products_build_in_spawned_workers(mesh_dir: Path) -> None:
    from tests.fixtures.meshkit import ORDERS_CONTRACT, product_doc, write

    base = mesh_dir / "domains/sales/products/orders2"
    contract = dict(ORDERS_CONTRACT, id="sales-orders2")
    write(base / "contract.odcs.yaml", contract)
    inputs = [{"name": "source.pos.orders", "version": "1.0.0", "contractId": "source.pos.orders"}]
    write(base / "product.odps.yaml", product_doc("sales", "orders2", contract, inputs))
    (base / "transform.sql").write_text("SELECT * FROM source.pos.orders WHERE order_id > 50\n")
    with tessera.open(mesh_dir) as local:  # an enforcing mesh: the SDK's token must reach every worker
        local.access.add_principal("builder@example.com", "service")
        local.access.grant("admin", "mesh", "builder@example.com")
        _, token = local.access.create_token("builder@example.com")
    settings = mesh_dir / "mesh.yaml"
    settings.write_text(yaml.safe_dump({**yaml.safe_load(settings.read_text()), "access": {"enforce": True}}))
    with tessera.open(mesh_dir, token=token) as mesh:
        built = mesh.build(jobs=2)
        outcomes = statuses(built)
        assert (
            outcomes["sales.orders"] == outcomes["sales.orders2"] == outcomes["sales.daily"] == "published"
        ), [(o.address, o.status, o.message) for o in built]
        assert mesh.read("sales.orders2").num_rows == 50


def test_static_transform_problems_fail_their_product_only(mesh_dir: Path) -> None:
    from tests.fixtures.meshkit import DAILY_CONTRACT, product_doc, write

    base = mesh_dir / "domains/sales/products/broken"
    contract = dict(DAILY_CONTRACT, id="sales-broken")
    write(base / "contract.odcs.yaml", contract)
    inputs = [{"name": "sales.orders", "version": "1.0.0", "contractId": "sales-orders"}]
    write(base / "product.odps.yaml", product_doc("sales", "broken", contract, inputs))
    (base / "transform.sql").write_text("SELECT country,\n  count(* AS orders FROM sales.orders\n")
    with tessera.open(mesh_dir) as mesh:
        outcomes = {o.address: o for o in mesh.build(jobs=1)}
    assert outcomes["sales.broken"].status == "failed"
    assert "domains/sales/products/broken/transform.sql:2" in outcomes["sales.broken"].message
    assert outcomes["sales.orders"].status == outcomes["sales.daily"].status == "published"
    events = (mesh_dir / ".tessera/openlineage.ndjson").read_text()
    assert '"FAIL"' in events and "sales.broken.build" in events


def test_a_cycle_fails_its_products_and_the_rest_builds(mesh_dir: Path) -> None:
    import subprocess
    import sys

    from tests.fixtures.meshkit import CUSTOMERS_CONTRACT, product_doc, write

    for name, other in (("loop_a", "loop_b"), ("loop_b", "loop_a")):
        base = mesh_dir / f"domains/crm/products/{name}"
        contract = dict(CUSTOMERS_CONTRACT, id=f"crm-{name}")
        write(base / "contract.odcs.yaml", contract)
        inputs = [{"name": f"crm.{other}", "version": "1.0.0", "contractId": f"crm-{other}"}]
        write(base / "product.odps.yaml", product_doc("crm", name, contract, inputs))
        (base / "transform.sql").write_text(f"SELECT * FROM crm.{other}\n")
    validate = subprocess.run(
        [sys.executable, "-m", "tessera.cli", "-C", str(mesh_dir), "validate"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert validate.returncode == 2 and "cycle" in validate.stderr
    with tessera.open(mesh_dir) as mesh:
        outcomes = {o.address: o for o in mesh.build(jobs=1)}
    assert outcomes["crm.loop_a"].status == outcomes["crm.loop_b"].status == "failed"
    assert "cycle" in outcomes["crm.loop_a"].message
    assert outcomes["sales.orders"].status == outcomes["sales.daily"].status == "published"


def test_a_product_whose_files_do_not_load_fails_alone(mesh_dir: Path) -> None:
    """An unknown input port or an invalid schedule fails that product's build; validate refuses the mesh."""
    import json as _json

    from tests.fixtures.meshkit import DAILY_CONTRACT, product_doc, write

    base = mesh_dir / "domains/sales/products/odd"
    contract = dict(DAILY_CONTRACT, id="sales-odd")
    write(base / "contract.odcs.yaml", contract)
    doc = product_doc(
        "sales", "odd", contract, [{"name": "sales.nowhere", "version": "1.0.0", "contractId": "x"}]
    )
    doc["customProperties"].append({"property": "tessera.updateFrequency", "value": "61 * * * *"})
    write(base / "product.odps.yaml", doc)
    (base / "transform.sql").write_text("SELECT * FROM sales.nowhere\n")
    with tessera.open(mesh_dir) as mesh:
        outcomes = {o.address: o for o in mesh.build(jobs=1)}
    assert outcomes["sales.odd"].status == "failed"
    assert "sales.nowhere" in outcomes["sales.odd"].message and "61" in outcomes["sales.odd"].message
    assert outcomes["sales.orders"].status == outcomes["sales.daily"].status == "published"
    events = [
        _json.loads(line) for line in (mesh_dir / ".tessera/openlineage.ndjson").read_text().splitlines()
    ]
    assert ("sales.odd.build", "FAIL") in {(e["job"]["name"], e["eventType"]) for e in events}
